/** Which Authorization the model runner is sent: a configured header, in any case, wins over URL credentials; never two. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DmrReceiver } from '../../../src/receivers/docker_model_runner/index.js';
import { dmrReceiverConfigSchema } from '../../../src/receivers/docker_model_runner/config.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { CollectingConsumer, RecordingLogger } from '../../helpers/collect.js';

async function authorizationsSent(headers: Record<string, string>): Promise<string[][]> {
  const seen: string[][] = [];
  const server = createServer((req, res) => {
    seen.push(req.rawHeaders.filter((_, i) => i % 2 === 1 && req.rawHeaders[i - 1]!.toLowerCase() === 'authorization'));
    res.writeHead(200, { 'Content-Type': req.url === '/engines/ps' ? 'application/json' : 'text/plain' });
    res.end(req.url === '/engines/ps' ? '[]' : '# No active runners\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver = new DmrReceiver(
    dmrReceiverConfigSchema.parse({ scrape_interval: '1h', url: `http://user:url-password@127.0.0.1:${port}`, headers }),
    { id: 'docker_model_runner', kind: 'receiver', logger: new RecordingLogger(), selfMetrics: new SelfMetrics(), health: new HealthRegistry() },
    new CollectingConsumer(),
    {},
  );
  try {
    await receiver.scraper.scrapeOnce();
    return seen;
  } finally {
    await receiver.shutdown();
    await new Promise((resolve) => server.close(resolve));
  }
}

test('URL credentials are sent as Basic auth when no Authorization is configured', async () => {
  const seen = await authorizationsSent({});
  assert.ok(seen.length >= 2, 'both endpoints asked');
  for (const values of seen) assert.deepEqual(values, ['Basic ' + Buffer.from('user:url-password').toString('base64')]);
});

for (const name of ['Authorization', 'authorization', 'AUTHORIZATION']) {
  test(`a configured ${name} header wins over URL credentials, and only one is sent`, async () => {
    const seen = await authorizationsSent({ [name]: 'Bearer configured-token' });
    assert.ok(seen.length >= 2, 'both endpoints asked');
    for (const values of seen) assert.deepEqual(values, ['Bearer configured-token']);
  });
}

/** Which Authorization a scrape sends: a configured header, in any case, wins over URL credentials; never two. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusReceiver } from '../../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { RunnerServer } from '../../helpers/runner-server.js';
import { readFixture } from '../../helpers/fixtures.js';
import { CollectingConsumer, RecordingLogger } from '../../helpers/collect.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';

const PAGE = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');

/**
 * The values of every `authorization` header of the scrape, whatever the case of
 * its name; the questions about the runner's identity (/props, /v1/models) must send the same.
 */
function authorizations(server: RunnerServer): string[] {
  const of = (raw: string[]) => raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === 'authorization');
  const scrape = of(server.rawHeadersByPath.get('/metrics')!);
  assert.ok(server.rawHeadersByPath.size > 1, 'the runner was asked who it is');
  for (const [path, raw] of server.rawHeadersByPath) assert.deepEqual(of(raw), scrape, path);
  return scrape;
}

async function scrapeWith(headers: Record<string, string>, userinfo: string): Promise<string[]> {
  const server = await RunnerServer.start(PAGE);
  const url = new URL(server.url);
  url.username = userinfo.split(':')[0]!;
  url.password = userinfo.split(':')[1]!;
  const config = prometheusReceiverConfigSchema.parse({ scrape_interval: '1h', targets: [{ url: url.toString() }], headers });
  const r = new PrometheusReceiver(
    config,
    { id: 'prometheus/test', kind: 'receiver', logger: new RecordingLogger(), selfMetrics: new SelfMetrics(), health: new HealthRegistry() },
    new CollectingConsumer(),
  );
  try {
    await r.scrapers[0]!.scrapeOnce();
    return authorizations(server);
  } finally {
    await r.shutdown();
    await server.close();
  }
}

for (const name of ['Authorization', 'authorization', 'AUTHORIZATION']) {
  test(`a configured ${name} header wins over URL credentials, sent once`, async () => {
    assert.deepEqual(await scrapeWith({ [name]: 'Bearer configured-token' }, 'user:url-pass'), ['Bearer configured-token']);
  });
}

test('URL credentials are sent as Basic when no Authorization is configured', async () => {
  const basic = 'Basic ' + Buffer.from('user:url-pass').toString('base64');
  assert.deepEqual(await scrapeWith({ 'X-Other': 'x' }, 'user:url-pass'), [basic]);
});

test('a configured Accept header replaces the default one instead of adding a second', async () => {
  const server = await RunnerServer.start(PAGE);
  const config = prometheusReceiverConfigSchema.parse({ scrape_interval: '1h', targets: [{ url: server.url }], headers: { ACCEPT: 'text/plain' } });
  const r = new PrometheusReceiver(
    config,
    { id: 'prometheus/test', kind: 'receiver', logger: new RecordingLogger(), selfMetrics: new SelfMetrics(), health: new HealthRegistry() },
    new CollectingConsumer(),
  );
  try {
    await r.scrapers[0]!.scrapeOnce();
    const accepts = (raw: string[]) => raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === 'accept');
    assert.deepEqual(accepts(server.rawHeadersByPath.get('/metrics')!), ['text/plain']);
    // The questions about the runner's identity ask for JSON, once.
    assert.deepEqual(accepts(server.rawHeadersByPath.get('/props')!), ['application/json']);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

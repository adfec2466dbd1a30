import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusReceiver } from '../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { RunnerServer } from '../helpers/runner-server.js';
import { CollectingConsumer, RecordingLogger } from '../helpers/collect.js';
import { until } from '../helpers/until.js';
import { HealthRegistry } from '../../src/telemetry/health.js';

const health = new HealthRegistry();

const PAGE = '# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing 1\n';

function serving(sink: CollectingConsumer, socket: string): boolean | undefined {
  const rb = sink.latest('service.instance.id', socket);
  return rb === undefined ? undefined : rb.scopeMetrics.some((s) => s.metrics.length > 0);
}

test('socket_sd: a socket created is scraped over it; removed, it is dropped and its series leave at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-socksd-'));
  const config = prometheusReceiverConfigSchema.parse({
    scrape_interval: '50ms',
    scrape_timeout: '1s',
    socket_sd_configs: [{ paths: [join(dir, '*.sock')], refresh_interval: '100ms', metrics_path: '/m', attributes: { backend: 'llama.cpp' } }],
  });
  const sink = new CollectingConsumer();
  const selfMetrics = new SelfMetrics();
  const r = new PrometheusReceiver(config, { id: 'prometheus/sock', kind: 'receiver', logger: new RecordingLogger(), selfMetrics, health }, sink);
  const discovered = () => selfMetrics.gauge('runner_metrics_discovery_targets', '').value({ receiver: 'prometheus/sock', mechanism: 'socket_sd' });
  const path = join(dir, 'runner-1.sock');
  let server: RunnerServer | undefined;
  try {
    writeFileSync(join(dir, 'stale.sock'), ''); // a regular file with a socket's name is not a target
    await r.start();
    await until(() => discovered() === 0, 'the first listing');
    assert.equal(r.scrapers.length, 0);

    server = await RunnerServer.start(PAGE, path);
    await until(() => serving(sink, path), 'the new socket scraped');
    assert.equal(r.scrapers.length, 1);
    assert.equal(r.scrapers[0]!.address.socketPath, path);
    assert.equal(new URL(r.scrapers[0]!.address.url).pathname, '/m');
    assert.equal(sink.latest('service.instance.id', path)!.resource.attributes['backend'], 'llama.cpp');
    assert.equal(discovered(), 1);

    await server.close(); // removes the socket file
    server = undefined;
    await until(() => serving(sink, path) === false, 'the removed socket emptied');
    await until(() => r.scrapers.length === 0, 'the scraper stopped');
    assert.equal(discovered(), 0);
    assert.equal(selfMetrics.gauge('up', '').value({ job: 'prometheus/sock', instance: path, backend: 'llama.cpp' }), undefined);
  } finally {
    await r.shutdown();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

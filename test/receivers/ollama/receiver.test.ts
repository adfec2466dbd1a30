import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OllamaReceiver } from '../../../src/receivers/ollama/index.js';
import { ollamaReceiverConfigSchema } from '../../../src/receivers/ollama/config.js';
import type { ResourceBatch } from '../../../src/model/batch.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../../helpers/collect.js';
import { NO_MODELS_LOADED, OLLAMA_PS, OllamaServer } from '../../helpers/ollama-server.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';

const LLAMA = 'llama3.2:latest';

function receiver(server: OllamaServer, extra: Record<string, unknown> = {}) {
  const config = ollamaReceiverConfigSchema.parse({
    scrape_interval: '1h',
    scrape_timeout: '300ms',
    targets: [{ url: server.url, attributes: { site: 'lab' } }],
    ...extra,
  });
  const sink = new CollectingConsumer();
  const logger = new RecordingLogger();
  const selfMetrics = new SelfMetrics();
  const r = new OllamaReceiver(config, { id: 'ollama/test', kind: 'receiver', logger, selfMetrics, health: new HealthRegistry() }, sink);
  return { r, sink, logger, selfMetrics, scrape: () => r.scrapers[0]!.scrapeOnce() };
}

/** An /api/ps answer: the captured entry, renamed and with an expiry relative to now. */
function ps(...models: Array<{ name: string; expiresInSeconds?: number; size?: number }>): string {
  const template = (JSON.parse(OLLAMA_PS) as { models: Array<Record<string, unknown>> }).models[0]!;
  return JSON.stringify({
    models: models.map((m) => ({
      ...template,
      name: m.name,
      model: m.name,
      size: m.size ?? template['size'],
      expires_at: new Date(Date.now() + (m.expiresInSeconds ?? 300) * 1000).toISOString(),
    })),
  });
}

/** Every resource of the last batch, by its `model` attribute ('' for the server). */
function lastBatch(sink: CollectingConsumer): Map<string, ResourceBatch> {
  const batch = sink.batches.at(-1) ?? [];
  return new Map(batch.map((rb) => [String(rb.resource.attributes['model'] ?? ''), rb]));
}

function value(rb: ResourceBatch | undefined, name: string): number | undefined {
  return rb ? (metricNamed(rb, name)?.dataPoints[0]?.value as number | undefined) : undefined;
}

test('a loaded model is a resource with its figures; the server one counts and names the build', async () => {
  const server = await OllamaServer.start();
  const { r, sink, selfMetrics, scrape } = receiver(server);
  try {
    await scrape();
    const resources = lastBatch(sink);
    assert.deepEqual([...resources.keys()].sort(), ['', LLAMA]);
    const model = resources.get(LLAMA)!;
    assert.deepEqual(model.resource.attributes, {
      'service.name': 'ollama/test',
      'service.instance.id': server.instance,
      'server.address': server.instance,
      backend: 'ollama',
      site: 'lab',
      model: LLAMA,
    });
    assert.equal(value(model, 'ollama_model_loaded'), 1);
    assert.equal(value(model, 'ollama_model_size_bytes'), 3587280896);
    assert.equal(value(model, 'ollama_model_vram_bytes'), 3587280896);
    assert.equal(value(model, 'ollama_model_context_length_tokens'), 4096);
    // The captured expiry is in the past (2026-07-22): the model is due to unload, 0 seconds left, never negative.
    assert.equal(value(model, 'ollama_model_expires_in_seconds'), 0);

    const host = resources.get('')!;
    assert.equal(host.resource.attributes['backend'], 'ollama');
    assert.equal(host.resource.attributes['model'], undefined);
    assert.equal(value(host, 'ollama_models_loaded'), 1);
    assert.equal(value(host, 'ollama_models_available'), 3);
    const info = metricNamed(host, 'ollama_build_info')!;
    assert.equal(info.prometheus?.type, 'info');
    assert.deepEqual(info.dataPoints.map((p) => [p.attributes, p.value]), [[{ version: '0.5.1' }, 1]]);

    const labels = { job: 'ollama/test', instance: server.instance, backend: 'ollama', site: 'lab' };
    assert.equal(selfMetrics.gauge('up', '').value(labels), 1);
    assert.equal(selfMetrics.gauge('scrape_samples_scraped', '').value(labels), 8);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('models load and unload, the server goes away and comes back: each change is served at once', async () => {
  const server = await OllamaServer.start();
  server.json('/api/ps', NO_MODELS_LOADED);
  const { r, sink, logger, selfMetrics, scrape } = receiver(server);
  const up = () => selfMetrics.gauge('up', '').value({ job: 'ollama/test', instance: server.instance, backend: 'ollama', site: 'lab' });
  try {
    await scrape();
    assert.deepEqual([...lastBatch(sink).keys()], [''], 'no model loaded: the server resource only');
    assert.equal(value(lastBatch(sink).get(''), 'ollama_models_loaded'), 0, 'known to be 0, so written');

    server.json('/api/ps', ps({ name: LLAMA, expiresInSeconds: 300 }, { name: 'all-minilm:latest', size: 50_000_000 }));
    await scrape();
    let resources = lastBatch(sink);
    assert.equal(value(resources.get('all-minilm:latest'), 'ollama_model_size_bytes'), 50_000_000);
    const expiresIn = value(resources.get(LLAMA), 'ollama_model_expires_in_seconds')!;
    assert.ok(expiresIn > 0 && expiresIn <= 300, `expires in ${expiresIn}s`);
    assert.equal(value(resources.get(''), 'ollama_models_loaded'), 2);

    // all-minilm unloads: handed on once as an empty snapshot, then no more.
    server.json('/api/ps', ps({ name: LLAMA }));
    await scrape();
    resources = lastBatch(sink);
    assert.deepEqual(resources.get('all-minilm:latest')?.scopeMetrics, []);
    assert.equal(value(resources.get(LLAMA), 'ollama_model_loaded'), 1);
    await scrape();
    assert.equal(lastBatch(sink).has('all-minilm:latest'), false);

    // The server goes away: every resource of it is handed on empty, once; logged once.
    const versionAsked = server.requests.filter((q) => q.path === '/api/version').length;
    assert.equal(versionAsked, 1, 'the version is identity: asked once while the server stays');
    await server.close();
    const before = sink.batches.length;
    await scrape();
    await scrape();
    assert.equal(sink.batches.length, before + 1, 'one batch of empty snapshots on the transition, none while it stays down');
    const gone = sink.batches.at(-1)!;
    assert.deepEqual(gone.map((rb) => String(rb.resource.attributes['model'] ?? '')).sort(), ['', LLAMA]);
    assert.ok(gone.every((rb) => rb.scopeMetrics.length === 0));
    assert.equal(up(), 0);
    assert.equal(logger.count('target is down'), 1);
    assert.equal(logger.lines.find((l) => l.msg === 'target is down')?.['reason'], 'connect');

    // Back, with another build: identity is asked again.
    server.json('/api/version', '{"version":"0.6.0"}');
    await server.listen();
    await scrape();
    resources = lastBatch(sink);
    assert.equal(value(resources.get(LLAMA), 'ollama_model_loaded'), 1);
    assert.deepEqual(metricNamed(resources.get('')!, 'ollama_build_info')!.dataPoints[0]!.attributes, { version: '0.6.0' });
    assert.equal(up(), 1);
    assert.equal(logger.count('target is up again'), 1);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('/api/ps failing marks the target down with the reason: garbage, 500, an empty body, a hang', async () => {
  const cases: Array<[string, Parameters<OllamaServer['answer']>[1], string]> = [
    ['garbage', { kind: 'body', body: '\u0000{{ not json' }, 'parse'],
    ['a list', { kind: 'body', body: '[]' }, 'parse'],
    ['an empty body', { kind: 'body', body: '' }, 'parse'],
    ['500', { kind: 'status', status: 500 }, 'http_status'],
    ['hang', { kind: 'hang' }, 'timeout'],
  ];
  for (const [what, answer, reason] of cases) {
    const server = await OllamaServer.start();
    const { r, sink, selfMetrics, logger, scrape } = receiver(server);
    const labels = { job: 'ollama/test', instance: server.instance, backend: 'ollama', site: 'lab' };
    try {
      await scrape();
      assert.equal(selfMetrics.gauge('up', '').value(labels), 1, what);
      server.answer('/api/ps', answer);
      await scrape();
      assert.equal(selfMetrics.gauge('up', '').value(labels), 0, what);
      const failures = selfMetrics.counter('runner_metrics_receiver_scrape_failures_total', '');
      assert.equal(failures.value({ ...labels, reason }), 1, `${what} fails with ${reason}`);
      assert.ok(sink.batches.at(-1)!.every((rb) => rb.scopeMetrics.length === 0), `${what}: its series stop being served`);
      assert.equal(logger.count('target is down'), 1, what);
    } finally {
      await r.shutdown();
      await server.close();
    }
  }
});

test('identity and inventory endpoints failing leave their series out, keep the target up, and log once', async () => {
  const server = await OllamaServer.start();
  server.answer('/api/version', { kind: 'body', body: '<html>Ollama is running</html>' });
  server.answer('/api/tags', { kind: 'status', status: 500 });
  const { r, sink, logger, selfMetrics, scrape } = receiver(server);
  const labels = { job: 'ollama/test', instance: server.instance, backend: 'ollama', site: 'lab' };
  try {
    await scrape();
    await scrape();
    assert.equal(selfMetrics.gauge('up', '').value(labels), 1);
    const resources = lastBatch(sink);
    assert.equal(value(resources.get(LLAMA), 'ollama_model_size_bytes'), 3587280896, 'the loaded model is still served');
    const host = resources.get('')!;
    assert.equal(metricNamed(host, 'ollama_build_info'), undefined, 'no version is absent, not a made-up one');
    assert.equal(metricNamed(host, 'ollama_models_available'), undefined, 'unknown count is absent, not 0');
    const failing = logger.lines.filter((l) => l.msg === 'target endpoint fails; its series are left out');
    assert.deepEqual(failing.map((l) => [l.endpoint, l.reason]).sort(), [['/api/tags', 'http_status'], ['/api/version', 'parse']], 'one line each over two scrapes');
    const sideFailures = selfMetrics.counter('runner_metrics_receiver_request_failures_total', '');
    assert.equal(sideFailures.value({ ...labels, endpoint: '/api/version', reason: 'parse' }), 2, 'counted every time');

    server.json('/api/tags', '{"models":[{"name":"a"}]}');
    server.json('/api/version', '{"version":"0.5.1"}');
    await scrape();
    assert.equal(value(lastBatch(sink).get(''), 'ollama_models_available'), 1);
    assert.equal(logger.count('target endpoint answers again'), 2);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('observing never changes state: only GETs of the read-only endpoints', async () => {
  const server = await OllamaServer.start();
  const { r, scrape } = receiver(server);
  try {
    await scrape();
    await scrape();
    assert.ok(server.requests.length >= 4);
    assert.ok(server.requests.every((q) => q.method === 'GET'));
    assert.deepEqual([...new Set(server.requests.map((q) => q.path))].sort(), ['/api/ps', '/api/tags', '/api/version', '/metrics']);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test("an Ollama that serves /metrics has its page scraped too; one that answers 404 is not asked again until it comes back", async () => {
  const server = await OllamaServer.start();
  const { r, sink, scrape } = receiver(server);
  const metricsAsked = () => server.requests.filter((q) => q.path === '/metrics').length;
  try {
    await scrape();
    await scrape();
    await scrape();
    assert.equal(metricsAsked(), 1, '404 once: no /metrics on this build');

    // Restarted with OLLAMA_METRICS=1.
    await server.close();
    await scrape();
    server.answer('/metrics', {
      kind: 'body',
      body: '# HELP ollama_requests_total Requests served.\n# TYPE ollama_requests_total counter\nollama_requests_total{path="/api/chat"} 12\n',
      contentType: 'text/plain; version=0.0.4',
    });
    await server.listen();
    await scrape();
    await scrape();
    assert.equal(metricsAsked(), 3, 'asked again once the server is back, then every scrape');
    const host = lastBatch(sink).get('')!;
    const requests = metricNamed(host, 'ollama_requests_total')!;
    assert.equal(requests.prometheus?.type, 'counter');
    assert.deepEqual(requests.dataPoints.map((p) => [p.attributes, p.value]), [[{ path: '/api/chat' }, 12]]);
    assert.equal(value(host, 'ollama_models_loaded'), 1, 'beside the figures from the JSON API');
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('metrics_path "" never asks for /metrics', async () => {
  const server = await OllamaServer.start();
  const { r, scrape } = receiver(server, { metrics_path: '' });
  try {
    await scrape();
    assert.equal(server.requests.filter((q) => q.path === '/metrics').length, 0);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('the timer keeps asking at the interval and stops on shutdown', async () => {
  const server = await OllamaServer.start();
  const { r, sink } = receiver(server, { scrape_interval: '50ms', scrape_timeout: '40ms' });
  try {
    await r.start();
    await sink.waitFor(3);
  } finally {
    await r.shutdown();
  }
  const after = server.requests.length;
  await new Promise((res) => setTimeout(res, 120));
  assert.equal(server.requests.length, after, 'no requests after shutdown');
  await server.close();
});

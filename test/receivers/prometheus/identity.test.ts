/**
 * The prometheus receiver asking runners who they are, against stand-in runners
 * (real HTTP servers) answering with real captured llama-server answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusReceiver } from '../../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../../helpers/collect.js';
import { readFixture } from '../../helpers/fixtures.js';
import {
  B4748_COMPLETION,
  B4748_EMBEDDING,
  LlamaServer,
  V050_CHILD_COMPLETION,
  V050_CHILD_EMBEDDING,
  type Answer,
} from '../../helpers/llama-server.js';
import type { ResourceBatch } from '../../../src/model/batch.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';

const UNKNOWN_LOG = 'runner identity unknown; scraping goes on with model="unknown"';

function receiver(targets: unknown[], extra: Record<string, unknown> = {}) {
  // Identity alone: the llama.cpp insight asks /props and /v1/models on every scrape (test/insight/).
  const config = prometheusReceiverConfigSchema.parse({ scrape_interval: '1h', scrape_timeout: '300ms', targets, llamacpp_insight: { enabled: false }, ...extra });
  const sink = new CollectingConsumer();
  const logger = new RecordingLogger();
  const selfMetrics = new SelfMetrics();
  const r = new PrometheusReceiver(config, { id: 'prometheus/test', kind: 'receiver', logger, selfMetrics, health: new HealthRegistry() }, sink);
  return { r, sink, logger, selfMetrics, scrape: () => r.scrapers[0]!.scrapeOnce() };
}

/** The identity attributes of a snapshot's resource. */
function identity(rb: ResourceBatch | undefined) {
  const a = rb?.resource.attributes ?? {};
  return { backend: a['backend'], model: a['model'], mode: a['mode'] };
}

function last(sink: CollectingConsumer): ResourceBatch {
  return sink.batches.at(-1)![0]!;
}

function hasSeries(rb: ResourceBatch): boolean {
  return rb.scopeMetrics.some((sm) => sm.metrics.length > 0);
}

test('llama-server b4748 and v0.5.0: model and mode from its own answers, asked once, never /slots', async () => {
  for (const [answers, model, mode] of [
    [B4748_COMPLETION, 'tiny-llama-rand', 'completion'],
    [B4748_EMBEDDING, 'tiny-bert-rand', 'embedding'],
    [V050_CHILD_COMPLETION, 'tiny-llama-rand', 'completion'],
    [V050_CHILD_EMBEDDING, 'tiny-bert-rand', 'embedding'],
  ] as const) {
    const server = await LlamaServer.start(answers);
    const { r, sink, scrape } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp' } }]);
    try {
      await scrape();
      await scrape();
      await scrape();
      assert.equal(sink.batches.length, 3);
      for (const batch of sink.batches) assert.deepEqual(identity(batch[0]), { backend: 'llama.cpp', model, mode });
      assert.ok(metricNamed(last(sink), 'llamacpp:n_decode_total'));
      assert.equal(server.asked('/metrics'), 3);
      assert.equal(server.asked('/props'), 1, 'identity is cached');
      assert.equal(server.asked('/v1/models'), 1);
      assert.equal(server.asked('/slots'), 0, '/slots wakes a sleeping model');
      assert.ok(server.requests.every((q) => q.method === 'GET'));
    } finally {
      await r.shutdown();
      await server.close();
    }
  }
});

test('without a backend attribute the page tells it is llama.cpp', async () => {
  const server = await LlamaServer.start(B4748_EMBEDDING);
  const { r, sink, scrape } = receiver([{ url: server.url }]);
  try {
    await scrape();
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-bert-rand', mode: 'embedding' });
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('a runner that comes back serving another model gets the new label; the old series are gone', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  const { r, sink, scrape, logger } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp' } }]);
  try {
    await scrape();
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' });
    await server.close();
    await scrape();
    // Down: one empty snapshot for the old resource, so /metrics stops serving it at once.
    assert.equal(sink.batches.length, 2);
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' });
    assert.equal(hasSeries(last(sink)), false);
    server.serve(V050_CHILD_EMBEDDING);
    await server.listen();
    await scrape();
    assert.equal(sink.batches.length, 3);
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-bert-rand', mode: 'embedding' });
    assert.ok(hasSeries(last(sink)));
    assert.equal(server.asked('/props'), 2, 'asked again after being down');
    assert.equal(logger.count(UNKNOWN_LOG), 0);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('vLLM: a new model_name on the page changes the label while up, the old series go stale at once', async () => {
  const vllm = readFixture('runners', 'vllm.prom');
  const server = await LlamaServer.start(B4748_COMPLETION);
  server.answer('/metrics', { kind: 'body', body: vllm, contentType: 'text/plain; version=0.0.4' });
  const { r, sink, scrape } = receiver([{ url: server.url, attributes: { mode: 'completion' } }]);
  try {
    await scrape();
    assert.deepEqual(identity(last(sink)), { backend: 'vllm', model: 'Qwen/Qwen2.5-1.5B-Instruct', mode: 'completion' });
    await scrape();
    assert.equal(sink.batches.length, 2);
    server.answer('/metrics', { kind: 'body', body: vllm.replaceAll('Qwen/Qwen2.5-1.5B-Instruct', 'Qwen/Qwen3-8B') });
    await scrape();
    assert.equal(sink.batches.length, 4, 'an empty snapshot for the old model, then the new one');
    const [stale, fresh] = [sink.batches[2]![0]!, sink.batches[3]![0]!];
    assert.equal(stale.resource.attributes['model'], 'Qwen/Qwen2.5-1.5B-Instruct');
    assert.equal(hasSeries(stale), false);
    assert.equal(fresh.resource.attributes['model'], 'Qwen/Qwen3-8B');
    assert.ok(hasSeries(fresh));
    assert.deepEqual(server.requests.map((q) => q.path), ['/metrics', '/metrics', '/metrics'], 'vLLM identity is read from the page alone');
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('identity endpoints failing or answering garbage: still scraped, model="unknown", one log line per cause', async () => {
  const cases: Array<[string, Answer, Answer]> = [
    ['garbage', { kind: 'body', body: '<html>not json</html>' }, { kind: 'body', body: '{"data":"nope"}' }],
    ['500', { kind: 'status', status: 500 }, { kind: 'status', status: 500 }],
    ['hang', { kind: 'hang' }, { kind: 'hang' }],
    ['404', { kind: 'status', status: 404 }, { kind: 'status', status: 404 }],
  ];
  for (const [name, props, models] of cases) {
    const server = await LlamaServer.start(B4748_COMPLETION);
    server.answer('/props', props);
    server.answer('/v1/models', models);
    const { r, sink, scrape, logger } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp' } }]);
    try {
      for (let i = 0; i < 6; i++) await scrape();
      assert.equal(sink.batches.length, 6, name);
      for (const batch of sink.batches) {
        assert.deepEqual(identity(batch[0]), { backend: 'llama.cpp', model: 'unknown', mode: undefined }, name);
        assert.ok(hasSeries(batch[0]!), name);
      }
      assert.equal(logger.count(UNKNOWN_LOG), 1, `${name}: logged once`);
      assert.match(String(logger.lines.find((l) => l.msg === UNKNOWN_LOG)!['reason']), /^\/props[: ].*; \/v1\/models[: ]/);
      assert.equal(logger.count('target is down'), 0, name);
      // Asked again, less and less often: after 1, 2, 4 scrapes.
      assert.equal(server.asked('/props'), 3, name);
      // Once it answers, the real name replaces "unknown" and the unknown series go stale.
      server.serve(B4748_COMPLETION);
      const before = sink.batches.length;
      for (let i = 0; i < 8 && identity(last(sink)).model === 'unknown'; i++) await scrape();
      assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' }, name);
      const stale = sink.batches.slice(before).find((b) => b[0]!.resource.attributes['model'] === 'unknown' && !hasSeries(b[0]!));
      assert.ok(stale, `${name}: the unknown series are handed on empty once`);
      assert.equal(logger.count('runner identity known again'), 1, name);
    } finally {
      await r.shutdown();
      await server.close();
    }
  }
});

test('one identity endpoint failing is not a failure when the other tells (b4748 /props crashing with 500)', async () => {
  const server = await LlamaServer.start(B4748_EMBEDDING);
  server.answer('/props', { kind: 'status', status: 500, body: readFixture('llamacpp-real', 'embedding-nobos.props.500.json') });
  const { r, sink, scrape, logger } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp' } }]);
  try {
    await scrape();
    await scrape();
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-bert-rand', mode: 'embedding' });
    assert.equal(logger.count(UNKNOWN_LOG), 0);
    assert.equal(server.asked('/props'), 1);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('the model known but the mode not (its answer failed once): asked again until the mode is known too', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  server.answer('/v1/models', { kind: 'status', status: 503 });
  const { r, sink, scrape, logger } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp' } }]);
  try {
    await scrape();
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: undefined });
    server.serve(B4748_COMPLETION);
    await scrape();
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' });
    const asked = server.asked('/v1/models');
    await scrape();
    await scrape();
    assert.equal(server.asked('/v1/models'), asked, 'known in full: not asked again');
    assert.equal(logger.count(UNKNOWN_LOG), 0);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('configured values always win; with all three configured nothing is asked', async () => {
  const server = await LlamaServer.start(B4748_EMBEDDING);
  const { r, sink, scrape } = receiver([
    { url: server.url, attributes: { backend: 'llama.cpp', model: 'my-bert' } },
  ]);
  try {
    await scrape();
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'my-bert', mode: 'embedding' });
  } finally {
    await r.shutdown();
  }
  const all = receiver([{ url: server.url, attributes: { backend: 'llama.cpp', model: 'my-bert', mode: 'rerank' } }]);
  const none = receiver([{ url: server.url, runner: 'none', attributes: { backend: 'llama.cpp' } }]);
  try {
    server.requests.length = 0;
    await all.scrape();
    await none.scrape();
    assert.deepEqual(identity(last(all.sink)), { backend: 'llama.cpp', model: 'my-bert', mode: 'rerank' });
    assert.deepEqual(identity(last(none.sink)), { backend: 'llama.cpp', model: undefined, mode: undefined });
    assert.deepEqual(server.requests.map((q) => q.path), ['/metrics', '/metrics']);
  } finally {
    await all.r.shutdown();
    await none.r.shutdown();
    await server.close();
  }
});

test('an empty configured model or mode (an unset ${env:…:-}) means "ask the runner"', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  const { r, sink, scrape } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp', model: '', mode: '' } }]);
  try {
    await scrape();
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' });
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('a page whose series carry their own model label (Docker Model Runner) is not asked and gets no model', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  server.answer('/metrics', { kind: 'body', body: readFixture('runners', 'dmr-aggregated.prom') });
  const { r, sink, scrape } = receiver([
    { url: server.url, attributes: { 'service.namespace': 'docker-model-runner' } },
    { url: `${server.url}/metrics?llama`, attributes: { backend: 'llama.cpp' } },
  ]);
  try {
    await scrape();
    await r.scrapers[1]!.scrapeOnce();
    assert.deepEqual(identity(sink.batches[0]![0]), { backend: undefined, model: undefined, mode: undefined });
    assert.deepEqual(identity(sink.batches[1]![0]), { backend: 'llama.cpp', model: undefined, mode: undefined });
    assert.deepEqual(server.requests.map((q) => q.path), ['/metrics', '/metrics']);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('config: runner defaults to auto; an unknown runner is refused with the choices', () => {
  const parsed = prometheusReceiverConfigSchema.parse({ targets: [{ url: 'http://127.0.0.1:8080' }] });
  assert.equal(parsed.targets[0]!.runner, 'auto');
  const bad = prometheusReceiverConfigSchema.safeParse({ targets: [{ url: 'http://127.0.0.1:8080', runner: 'ollama' }] });
  assert.equal(bad.success, false);
  assert.match(JSON.stringify(bad.error!.issues), /llamacpp.*vllm.*tgi.*sglang/);
});

test('TGI asks GET /info, SGLang GET /get_model_info', async () => {
  for (const [page, path, body, expected] of [
    ['tgi.prom', '/info', 'tgi-info.json', { backend: 'tgi', model: 'meta-llama/Llama-3.1-8B-Instruct', mode: 'completion' }],
    ['sglang.prom', '/get_model_info', 'sglang-get-model-info.json', { backend: 'sglang', model: 'meta-llama/Llama-3.2-1B-Instruct', mode: 'completion' }],
  ] as const) {
    const server = await LlamaServer.start(B4748_COMPLETION);
    server.answer('/metrics', { kind: 'body', body: readFixture('runners', page) });
    server.answer(path, { kind: 'body', body: readFixture('runners', body) });
    const { r, sink, scrape } = receiver([{ url: server.url }]);
    try {
      await scrape();
      assert.deepEqual(identity(last(sink)), expected);
      assert.equal(server.asked(path), 1);
      assert.equal(server.asked('/props'), 0);
    } finally {
      await r.shutdown();
      await server.close();
    }
  }
});

test('a router target scraped per model asks /props for that model without loading it', async () => {
  const router = (name: string) => readFixture('llamacpp-router', name);
  const server = await LlamaServer.start({
    metrics: router('router.v0.5.0.d-both-loaded.metrics.model-tiny-bert-rand.autoload-false.prom'),
    props: router('router.v0.5.0.d-both-loaded.props.model-tiny-bert-rand.autoload-false.json'),
    models: router('router.v0.5.0.d-both-loaded.v1-models.json'),
  });
  const { r, sink, scrape } = receiver([{ url: `${server.url}/metrics?model=tiny-bert-rand&autoload=false`, attributes: { backend: 'llama.cpp' } }]);
  try {
    await scrape();
    assert.deepEqual(identity(last(sink)), { backend: 'llama.cpp', model: 'tiny-bert-rand', mode: 'embedding' });
    for (const q of server.requests.filter((q) => q.path !== '/v1/models')) assert.match(q.query, /autoload=false/, q.path);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('a new cause of failure is logged again; the same cause is not', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  server.answer('/props', { kind: 'status', status: 500 });
  server.answer('/v1/models', { kind: 'status', status: 500 });
  const { r, sink, scrape, logger } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp' } }]);
  try {
    for (let i = 0; i < 2; i++) await scrape();
    assert.equal(server.asked('/props'), 2);
    assert.equal(logger.count(UNKNOWN_LOG), 1);
    server.answer('/v1/models', { kind: 'body', body: '{"object":"list","data":[]}' });
    for (let i = 0; i < 4; i++) await scrape();
    assert.equal(server.asked('/props'), 3);
    assert.equal(logger.count(UNKNOWN_LOG), 2, 'the new cause');
    assert.match(String(logger.lines.filter((l) => l.msg === UNKNOWN_LOG)[1]!['reason']), /answered no model with an "id"/);
    assert.equal(identity(last(sink)).model, 'unknown');
  } finally {
    await r.shutdown();
    await server.close();
  }
});

/**
 * The llama.cpp insight through the prometheus receiver, against a stand-in
 * llama-server (a real HTTP server answering real b4748 and v0.5.0 captures):
 * which families come out with which values, what is asked (never /slots), and
 * what is left out when a source is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusReceiver } from '../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../src/telemetry/health.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../helpers/collect.js';
import { readFixture } from '../helpers/fixtures.js';
import { B4748_COMPLETION, LlamaServer, type ModelAnswers } from '../helpers/llama-server.js';
import { llamaHeader } from '../helpers/gguf-file.js';
import type { ResourceBatch } from '../../src/model/batch.js';

const v050 = (name: string) => readFixture('llamacpp-router', name);

function receiver(targets: unknown[], extra: Record<string, unknown> = {}) {
  const config = prometheusReceiverConfigSchema.parse({ scrape_interval: '1h', scrape_timeout: '2s', targets, ...extra });
  const sink = new CollectingConsumer();
  const logger = new RecordingLogger();
  const r = new PrometheusReceiver(config, { id: 'prometheus/test', kind: 'receiver', logger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() }, sink);
  return { r, sink, logger, scrape: () => r.scrapers[0]!.scrapeOnce() };
}

function last(sink: CollectingConsumer): ResourceBatch {
  return sink.batches.at(-1)![0]!;
}

/** One family's values by their label text ('' for an unlabelled series); undefined when the family is absent. */
function values(rb: ResourceBatch, name: string): Record<string, number> | undefined {
  const m = metricNamed(rb, name);
  if (m === undefined) return undefined;
  return Object.fromEntries(m.dataPoints.map((p) => [Object.values(p.attributes).join(','), p.value as number]));
}

function one(rb: ResourceBatch, name: string): number | undefined {
  return values(rb, name)?.[''];
}

function derivedNames(rb: ResourceBatch): string[] {
  return rb.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => m.descriptor.name)).filter((n) => n.startsWith('llamacpp_')).sort();
}

test('b4748 after traffic: slots, context, model, status and rates, next to the verbatim llamacpp: families', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  const { r, sink, scrape } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp' } }]);
  try {
    await scrape();
    const first = last(sink);
    // No rate from one scrape.
    assert.equal(values(first, 'llamacpp_tokens_per_second'), undefined);
    await scrape();
    const rb = last(sink);
    assert.equal(one(rb, 'llamacpp:kv_cache_tokens'), 101, 'the runner\'s own families stay, verbatim');
    // Same page twice: no token between the scrapes (a known 0), no decode call to time (no figure).
    assert.deepEqual(values(rb, 'llamacpp_tokens_per_second'), { generation: 0, prompt: 0 });
    assert.equal(values(rb, 'llamacpp_batch_latency_seconds'), undefined);
    // /props: total_slots 2, n_ctx 2048 per slot; the page: requests_processing 0, kv_cache_tokens 101.
    assert.equal(one(rb, 'llamacpp_slots_capacity'), 2);
    assert.equal(one(rb, 'llamacpp_slots_busy'), 0);
    assert.equal(one(rb, 'llamacpp_max_context_size_tokens'), 4096);
    assert.equal(one(rb, 'llamacpp_context_size_tokens'), 101);
    // /v1/models meta: size 8455424, n_params 4227392.
    assert.equal(one(rb, 'llamacpp_model_size_bytes'), 8455424);
    assert.equal(one(rb, 'llamacpp_model_parameters'), 4227392);
    assert.deepEqual(values(rb, 'llamacpp_status'), { idle: 1, loading: 0, running: 0, sleeping: 0 });
    // Not given by the server or its command line: absent, not 0.
    for (const name of ['llamacpp_batch_size', 'llamacpp_optimal_batch_size', 'llamacpp_first_token_latency_seconds', 'llamacpp_kv_cache_usage_bytes', 'llamacpp_kv_cache_limit_bytes']) {
      assert.equal(values(rb, name), undefined, name);
    }
    // The stand-in listens in this very process: its figures are this process's.
    assert.ok(one(rb, 'llamacpp_memory_usage_bytes')! > 1024 * 1024);
    assert.ok(one(rb, 'llamacpp_thread_count')! >= 1);
    assert.ok(one(rb, 'llamacpp_total_memory_bytes')! >= one(rb, 'llamacpp_memory_usage_bytes')!);
    assert.ok(one(rb, 'llamacpp_cpu_utilization_percent')! >= 0, 'CPU from the second scrape on');
    assert.equal(values(first, 'llamacpp_cpu_utilization_percent'), undefined);

    assert.equal(server.asked('/slots'), 0, '/slots wakes a sleeping model');
    assert.equal(server.asked('/props'), 2 + 1, 'every scrape (plus identity once)');
    assert.ok(server.requests.every((q) => q.method === 'GET'), 'the probe is off by default');
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('KV-cache bytes from the GGUF header of the file /props names: tokens × bytes per token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-kv-'));
  const model = join(dir, 'tiny-llama-rand.gguf');
  // The tiny llama's shape: 2 layers, n_embd 64, 4 heads (4 KV heads), and a 32k vocabulary to step over.
  writeFileSync(model, llamaHeader({ layers: 2, embedding: 64, heads: 4, kvHeads: 4, vocab: 32_000 }));
  const props = B4748_COMPLETION.props.replace('"models/tiny-llama-rand.gguf"', JSON.stringify(model));
  const server = await LlamaServer.start({ ...B4748_COMPLETION, props });
  const { r, sink, scrape } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp' } }]);
  try {
    await scrape();
    const rb = last(sink);
    // 2 layers × 4 KV heads × (16 + 16) elements × 2 bytes (f16) = 512 bytes per token.
    assert.equal(one(rb, 'llamacpp_kv_cache_usage_bytes'), 101 * 512);
    assert.equal(one(rb, 'llamacpp_kv_cache_limit_bytes'), 4096 * 512);
  } finally {
    await r.shutdown();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // A configured cache type counts when the command line does not say: q8_0 = 34 bytes per 32 elements.
  const server2 = await LlamaServer.start({ ...B4748_COMPLETION, props });
  writeFileSync(join(dir + '-q8.gguf'), llamaHeader({ layers: 2, embedding: 64, heads: 4 }));
  const q8 = receiver([{ url: server2.url, attributes: { backend: 'llama.cpp' } }], { llamacpp_insight: { kv_cache_type: 'Q8_0' } });
  try {
    server2.serve({ ...B4748_COMPLETION, props: B4748_COMPLETION.props.replace('"models/tiny-llama-rand.gguf"', JSON.stringify(dir + '-q8.gguf')) });
    await q8.scrape();
    assert.equal(one(last(q8.sink), 'llamacpp_kv_cache_limit_bytes'), 4096 * 2 * 4 * 32 * (34 / 32));
  } finally {
    await q8.r.shutdown();
    await server2.close();
    rmSync(dir + '-q8.gguf', { force: true });
  }
});

const ROUTER_MODEL: ModelAnswers = {
  metrics: v050('router.v0.5.0.c-after-5-completions.metrics.model-tiny-llama-rand.autoload-false.prom'),
  props: v050('router.v0.5.0.c-after-5-completions.props.model-tiny-llama-rand.autoload-false.json'),
  models: v050('router.v0.5.0.c-after-5-completions.v1-models.json'),
};

test('a router\'s model (v0.5.0): /props asked for that model with autoload=false, size from its /models entry; asleep is sleeping', async () => {
  const server = await LlamaServer.start(ROUTER_MODEL);
  const target = `${server.url}/metrics?model=tiny-llama-rand&autoload=false`;
  const { r, sink, scrape } = receiver([{ url: target, attributes: { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' } }]);
  try {
    await scrape();
    let rb = last(sink);
    const propsAsked = server.requests.filter((q) => q.path === '/props').map((q) => q.query);
    assert.deepEqual(propsAsked, ['?model=tiny-llama-rand&autoload=false']);
    // The router lists both models; the llama entry's meta: size 8357120, n_params 4178240.
    assert.equal(one(rb, 'llamacpp_model_size_bytes'), 8357120);
    assert.equal(one(rb, 'llamacpp_model_parameters'), 4178240);
    // v0.5.0 has no KV-cells gauge: the context in use is n_tokens_max (17), a high-water mark.
    assert.equal(one(rb, 'llamacpp_context_size_tokens'), 17);
    // The child's command line (status.args): --ctx-size 4096 --parallel 2: two separate slots of 2048.
    assert.equal(one(rb, 'llamacpp_max_context_size_tokens'), 4096);
    assert.deepEqual(values(rb, 'llamacpp_status'), { idle: 1, loading: 0, running: 0, sleeping: 0 });

    server.serve({
      metrics: v050('router.v0.5.0.f-llama-sleeping.metrics.model-tiny-llama-rand.autoload-false.prom'),
      props: v050('router.v0.5.0.f-llama-sleeping.props.model-tiny-llama-rand.autoload-false.json'),
      models: v050('router.v0.5.0.f-llama-sleeping.v1-models.json'),
    });
    await scrape();
    rb = last(sink);
    assert.deepEqual(values(rb, 'llamacpp_status'), { idle: 0, loading: 0, running: 0, sleeping: 1 });
    // c -> f: tokens_predicted_total 60 -> 72, prompt_tokens_total 10 -> 11; the rate's window is the scrapes' own.
    const rates = values(rb, 'llamacpp_tokens_per_second')!;
    assert.ok(rates['generation']! > 0 && rates['prompt']! > 0);
    assert.ok(Math.abs(rates['generation']! / rates['prompt']! - 12) < 1e-9, '12 generated tokens per prompt token in this window');
    assert.equal(server.asked('/slots'), 0);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('without /props and /v1/models answers, what they give is absent (not 0); the page\'s figures stay', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  server.answer('/props', { kind: 'status', status: 500 });
  server.answer('/v1/models', { kind: 'status', status: 404 });
  const { r, sink, scrape } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp', model: 'm', mode: 'completion' } }]);
  try {
    await scrape();
    await scrape();
    const rb = last(sink);
    for (const name of ['llamacpp_status', 'llamacpp_slots_capacity', 'llamacpp_max_context_size_tokens', 'llamacpp_model_size_bytes', 'llamacpp_model_parameters', 'llamacpp_kv_cache_limit_bytes']) {
      assert.equal(values(rb, name), undefined, name);
    }
    assert.equal(one(rb, 'llamacpp_slots_busy'), 0);
    assert.equal(one(rb, 'llamacpp_context_size_tokens'), 101);
    assert.deepEqual(values(rb, 'llamacpp_tokens_per_second'), { generation: 0, prompt: 0 });
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('an endpoint that keeps failing is asked less and less often, and again as soon as it answers', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  // Not llama.cpp's answers: the metrics page on every path, as a non-llama server might.
  server.answer('/props', { kind: 'body', body: B4748_COMPLETION.metrics, contentType: 'text/plain' });
  const { r, sink, scrape } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp', model: 'm', mode: 'completion' } }]);
  try {
    for (let i = 0; i < 40; i++) await scrape();
    // Asked on scrapes 1, 2, then after skipping 1, 2, 4, 8, 16: 7 times in 40 scrapes, not 40.
    assert.equal(server.asked('/props'), 7);
    assert.equal(server.asked('/v1/models'), 40, 'an endpoint that answers is asked every scrape');
    assert.equal(values(last(sink), 'llamacpp_slots_capacity'), undefined);
    // It answers again: asked at its next turn, then every scrape.
    server.answer('/props', { kind: 'body', body: B4748_COMPLETION.props, contentType: 'application/json' });
    for (let i = 0; i < 40; i++) await scrape();
    const askedAfter = server.asked('/props') - 7;
    assert.ok(askedAfter >= 9 && askedAfter <= 40, `asked ${askedAfter} times after it recovered`);
    assert.equal(one(last(sink), 'llamacpp_slots_capacity'), 2);
    for (let i = 0; i < 3; i++) await scrape();
    assert.equal(server.asked('/props') - 7, askedAfter + 3, 'every scrape once it answers');
  } finally {
    await r.shutdown();
    await server.close();
  }
});

test('a model loading (HTTP 503) is status loading while the target is down; other targets get no llamacpp_ families', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  server.answer('/metrics', { kind: 'status', status: 503, body: '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}' });
  const other = await LlamaServer.start({ ...B4748_COMPLETION, metrics: readFixture('runners', 'vllm.prom') });
  const { r, sink } = receiver([
    { url: server.url, attributes: { backend: 'llama.cpp', model: 'm', mode: 'completion' } },
    { url: other.url, attributes: { backend: 'vllm' } },
  ]);
  try {
    await Promise.all(r.scrapers.map((s) => s.scrapeOnce()));
    const loading = sink.latest('backend', 'llama.cpp')!;
    assert.deepEqual(values(loading, 'llamacpp_status'), { idle: 0, loading: 1, running: 0, sleeping: 0 });
    assert.deepEqual(derivedNames(loading), ['llamacpp_status']);
    assert.deepEqual(derivedNames(sink.latest('backend', 'vllm')!), []);
    assert.equal(other.asked('/props'), 0, 'not llama.cpp: nothing asked');
    server.serve(B4748_COMPLETION);
    await r.scrapers[0]!.scrapeOnce();
    assert.deepEqual(values(sink.latest('backend', 'llama.cpp')!, 'llamacpp_status'), { idle: 1, loading: 0, running: 0, sleeping: 0 });
  } finally {
    await r.shutdown();
    await server.close();
    await other.close();
  }
});

test('llamacpp_insight.enabled false: the page only', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  const { r, sink, scrape } = receiver([{ url: server.url, attributes: { backend: 'llama.cpp', model: 'm', mode: 'completion' } }], { llamacpp_insight: { enabled: false } });
  try {
    await scrape();
    assert.deepEqual(derivedNames(last(sink)), []);
    assert.equal(server.asked('/props'), 0);
  } finally {
    await r.shutdown();
    await server.close();
  }
});

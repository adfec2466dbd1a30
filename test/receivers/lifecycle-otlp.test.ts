/**
 * A runner that leaves stops being served at once, on the pull endpoint and in
 * OTLP pushes alike: a Docker Model Runner runner leaving /engines/ps (its state
 * series, its aggregated-page series, its directly scraped page) and an Ollama
 * model unloading. The receivers feed the real prometheus exporter and the real
 * otlphttp exporter, which pushes to a real OTLP/HTTP receiver decoding with the
 * official .proto files (as in the grafana-cloud end-to-end test).
 *
 * No point of a runner is pushed with a time after the round that saw it leave;
 * the last snapshot taken while it ran may still go out once (it is real data,
 * timed when it was scraped), and nothing of it after that. One that comes back
 * starts new cumulative series.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Batch } from '../../src/model/batch.js';
import type { Consumer } from '../../src/component.js';
import { PrometheusExporter } from '../../src/exporters/prometheus/exporter.js';
import { prometheusExporterConfigSchema } from '../../src/exporters/prometheus/config.js';
import { OtlpHttpExporter } from '../../src/exporters/otlphttp/index.js';
import { DmrReceiver } from '../../src/receivers/docker_model_runner/index.js';
import { dmrReceiverConfigSchema } from '../../src/receivers/docker_model_runner/config.js';
import { OllamaReceiver } from '../../src/receivers/ollama/index.js';
import { ollamaReceiverConfigSchema } from '../../src/receivers/ollama/config.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../src/telemetry/health.js';
import { scrape } from '../exporters/prometheus/batches.js';
import { testConfig, testContext } from '../exporters/otlphttp/batches.js';
import { attr, OtlpReceiver, type Decoded, type Received } from '../exporters/otlphttp/receiver.js';
import { RecordingLogger } from '../helpers/collect.js';
import { readFixture } from '../helpers/fixtures.js';
import { DMR_METRICS, DMR_PS, DmrServer } from '../helpers/dmr-server.js';
import { OLLAMA_PS, OllamaServer } from '../helpers/ollama-server.js';

interface PushedPoint {
  readonly metric: string;
  /** The resource's attributes, then the point's own. */
  readonly attributes: Record<string, unknown>;
  readonly timeNanos: bigint;
  readonly startNanos: bigint | undefined;
}

function pushedPoints(requests: readonly Received[]): PushedPoint[] {
  const out: PushedPoint[] = [];
  for (const r of requests) {
    for (const rm of (r.body['resourceMetrics'] ?? []) as Decoded[]) {
      const resource: Record<string, unknown> = {};
      for (const kv of rm.resource?.attributes ?? []) resource[kv.key] = attr(rm.resource.attributes, kv.key);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const data = m.gauge ?? m.sum ?? m.histogram ?? m.summary;
          for (const p of data?.dataPoints ?? []) {
            const attributes = { ...resource };
            for (const kv of p.attributes ?? []) attributes[kv.key] = attr(p.attributes, kv.key);
            out.push({ metric: m.name, attributes, timeNanos: BigInt(p.timeUnixNano), startNanos: p.startTimeUnixNano ? BigInt(p.startTimeUnixNano) : undefined });
          }
        }
      }
    }
  }
  return out;
}

const nanos = (ms: number) => BigInt(ms) * 1_000_000n;

/**
 * Now, in milliseconds, once the clock has moved past it: what was stamped
 * before the call is at or before it, what is stamped after strictly after it.
 * Points carry millisecond times, and a fast scrape shares its millisecond with
 * the moment taken right after it.
 */
async function momentPassed(): Promise<number> {
  const at = Date.now();
  while (Date.now() <= at) await delay(1);
  return at;
}

/** The prometheus and otlphttp exporters behind one consumer, as a pipeline fans out. */
async function exporters() {
  const otlpReceiver = await OtlpReceiver.start();
  const selfMetrics = new SelfMetrics();
  const logger = new RecordingLogger();
  const health = new HealthRegistry();
  const prometheus = new PrometheusExporter(prometheusExporterConfigSchema.parse({ endpoint: '127.0.0.1:0', honor_labels: true }), { id: 'prometheus', kind: 'exporter', logger, selfMetrics, health });
  const otlp = new OtlpHttpExporter(testConfig({ endpoint: otlpReceiver.endpoint }), testContext().context);
  await prometheus.start();
  await otlp.start();
  const next: Consumer = {
    consume: (batch: Batch) => {
      prometheus.consume(batch);
      otlp.consume(batch);
    },
  };
  return {
    next,
    logger,
    selfMetrics,
    health,
    otlpReceiver,
    /** Pushes what is pending; resolves once delivered, with the requests it took. */
    push: async () => {
      const before = otlpReceiver.accepted.length;
      await otlp.forceFlush();
      return otlpReceiver.accepted.slice(before);
    },
    served: async () => (await scrape(prometheus.address()!)).body,
    close: async () => {
      await otlp.shutdown();
      await prometheus.shutdown();
      await otlpReceiver.close();
    },
  };
}

test('Docker Model Runner: a runner that leaves /engines/ps is gone from /metrics and from OTLP pushes at once; back, it starts new series', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-life-dmr-'));
  const dmr = await DmrServer.start(join(dir, 'model-runner.sock'));
  const tcp = await DmrServer.start(); // a TCP runner (vllm-metal), never on the aggregated page
  const e = await exporters();
  const [smollm, mxbai] = JSON.parse(DMR_PS) as object[];
  const qwen = { backend_name: 'vllm', model_name: 'ai/qwen3:0.6B-F16', mode: 'completion', last_used: '2026-07-22T10:41:07Z' };
  tcp.json('/v1/models', JSON.stringify({ data: [{ id: 'ai/qwen3:0.6B-F16' }] }));
  tcp.text('/metrics', readFixture('runners', 'vllm.prom'));
  const only = (model: string) => DMR_METRICS.split('\n').filter((l) => l.startsWith('#') || l.includes(`model="${model}"`)).join('\n') + '\n';
  const receiver = new DmrReceiver(
    dmrReceiverConfigSchema.parse({ scrape_interval: '1h', direct: { tcp_ports: [tcp.port] } }),
    { id: 'docker_model_runner', kind: 'receiver', logger: e.logger, selfMetrics: e.selfMetrics, health: e.health },
    e.next,
    { MODEL_RUNNER_SOCK: dmr.socketPath },
  );
  const round = () => receiver.scraper.scrapeOnce();
  const gone = (p: PushedPoint) => p.attributes['model'] === 'ai/mxbai-embed-large:335M-F16' || p.attributes['model'] === 'ai/qwen3:0.6B-F16';
  try {
    dmr.json('/engines/ps', JSON.stringify([smollm, mxbai, qwen]));
    dmr.text('/metrics', DMR_METRICS);
    await round();
    const first = pushedPoints(await e.push());
    assert.ok(first.some((p) => p.metric === 'llamacpp:prompt_tokens_total' && p.attributes['model'] === 'ai/mxbai-embed-large:335M-F16'), 'the page series of the runner that will leave are pushed');
    assert.ok(first.some((p) => p.metric === 'docker_model_runner_runner_up' && p.attributes['model'] === 'ai/mxbai-embed-large:335M-F16'));
    assert.ok(first.some((p) => p.metric.startsWith('vllm:') && p.attributes['model'] === 'ai/qwen3:0.6B-F16' && p.attributes['backend'] === 'vllm'), 'the TCP runner scraped directly is pushed');

    await round(); // a last snapshot with both, not pushed yet
    dmr.json('/engines/ps', JSON.stringify([smollm]));
    dmr.text('/metrics', only('ai/smollm2'));
    const leftAt = await momentPassed();
    await round();
    const served = await e.served();
    assert.doesNotMatch(served, /mxbai|qwen|vllm:/, 'gone from /metrics at once');
    assert.match(served, /ai\/smollm2/);

    const next = pushedPoints(await e.push());
    assert.ok(next.some((p) => p.attributes['model'] === 'ai/smollm2' && p.timeNanos > nanos(leftAt)), 'the runner that stays is pushed');
    const late = next.filter((p) => gone(p) && p.timeNanos > nanos(leftAt));
    assert.deepEqual(late, [], 'nothing of the runners that left is pushed with a time after they left');

    await round();
    const after = pushedPoints(await e.push());
    assert.ok(after.length > 0);
    assert.deepEqual(after.filter(gone), [], 'nor pushed at all once their last snapshot went out');

    // Back again: new cumulative series, started after it came back.
    const backAt = await momentPassed();
    dmr.json('/engines/ps', JSON.stringify([smollm, mxbai, qwen]));
    dmr.text('/metrics', DMR_METRICS);
    await round();
    const back = pushedPoints(await e.push()).filter(gone);
    const counter = back.find((p) => p.metric === 'llamacpp:prompt_tokens_total');
    assert.ok(counter?.startNanos !== undefined && counter.startNanos >= nanos(backAt), 'the aggregated page series starts anew');
    // vLLM's page gives its own start times (`_created`): they are kept, whenever the runner is found again.
    assert.ok(back.some((p) => p.metric === 'vllm:prompt_tokens_total' && p.attributes['backend'] === 'vllm' && p.timeNanos >= nanos(backAt)), 'the TCP runner is found and pushed again');
  } finally {
    await receiver.shutdown();
    await e.close();
    await tcp.close();
    await dmr.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Ollama: a model that unloads is gone from /metrics and from OTLP pushes at once', async () => {
  const server = await OllamaServer.start();
  const e = await exporters();
  const template = (JSON.parse(OLLAMA_PS) as { models: Array<Record<string, unknown>> }).models[0]!;
  const ps = (...names: string[]) =>
    JSON.stringify({ models: names.map((name) => ({ ...template, name, model: name, expires_at: new Date(Date.now() + 300_000).toISOString() })) });
  const receiver = new OllamaReceiver(
    ollamaReceiverConfigSchema.parse({ scrape_interval: '1h', targets: [{ url: server.url }] }),
    { id: 'ollama', kind: 'receiver', logger: e.logger, selfMetrics: e.selfMetrics, health: e.health },
    e.next,
  );
  const round = () => receiver.scrapers[0]!.scrapeOnce();
  const gone = (p: PushedPoint) => p.attributes['model'] === 'qwen3:0.6b';
  try {
    server.json('/api/ps', ps('llama3.2:1b', 'qwen3:0.6b'));
    await round();
    assert.ok(pushedPoints(await e.push()).some(gone), 'the model that will unload is pushed');

    await round();
    server.json('/api/ps', ps('llama3.2:1b'));
    const leftAt = await momentPassed();
    await round();
    assert.doesNotMatch(await e.served(), /qwen3:0\.6b/, 'gone from /metrics at once');
    const next = pushedPoints(await e.push());
    assert.ok(next.some((p) => p.attributes['model'] === 'llama3.2:1b' && p.timeNanos > nanos(leftAt)));
    assert.deepEqual(next.filter((p) => gone(p) && p.timeNanos > nanos(leftAt)), []);

    await round();
    const after = pushedPoints(await e.push());
    assert.ok(after.length > 0);
    assert.deepEqual(after.filter(gone), []);
  } finally {
    await receiver.shutdown();
    await e.close();
    await server.close();
  }
});

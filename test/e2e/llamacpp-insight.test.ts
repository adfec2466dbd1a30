/**
 * The llama.cpp insight against a real llama-server (v0.5.0, built once by
 * test/setup/llama-server.sh) serving the tiny llama model from a relative path:
 * after traffic the rates agree with the server's own counters, the KV bytes come
 * from the GGUF header found through the process's working directory, the
 * process is found by its port; and a router's sleeping model stays asleep while
 * collected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realLlamaServer } from '../helpers/real-llama-server.js';
import { freePort, startProcess, stopProcess, type Running } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { PrometheusReceiver } from '../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../src/telemetry/health.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../helpers/collect.js';
import type { ResourceBatch } from '../../src/model/batch.js';

// The cached real llama-server and the tiny models our GGUF writer makes (test/helpers/real-llama-server.ts).
const kit = await realLlamaServer();
const skip = typeof kit === 'string' && kit;
const LLAMA_SERVER = typeof kit === 'string' ? undefined : kit.binary;
const TINY_LLAMA = typeof kit === 'string' ? '' : kit.models.llama;

async function startServer(args: string[], cwd: string, port: number): Promise<Running> {
  const p = startProcess(LLAMA_SERVER!, [...args, '--host', '127.0.0.1', '--port', String(port)], { cwd });
  await until(async () => (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok).catch(() => false)) || undefined, 'llama-server ready', 60_000).catch((err) => {
    throw new Error(`${(err as Error).message}\n${p.output()}`);
  });
  return p;
}

function receiver(config: Record<string, unknown>) {
  const sink = new CollectingConsumer();
  const r = new PrometheusReceiver(prometheusReceiverConfigSchema.parse({ scrape_interval: '1h', scrape_timeout: '5s', ...config }), { id: 'prometheus/e2e', kind: 'receiver', logger: new RecordingLogger(), selfMetrics: new SelfMetrics(), health: new HealthRegistry() }, sink);
  return { r, sink };
}

function one(rb: ResourceBatch, name: string, label = ''): number | undefined {
  const m = metricNamed(rb, name);
  return m?.dataPoints.find((p) => Object.values(p.attributes).join(',') === label)?.value as number | undefined;
}

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rm-insight-'));
  mkdirSync(join(dir, 'models'));
  copyFileSync(TINY_LLAMA, join(dir, 'models', 'tiny-llama-rand.gguf'));
  return dir;
}

test('single server: tokens/s agree with the counters, KV bytes from the GGUF header, the process found by its port', { skip }, async () => {
  const dir = workDir();
  const port = await freePort();
  const server = await startServer(['-m', 'models/tiny-llama-rand.gguf', '--alias', 'tiny-llama-rand', '--metrics', '-np', '2', '-c', '4096', '-t', '1', '-b', '1024', '-ub', '256'], dir, port);
  const { r, sink } = receiver({ targets: [{ url: `http://127.0.0.1:${port}` }] });
  try {
    const scraper = r.scrapers[0]!;
    await scraper.scrapeOnce();
    const before = sink.batches.at(-1)![0]!;
    for (let i = 0; i < 3; i++) {
      await fetch(`http://127.0.0.1:${port}/completion`, { method: 'POST', body: JSON.stringify({ prompt: 'Hello there, tell me', n_predict: 12 }) }).then((x) => x.text());
    }
    const startedAt = performance.now();
    await scraper.scrapeOnce();
    const after = sink.batches.at(-1)![0]!;
    assert.equal(after.resource.attributes['model'], 'tiny-llama-rand');

    // The rate × its window is the server's own counter growth: 3 × 12 generated tokens.
    const generated = one(after, 'llamacpp:tokens_predicted_total')! - one(before, 'llamacpp:tokens_predicted_total')!;
    assert.equal(generated, 36);
    const rate = one(after, 'llamacpp_tokens_per_second', 'generation')!;
    assert.ok(rate > 0);
    const windowSeconds = generated / rate;
    assert.ok(windowSeconds > 0 && windowSeconds < (performance.now() - startedAt) / 1000 + 120, `a window of ${windowSeconds} s`);
    const prompt = one(after, 'llamacpp:prompt_tokens_total')! - one(before, 'llamacpp:prompt_tokens_total')!;
    assert.ok(Math.abs(one(after, 'llamacpp_tokens_per_second', 'prompt')! * windowSeconds - prompt) < 1e-6, 'the same window for prompt tokens');

    // /props: 2 slots of 2048. GGUF (models/… relative to the server's cwd): 512 bytes per token.
    assert.equal(one(after, 'llamacpp_slots_capacity'), 2);
    assert.equal(one(after, 'llamacpp_max_context_size_tokens'), 4096);
    assert.equal(one(after, 'llamacpp_kv_cache_limit_bytes'), 4096 * 512);
    const tokensMax = one(after, 'llamacpp:n_tokens_max')!;
    assert.ok(tokensMax > 0);
    assert.equal(one(after, 'llamacpp_kv_cache_usage_bytes'), tokensMax * 512);
    assert.equal(one(after, 'llamacpp_batch_size'), 1024);
    assert.equal(one(after, 'llamacpp_optimal_batch_size'), 256);
    assert.equal(one(after, 'llamacpp_status', 'idle'), 1);

    // The process is the server itself.
    const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)![1]) * 1024;
    assert.ok(Math.abs(one(after, 'llamacpp_memory_usage_bytes')! - rss) < 16 * 1024 * 1024, 'RSS of the llama-server process');
    assert.ok(one(after, 'llamacpp_thread_count')! >= 2);
    assert.ok(one(after, 'llamacpp_cpu_utilization_percent')! > 0, 'it computed 36 tokens');
  } finally {
    await r.shutdown();
    await stopProcess(server);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('router: a sleeping model stays asleep while its metrics and insight are collected', { skip }, async () => {
  const dir = workDir();
  writeFileSync(join(dir, 'models.ini'), 'version = 1\n\n[*]\nthreads = 1\n\n[tiny-llama-rand]\nmodel = models/tiny-llama-rand.gguf\nctx-size = 4096\nparallel = 2\n');
  const port = await freePort();
  const router = await startServer(['--models-preset', 'models.ini', '--metrics', '--models-max', '2', '--sleep-idle-seconds', '2'], dir, port);
  const base = `http://127.0.0.1:${port}`;
  const state = async () => {
    const models = (await (await fetch(`${base}/models`)).json()) as { data: Array<{ id: string; status: { value: string } }> };
    return models.data.find((m) => m.id === 'tiny-llama-rand')!.status.value;
  };
  const { r, sink } = receiver({ llamacpp_router_sd_configs: [{ url: base, refresh_interval: '200ms' }] });
  try {
    await fetch(`${base}/models/load`, { method: 'POST', body: JSON.stringify({ model: 'tiny-llama-rand' }) });
    await fetch(`${base}/completion`, { method: 'POST', body: JSON.stringify({ model: 'tiny-llama-rand', prompt: 'Hello', n_predict: 4 }) }).then((x) => x.text());
    await until(async () => (await state()) === 'sleeping' || undefined, 'the model asleep', 30_000);
    await r.start();
    const scraper = await until(() => r.scrapers[0], 'the router model discovered', 10_000);
    // Several scrapes over more than the idle timeout: each asks /metrics, /props and /v1/models.
    for (let i = 0; i < 4; i++) {
      await scraper.scrapeOnce();
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
    assert.equal(await state(), 'sleeping', 'still asleep after being collected');
    const rb = sink.latest('model', 'tiny-llama-rand')!;
    assert.equal(one(rb, 'llamacpp_status', 'sleeping'), 1);
    assert.equal(one(rb, 'llamacpp_max_context_size_tokens'), 4096);
    assert.ok(one(rb, 'llamacpp_model_parameters')! > 0);
    // The model's own process (the child on the port its /models args name), not the router's; KV from its GGUF.
    // The router's only child process (its children are listed per thread of the router).
    const tasks = readdirSync(`/proc/${router.child.pid}/task`);
    const children = tasks.flatMap((t) => readFileSync(`/proc/${router.child.pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)).filter((c) => c !== '');
    assert.equal(children.length, 1, 'one model process');
    const childPid = Number(children[0]);
    const childRss = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${childPid}/status`, 'utf8'))![1]) * 1024;
    assert.ok(Math.abs(one(rb, 'llamacpp_memory_usage_bytes')! - childRss) < 16 * 1024 * 1024);
    assert.equal(one(rb, 'llamacpp_kv_cache_limit_bytes'), 4096 * 512);
  } finally {
    await r.shutdown();
    await stopProcess(router);
    rmSync(dir, { recursive: true, force: true });
  }
});

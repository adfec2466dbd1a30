/**
 * Ollama end to end: a stand-in Ollama whose answers change, the ollama receiver,
 * and the prometheus exporter's /metrics as a user scrapes it. Every body served
 * must pass `promtool check metrics`; then the collector itself runs
 * pipelines/ollama.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PrometheusExporter } from '../../src/exporters/prometheus/exporter.js';
import { prometheusExporterConfigSchema } from '../../src/exporters/prometheus/config.js';
import { OllamaReceiver } from '../../src/receivers/ollama/index.js';
import { ollamaReceiverConfigSchema } from '../../src/receivers/ollama/config.js';
import { parseFamilies, type MetricFamily } from '../../src/prometheus/families.js';
import { loadConfig } from '../../src/config/load.js';
import { registry } from '../../src/registry.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { scrape } from '../exporters/prometheus/batches.js';
import { NO_MODELS_LOADED, OLLAMA_PS, OllamaServer } from '../helpers/ollama-server.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import { HealthRegistry } from '../../src/telemetry/health.js';

const LLAMA = 'llama3.2:latest';
const PIPELINE = join(REPO_ROOT, 'pipelines/ollama.yaml');
const CLI = join(REPO_ROOT, 'dist/src/cli.js');

/** What Prometheus would store: `name{labels sorted by name}` → value, for the families whose name matches. */
function series(body: string, name: RegExp): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of parseFamilies(body) as MetricFamily[]) {
    if (!name.test(f.name)) continue;
    for (const s of f.samples) {
      const labels: string[] = [];
      for (let i = 0; i < s.labels.length; i += 2) labels.push(`${s.labels[i]}="${s.labels[i + 1]}"`);
      out.set(`${s.name}{${labels.sort().join(',')}}`, s.value);
    }
  }
  return out;
}

/** `promtool check metrics` must accept the page (lint remarks aside: exit 0 or 3 are fine, 1 is a parse error). */
function promtoolAccepts(body: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 3, `promtool exit ${r.status}: ${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /error while linting|text format parsing error/);
}

function psWith(...names: string[]): string {
  const entry = (JSON.parse(OLLAMA_PS) as { models: object[] }).models[0]!;
  return JSON.stringify({ models: names.map((name) => ({ ...entry, name, model: name })) });
}

test('/metrics follows Ollama: a model loads, another unloads, the server goes away and comes back', async () => {
  const ollama = await OllamaServer.start();
  ollama.json('/api/ps', NO_MODELS_LOADED);
  const selfMetrics = new SelfMetrics();
  const health = new HealthRegistry();
  const exporter = new PrometheusExporter(prometheusExporterConfigSchema.parse({ endpoint: '127.0.0.1:0' }), {
    id: 'prometheus',
    kind: 'exporter',
    logger: silentLogger,
    selfMetrics,
    health,
  });
  const receiver = new OllamaReceiver(
    ollamaReceiverConfigSchema.parse({ scrape_interval: '1h', scrape_timeout: '300ms', targets: [{ url: ollama.url }] }),
    { id: 'ollama', kind: 'receiver', logger: silentLogger, selfMetrics, health },
    exporter,
  );
  await exporter.start();
  const served = async () => {
    const res = await scrape(exporter.address()!);
    assert.equal(res.status, 200);
    promtoolAccepts(res.body);
    return res.body;
  };
  const round = () => receiver.scrapers[0]!.scrapeOnce();
  const up = `up{backend="ollama",instance="${ollama.instance}",job="ollama"}`;
  try {
    await round();
    let body = await served();
    assert.deepEqual(series(body, /^ollama_/), new Map([
      ['ollama_build_info{backend="ollama",version="0.5.1"}', 1],
      ['ollama_models_available{backend="ollama"}', 3],
      ['ollama_models_loaded{backend="ollama"}', 0],
    ]));
    assert.match(body, /^# TYPE ollama_build_info gauge$/m);
    const openMetrics = await scrape(exporter.address()!, '/metrics', { headers: { Accept: 'application/openmetrics-text;version=1.0.0' } });
    assert.match(openMetrics.body, /^# TYPE ollama_build info$/m, 'an info family in OpenMetrics');
    assert.match(openMetrics.body, /^ollama_build_info\{/m);

    ollama.json('/api/ps', psWith(LLAMA, 'all-minilm:latest'));
    await round();
    body = await served();
    const model = (name: string) => series(body, /^ollama_model_/).get(`ollama_model_size_bytes{backend="ollama",model="${name}"}`);
    assert.equal(model(LLAMA), 3587280896);
    assert.equal(model('all-minilm:latest'), 3587280896);
    assert.equal(series(body, /^ollama_model_context_length_tokens$/).get(`ollama_model_context_length_tokens{backend="ollama",model="${LLAMA}"}`), 4096);
    assert.equal(series(body, /^up$/).get(up), 1);

    // all-minilm unloads: its series are gone from the very next page, long before metric_expiration.
    ollama.json('/api/ps', psWith(LLAMA));
    await round();
    body = await served();
    assert.equal(model('all-minilm:latest'), undefined);
    assert.equal(model(LLAMA), 3587280896);
    assert.equal(series(body, /^ollama_models_loaded$/).get('ollama_models_loaded{backend="ollama"}'), 1);

    // Ollama goes away: nothing of it is served but up 0.
    await ollama.close();
    await round();
    body = await served();
    assert.deepEqual(series(body, /^ollama_/), new Map());
    assert.equal(series(body, /^up$/).get(up), 0);

    await ollama.listen();
    await round();
    body = await served();
    assert.equal(model(LLAMA), 3587280896);
    assert.equal(series(body, /^up$/).get(up), 1);
  } finally {
    await receiver.shutdown();
    await exporter.shutdown();
    await ollama.close();
  }
});

test('pipelines/ollama.yaml validates and, run by the collector, serves the stand-in Ollama', async () => {
  const { config } = loadConfig([PIPELINE], registry, {});
  assert.deepEqual(config.service.pipelines['metrics']?.receivers, ['ollama']);
  const validate = spawnSync(process.execPath, [CLI, 'validate', '--config', PIPELINE], { encoding: 'utf8', cwd: REPO_ROOT });
  assert.equal(validate.status, 0, validate.stderr);

  const ollama = await OllamaServer.start();
  const port = await freePort();
  const env = { ...process.env, OLLAMA_BASE_URL: ollama.url, SCRAPE_INTERVAL: '200ms', METRICS_ADDR: `127.0.0.1:${port}` };
  const collector = startProcess(process.execPath, [CLI, '--config', PIPELINE], { cwd: REPO_ROOT, env });
  try {
    const body = await eventually(async () => {
      const r = await httpGet(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
      return r?.status === 200 && r.body.includes('ollama_model_loaded') ? r.body : undefined;
    }, 'the collector to serve the loaded model', 30_000, 100);
    promtoolAccepts(body);
    assert.equal(series(body, /^ollama_model_loaded$/).get(`ollama_model_loaded{backend="ollama",model="${LLAMA}"}`), 1);
    assert.ok(ollama.requests.every((q) => q.method === 'GET'));
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await ollama.close();
  }
  assert.doesNotMatch(collector.output(), /"level":"error"/);
});

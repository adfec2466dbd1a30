/**
 * Docker Model Runner: a stand-in model runner on a Unix socket whose answers
 * change, the docker_model_runner receiver, and the prometheus exporter's
 * /metrics as a user scrapes it (every body checked by promtool).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusExporter } from '../../../src/exporters/prometheus/exporter.js';
import { prometheusExporterConfigSchema } from '../../../src/exporters/prometheus/config.js';
import { DmrReceiver } from '../../../src/receivers/docker_model_runner/index.js';
import { dmrReceiverConfigSchema } from '../../../src/receivers/docker_model_runner/config.js';
import { parseFamilies, type MetricFamily } from '../../../src/prometheus/families.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { scrape } from '../../exporters/prometheus/batches.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../../helpers/collect.js';
import { DMR_METRICS, DMR_PS, DmrServer } from '../../helpers/dmr-server.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';

const health = new HealthRegistry();

/** What Prometheus would store: `name{labels sorted}` → value, for the families whose name matches. */
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

function promtoolAccepts(body: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 3, `promtool exit ${r.status}: ${r.stdout}${r.stderr}`);
}

interface Runner {
  backend_name: string;
  model_name: string;
  mode: string;
  [k: string]: unknown;
}
const FIXTURE_RUNNERS = JSON.parse(DMR_PS) as Runner[];
const SMOLLM = FIXTURE_RUNNERS[0]!;
const MXBAI = FIXTURE_RUNNERS[1]!;

async function setup(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rm-dmr-'));
  const dmr = await DmrServer.start(join(dir, 'model-runner.sock'));
  const selfMetrics = new SelfMetrics();
  const logger = new RecordingLogger();
  const exporter = new PrometheusExporter(prometheusExporterConfigSchema.parse({ endpoint: '127.0.0.1:0' }), { id: 'prometheus', kind: 'exporter', logger, selfMetrics, health });
  // No url or unix_socket: found as the CLI finds it, from MODEL_RUNNER_SOCK.
  const receiver = new DmrReceiver(
    dmrReceiverConfigSchema.parse({ scrape_interval: '1h', scrape_timeout: '500ms', ...extra }),
    { id: 'docker_model_runner', kind: 'receiver', logger, selfMetrics, health },
    exporter,
    { MODEL_RUNNER_SOCK: dmr.socketPath },
  );
  await exporter.start();
  const served = async () => {
    const res = await scrape(exporter.address()!);
    assert.equal(res.status, 200);
    promtoolAccepts(res.body);
    return res.body;
  };
  const close = async () => {
    await receiver.shutdown();
    await exporter.shutdown();
    await dmr.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dmr, receiver, exporter, logger, selfMetrics, served, round: () => receiver.scraper.scrapeOnce(), close };
}

const state = (model: string, mode: string, backend = 'llama.cpp') => `backend="${backend}",mode="${mode}",model="${model}"`; // sorted, as series() writes them

test('each /engines/ps entry is a runner with its state; the aggregated page keeps its own labels, no exported_ copies', async () => {
  const t = await setup();
  try {
    t.dmr.json('/engines/ps', DMR_PS);
    t.dmr.text('/metrics', DMR_METRICS);
    await t.round();
    const body = await t.served();
    const runner = series(body, /^docker_model_runner_runner_/);
    const smol = state('ai/smollm2', 'completion');
    const mxbai = state('ai/mxbai-embed-large:335M-F16', 'embedding');
    const qwen = state('ai/qwen3:0.6B-F16', 'completion', 'vllm');
    assert.equal(runner.get(`docker_model_runner_runner_up{${smol}}`), 1);
    assert.equal(runner.get(`docker_model_runner_runner_in_use{${smol}}`), 1);
    assert.equal(runner.get(`docker_model_runner_runner_seconds_since_last_use{${smol}}`), undefined, 'in use: no last use');
    assert.equal(runner.get(`docker_model_runner_runner_keep_alive_seconds{${mxbai}}`), 600);
    assert.equal(runner.get(`docker_model_runner_runner_in_use{${mxbai}}`), 0);
    assert.ok(runner.get(`docker_model_runner_runner_seconds_since_last_use{${mxbai}}`)! > 0);
    assert.equal(runner.get(`docker_model_runner_runner_loading{${qwen}}`), 1);
    assert.equal(runner.get(`docker_model_runner_runner_up{${qwen}}`), 0);
    assert.equal(runner.get(`docker_model_runner_runner_metrics_served{${smol}}`), 1);
    assert.equal(runner.get(`docker_model_runner_runner_metrics_served{${mxbai}}`), 1);
    assert.equal(runner.get(`docker_model_runner_runner_metrics_served{${qwen}}`), 0, 'a loading runner has no page yet');
    assert.equal(series(body, /^docker_model_runner_runners_without_metrics$/).get('docker_model_runner_runners_without_metrics{}'), 0);

    // The page's series, exactly once each, with the model runner's own labels and nothing renamed.
    const page = series(body, /^llamacpp:prompt_tokens_total$/);
    assert.deepEqual(page, new Map([
      [`llamacpp:prompt_tokens_total{${smol}}`, 4934],
      [`llamacpp:prompt_tokens_total{${mxbai}}`, 0],
    ]));
    assert.doesNotMatch(body, /exported_/);
    assert.equal(t.logger.lines.filter((l) => l.level === 'warn').length, 0, JSON.stringify(t.logger.lines));
  } finally {
    await t.close();
  }
});

test('"# No active runners" while /engines/ps lists two runners: said in a series and one log line', async () => {
  const t = await setup();
  try {
    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM, MXBAI]));
    t.dmr.text('/metrics', '# No active runners\n');
    await t.round();
    await t.round();
    const body = await t.served();
    assert.equal(series(body, /^docker_model_runner_runners_without_metrics$/).get('docker_model_runner_runners_without_metrics{}'), 2);
    assert.equal(series(body, /^docker_model_runner_runner_metrics_served$/).get(`docker_model_runner_runner_metrics_served{${state('ai/smollm2', 'completion')}}`), 0);
    assert.equal(series(body, /^docker_model_runner_runner_up$/).size, 2, 'runners are still reported');
    const warned = t.logger.lines.filter((l) => l.msg === 'runners listed by /engines/ps have no series in /metrics');
    assert.equal(warned.length, 1, JSON.stringify(t.logger.lines));
    assert.match(String(warned[0]!['runners']), /ai\/smollm2.*ai\/mxbai/);
    assert.match(String(warned[0]!['metrics_page']), /No active runners/);

    t.dmr.text('/metrics', DMR_METRICS);
    await t.round();
    assert.equal(series(await t.served(), /^docker_model_runner_runners_without_metrics$/).get('docker_model_runner_runners_without_metrics{}'), 0);
    assert.ok(t.logger.lines.some((l) => l.msg === '/metrics has series of every runner again'));
  } finally {
    await t.close();
  }
});

test('a runner appears, then disappears: its series leave /metrics at once', async () => {
  const t = await setup();
  const aggregated = (...models: string[]) => DMR_METRICS.split('\n').filter((l) => l.startsWith('#') || models.some((m) => l.includes(`model="${m}"`))).join('\n') + '\n';
  try {
    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM]));
    t.dmr.text('/metrics', aggregated('ai/smollm2'));
    await t.round();
    let body = await t.served();
    const mxbai = state('ai/mxbai-embed-large:335M-F16', 'embedding');
    assert.equal(series(body, /^docker_model_runner_runner_up$/).size, 1);

    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM, MXBAI]));
    t.dmr.text('/metrics', aggregated('ai/smollm2', 'ai/mxbai-embed-large:335M-F16'));
    await t.round();
    body = await t.served();
    assert.equal(series(body, /^docker_model_runner_runner_up$/).get(`docker_model_runner_runner_up{${mxbai}}`), 1);
    assert.equal(series(body, /^llamacpp:n_tokens_max$/).get(`llamacpp:n_tokens_max{${mxbai}}`), 512);

    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM]));
    t.dmr.text('/metrics', aggregated('ai/smollm2'));
    await t.round();
    body = await t.served();
    assert.doesNotMatch(body, /mxbai/, 'every series of the runner that went away is gone');
    assert.equal(series(body, /^docker_model_runner_runner_up$/).size, 1);
  } finally {
    await t.close();
  }
});

test('the model runner on TCP with Docker Desktop\'s path prefix, found from MODEL_RUNNER_PORT', async () => {
  const dmr = await DmrServer.start();
  dmr.json('/exp/vDD4.40/engines/ps', JSON.stringify([MXBAI]));
  dmr.text('/exp/vDD4.40/metrics', DMR_METRICS);
  const selfMetrics = new SelfMetrics();
  const batches: unknown[] = [];
  const receiver = new DmrReceiver(
    dmrReceiverConfigSchema.parse({ scrape_interval: '1h', path_prefix: '/exp/vDD4.40' }),
    { id: 'docker_model_runner', kind: 'receiver', logger: new RecordingLogger(), selfMetrics, health },
    { consume: (b) => batches.push(b) },
    { MODEL_RUNNER_PORT: String(dmr.port), MODEL_RUNNER_SOCK: '/nonexistent.sock' },
  );
  try {
    await receiver.scraper.scrapeOnce();
    assert.deepEqual(dmr.requests.sort(), ['/exp/vDD4.40/engines/ps', '/exp/vDD4.40/metrics']);
    assert.equal(selfMetrics.gauge('up', '').value({ job: 'docker_model_runner', instance: `127.0.0.1:${dmr.port}` }), 1);
  } finally {
    await receiver.shutdown();
    await dmr.close();
  }
});

test("a series whose labels come in another order (Go's map order) is the same series: its start time stays", async () => {
  const dmr = await DmrServer.start();
  dmr.json('/engines/ps', JSON.stringify([SMOLLM]));
  const first = '# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total{backend="llama.cpp",model="ai/smollm2",mode="completion"} 10\n';
  const reordered = '# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total{mode="completion",backend="llama.cpp",model="ai/smollm2"} 20\n';
  dmr.text('/metrics', first);
  const sink = new CollectingConsumer();
  const receiver = new DmrReceiver(
    dmrReceiverConfigSchema.parse({ scrape_interval: '1h', url: `http://127.0.0.1:${dmr.port}` }),
    { id: 'docker_model_runner', kind: 'receiver', logger: new RecordingLogger(), selfMetrics: new SelfMetrics(), health },
    sink,
    {},
  );
  const point = () => {
    const server = sink.latest('service.name', 'docker_model_runner')!;
    return metricNamed(server, 'llamacpp:prompt_tokens_total')!.dataPoints[0]!;
  };
  try {
    await receiver.scraper.scrapeOnce();
    const before = point();
    await new Promise((r) => setTimeout(r, 20));
    dmr.text('/metrics', reordered);
    await receiver.scraper.scrapeOnce();
    const after = point();
    assert.equal(after.value, 20);
    assert.deepEqual(after.startTime, before.startTime, 'not a reset');
    assert.equal(after.attributes, before.attributes, 'the same cached series');
  } finally {
    await receiver.shutdown();
    await dmr.close();
  }
});

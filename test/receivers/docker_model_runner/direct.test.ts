/**
 * Runners that the aggregated /metrics lacks, scraped on their own address:
 * a stand-in model runner on a Unix socket, stand-in runners on
 * `inference-runner-<slot>.sock` beside it and on a TCP port (as SGLang and
 * vllm-metal listen on 127.0.0.1:30000+slot), every one a real HTTP server whose
 * answers change. What a user scrapes is checked by promtool.
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
import { parseFamilies } from '../../../src/prometheus/families.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';
import { scrape } from '../../exporters/prometheus/batches.js';
import { RecordingLogger } from '../../helpers/collect.js';
import { readFixture } from '../../helpers/fixtures.js';
import { DMR_METRICS, DMR_PS, DmrServer } from '../../helpers/dmr-server.js';

const COMPLETION = readFixture('runners', 'llamacpp-completion.prom');
const EMBEDDING = readFixture('runners', 'llamacpp-embedding.prom');
const VLLM = readFixture('runners', 'vllm.prom');
const DMR_MODELS = readFixture('runners', 'dmr-models.json');
/** llama-server v0.5.0's own /v1/models, as captured. */
const LLAMA_V1_MODELS = readFixture('llamacpp-router', 'single.v0.5.0.completion.idle.v1-models.json');

interface Runner {
  backend_name: string;
  model_name: string;
  mode: string;
  [k: string]: unknown;
}
const [SMOLLM, MXBAI] = JSON.parse(DMR_PS) as Runner[];
const SMOLLM_ID = (JSON.parse(DMR_MODELS) as Array<{ id: string }>)[0]!.id;
const MXBAI_ID = 'sha256:8f5e0c2a9b7d4e61c3a2f1e0d9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a39281706';
/** The model runner's /models: the captured entry, plus the embedding model. */
const LOCAL_MODELS = JSON.stringify([...(JSON.parse(DMR_MODELS) as object[]), { id: MXBAI_ID, tags: ['ai/mxbai-embed-large:335M-F16'], created: 1742816981, config: { format: 'gguf' } }]);

/** What a llama-server started by the model runner from a model bundle (no --alias) answers on /v1/models: its model path. */
function llamaServedAs(modelId: string): string {
  const path = `/var/lib/docker/models/bundles/sha256/${modelId.replace('sha256:', '')}/model/model.gguf`;
  return LLAMA_V1_MODELS.replaceAll('"tiny-llama-rand"', JSON.stringify(path));
}

/** vllm-metal's /v1/models: the model is served by its digest and by the reference it was asked by. */
function vllmServedAs(ref: string): string {
  return JSON.stringify({ object: 'list', data: [{ id: 'sha256:0c1f', object: 'model', root: '/models/bundles/x' }, { id: ref, object: 'model', root: '/models/bundles/x' }] });
}

/** `name{labels sorted}` → value, for the families whose name matches. */
function series(body: string, name: RegExp): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of parseFamilies(body)) {
    if (!name.test(f.name)) continue;
    for (const s of f.samples) {
      const labels: string[] = [];
      for (let i = 0; i < s.labels.length; i += 2) labels.push(`${s.labels[i]}="${s.labels[i + 1]}"`);
      out.set(`${s.name}{${labels.sort().join(',')}}`, s.value);
    }
  }
  return out;
}

function value(page: string, name: string): number {
  return Number(new RegExp(`^${name.replace(/[:]/g, '\\$&')}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(page)![1]);
}

function promtoolAccepts(body: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 3, `promtool exit ${r.status}: ${r.stdout}${r.stderr}`);
}

const health = new HealthRegistry();

/** A model runner on its socket; runners are started first, then the receiver, so their ports can be configured. */
async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'rm-dmr-direct-'));
  const dmr = await DmrServer.start(join(dir, 'model-runner.sock'));
  dmr.json('/models', LOCAL_MODELS);
  const selfMetrics = new SelfMetrics();
  const logger = new RecordingLogger();
  const exporter = new PrometheusExporter(prometheusExporterConfigSchema.parse({ endpoint: '127.0.0.1:0', honor_labels: true }), { id: 'prometheus', kind: 'exporter', logger, selfMetrics, health });
  await exporter.start();
  const extra: DmrServer[] = [];
  let receiver: DmrReceiver | undefined;
  return {
    dir,
    dmr,
    logger,
    start: (direct: Record<string, unknown>) => {
      receiver = new DmrReceiver(
        dmrReceiverConfigSchema.parse({ scrape_interval: '1h', scrape_timeout: '500ms', direct }),
        { id: 'docker_model_runner', kind: 'receiver', logger, selfMetrics, health },
        exporter,
        { MODEL_RUNNER_SOCK: dmr.socketPath },
      );
    },
    round: () => receiver!.scraper.scrapeOnce(),
    served: async () => {
      const res = await scrape(exporter.address()!);
      assert.equal(res.status, 200);
      promtoolAccepts(res.body);
      return res.body;
    },
    runner: async (socket?: string) => {
      const s = await DmrServer.start(socket === undefined ? undefined : join(dir, socket));
      extra.push(s);
      return s;
    },
    close: async () => {
      await receiver?.shutdown();
      await exporter.shutdown();
      for (const s of extra) await s.close();
      await dmr.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a `name{labels}` key carries the runner's three labels. */
function labelledAs(key: string, model: string, mode: string, backend: string): boolean {
  return [`backend="${backend}"`, `model="${model}"`, `mode="${mode}"`].every((l) => key.includes(l));
}

const labels = (model: string, mode: string, backend = 'llama.cpp') => `backend="${backend}",mode="${mode}",model="${model}"`;

test('"# No active runners" while two runners are listed: each is found on its own socket and scraped there, labelled as the model runner would', async () => {
  const t = await setup();
  t.start({ tcp_ports: [] });
  try {
    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM, MXBAI]));
    t.dmr.text('/metrics', '# No active runners\n');
    // The model runner's slots: sockets beside its own, found by the default glob.
    const smollm = await t.runner('inference-runner-0.sock');
    smollm.json('/v1/models', llamaServedAs(SMOLLM_ID));
    smollm.text('/metrics', COMPLETION);
    const mxbai = await t.runner('inference-runner-1.sock');
    mxbai.json('/v1/models', llamaServedAs(MXBAI_ID));
    mxbai.text('/metrics', EMBEDDING);

    await t.round();
    await t.round();
    const body = await t.served();
    const smol = labels('ai/smollm2', 'completion');
    const embed = labels('ai/mxbai-embed-large:335M-F16', 'embedding');
    assert.deepEqual(series(body, /^llamacpp:prompt_tokens_total$/), new Map([
      [`llamacpp:prompt_tokens_total{${smol}}`, value(COMPLETION, 'llamacpp:prompt_tokens_total')],
      [`llamacpp:prompt_tokens_total{${embed}}`, value(EMBEDDING, 'llamacpp:prompt_tokens_total')],
    ]));
    assert.equal(series(body, /^llamacpp:n_decode_total$/).get(`llamacpp:n_decode_total{${embed}}`), value(EMBEDDING, 'llamacpp:n_decode_total'));
    assert.doesNotMatch(body, /exported_/);
    const direct = series(body, /^docker_model_runner_runner_metrics_direct$/);
    assert.equal(direct.get(`docker_model_runner_runner_metrics_direct{${smol}}`), 1);
    assert.equal(direct.get(`docker_model_runner_runner_metrics_direct{${embed}}`), 1);
    assert.equal(series(body, /^docker_model_runner_runners_scraped_directly$/).get('docker_model_runner_runners_scraped_directly{}'), 2);
    assert.equal(series(body, /^docker_model_runner_runners_without_metrics$/).get('docker_model_runner_runners_without_metrics{}'), 2, 'the aggregated page still lacks them');

    // Found once, then only their /metrics is asked.
    assert.deepEqual(smollm.requests, ['/v1/models', '/metrics', '/metrics']);
    assert.deepEqual(mxbai.requests, ['/v1/models', '/metrics', '/metrics']);
    assert.equal(t.logger.lines.filter((l) => l.msg === 'runners listed by /engines/ps have no series in /metrics').length, 1);
    assert.equal(t.logger.lines.filter((l) => l.msg === 'runner lacking from /metrics scraped on its own address').length, 2);

    // The model runner's page has them again: they are not scraped twice, and each series is served once.
    t.dmr.text('/metrics', DMR_METRICS);
    await t.round();
    const again = await t.served();
    assert.deepEqual(series(again, /^llamacpp:prompt_tokens_total$/), new Map([
      [`llamacpp:prompt_tokens_total{${smol}}`, 4934],
      [`llamacpp:prompt_tokens_total{${embed}}`, 0],
    ]));
    assert.equal(series(again, /^docker_model_runner_runner_metrics_direct$/).size, 0);
    assert.equal(smollm.requests.length, 3, 'not asked while the aggregated page has it');
    assert.equal(mxbai.requests.length, 3);
  } finally {
    await t.close();
  }
});

test('a TCP runner (never on the aggregated page) is scraped on 127.0.0.1:<port>; it leaves at once, and its port serving another model is recognised anew', async () => {
  const t = await setup();
  const qwen: Runner = { backend_name: 'vllm', model_name: 'ai/qwen3:0.6B-F16', mode: 'completion', last_used: '0001-01-01T00:00:00Z', in_use: true };
  const only = (model: string) => DMR_METRICS.split('\n').filter((l) => l.startsWith('#') || l.includes(`model="${model}"`)).join('\n') + '\n';
  try {
    const other = await t.runner(); // a port that answers, serving something the model runner does not list
    other.json('/v1/models', vllmServedAs('someone/else'));
    other.text('/metrics', VLLM);
    const tcp = await t.runner();
    tcp.json('/v1/models', vllmServedAs('ai/qwen3:0.6B-F16'));
    tcp.text('/metrics', VLLM);
    t.start({ tcp_ports: [other.port, tcp.port] });
    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM, qwen]));
    t.dmr.text('/metrics', only('ai/smollm2'));

    await t.round();
    let body = await t.served();
    const q = labels('ai/qwen3:0.6B-F16', 'completion', 'vllm');
    const running = series(body, /^vllm:num_requests_running$/);
    assert.equal(running.size, 1, [...running.keys()].join('\n'));
    const [name] = [...running.keys()];
    assert.ok(labelledAs(name!, 'ai/qwen3:0.6B-F16', 'completion', 'vllm'), name);
    assert.equal(running.get(name!), value(VLLM, 'vllm:num_requests_running'));
    // The llama.cpp runner comes from the aggregated page only, once.
    assert.deepEqual([...series(body, /^llamacpp:prompt_tokens_total$/).keys()], [`llamacpp:prompt_tokens_total{${labels('ai/smollm2', 'completion')}}`]);
    assert.equal(series(body, /^docker_model_runner_runner_metrics_direct$/).get(`docker_model_runner_runner_metrics_direct{${q}}`), 1);
    assert.deepEqual(other.requests, ['/v1/models'], 'a port serving another model is only asked who it is');

    // The runner leaves /engines/ps: every one of its series goes at once, and its port is no longer asked.
    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM]));
    const asked = tcp.requests.length;
    await t.round();
    body = await t.served();
    assert.doesNotMatch(body, /qwen|vllm:/);
    assert.equal(tcp.requests.length, asked);

    // The slot's port now serves another model: it is recognised by its new name, its series start anew.
    const gemma: Runner = { ...qwen, model_name: 'ai/gemma3' };
    tcp.json('/v1/models', vllmServedAs('ai/gemma3'));
    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM, gemma]));
    await t.round();
    body = await t.served();
    assert.doesNotMatch(body, /qwen/);
    const g = series(body, /^vllm:num_requests_running$/);
    assert.equal(g.size, 1);
    assert.ok(labelledAs([...g.keys()][0]!, 'ai/gemma3', 'completion', 'vllm'), [...g.keys()][0]);
  } finally {
    await t.close();
  }
});

test('a model running in two modes cannot be told apart by name: it is logged, and a configured target names which is which', async () => {
  const t = await setup();
  const embedding: Runner = { ...SMOLLM, mode: 'embedding', in_use: false };
  try {
    const sock = await t.runner('inference-runner-0.sock');
    sock.json('/v1/models', llamaServedAs(SMOLLM_ID));
    sock.text('/metrics', EMBEDDING);
    t.start({ tcp_ports: [], sockets: [] , targets: [{ unix_socket: sock.socketPath, model: 'ai/smollm2', mode: 'embedding' }] });
    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM, embedding]));
    t.dmr.text('/metrics', '# No active runners\n');
    await t.round();
    const body = await t.served();
    const direct = series(body, /^docker_model_runner_runner_metrics_direct$/);
    assert.equal(direct.get(`docker_model_runner_runner_metrics_direct{${labels('ai/smollm2', 'embedding')}}`), 1);
    assert.equal(direct.get(`docker_model_runner_runner_metrics_direct{${labels('ai/smollm2', 'completion')}}`), 0);
    assert.deepEqual([...series(body, /^llamacpp:prompt_tokens_total$/).keys()], [`llamacpp:prompt_tokens_total{${labels('ai/smollm2', 'embedding')}}`]);
    assert.deepEqual(sock.requests, ['/metrics'], 'a configured target is not asked who it is');
    const unfound = t.logger.lines.filter((l) => l.msg === 'runner lacking from /metrics not found on its own address');
    assert.equal(unfound.length, 1, JSON.stringify(t.logger.lines));
    assert.match(String(unfound[0]!['runner']), /completion/);
    await t.round();
    assert.equal(t.logger.lines.filter((l) => l.msg === 'runner lacking from /metrics not found on its own address').length, 1, 'said once');
  } finally {
    await t.close();
  }
});

test('the aggregated /metrics failing: the runners found on their own address are still served, and the model runner stays up', async () => {
  const t = await setup();
  try {
    const sock = await t.runner('inference-runner-0.sock');
    sock.json('/v1/models', llamaServedAs(SMOLLM_ID));
    sock.text('/metrics', COMPLETION);
    t.start({ tcp_ports: [] });
    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM]));
    t.dmr.routes.set('/metrics', { status: 500, body: 'boom', contentType: 'text/plain' });
    await t.round();
    const body = await t.served();
    const smol = labels('ai/smollm2', 'completion');
    assert.equal(series(body, /^llamacpp:prompt_tokens_total$/).get(`llamacpp:prompt_tokens_total{${smol}}`), value(COMPLETION, 'llamacpp:prompt_tokens_total'));
    assert.equal(series(body, /^docker_model_runner_runner_metrics_served$/).size, 0, 'the page was not read: not said either way');
    assert.equal(series(body, /^docker_model_runner_runner_metrics_direct$/).get(`docker_model_runner_runner_metrics_direct{${smol}}`), 1);
    assert.match(body, /^up\{[^}]*job="docker_model_runner"[^}]*\} 1$/m);
  } finally {
    await t.close();
  }
});

test('a configured runner address that does not answer is said once, not every round; when it answers, it is served', async () => {
  const t = await setup();
  const socket = join(t.dir, 'runner.sock');
  try {
    t.start({ tcp_ports: [], targets: [{ unix_socket: socket, model: 'ai/smollm2' }] });
    t.dmr.json('/engines/ps', JSON.stringify([SMOLLM]));
    t.dmr.text('/metrics', '# No active runners\n');
    await t.round();
    await t.round();
    await t.round();
    const warned = t.logger.lines.filter((l) => l.msg === 'runner scraped directly stopped answering; looking for it again');
    assert.equal(warned.length, 1, JSON.stringify(t.logger.lines));
    assert.equal(series(await t.served(), /^docker_model_runner_runner_metrics_direct$/).get(`docker_model_runner_runner_metrics_direct{${labels('ai/smollm2', 'completion')}}`), 0);

    const sock = await t.runner('runner.sock');
    sock.text('/metrics', COMPLETION);
    await t.round();
    const body = await t.served();
    assert.equal(series(body, /^docker_model_runner_runner_metrics_direct$/).get(`docker_model_runner_runner_metrics_direct{${labels('ai/smollm2', 'completion')}}`), 1);
    assert.equal(series(body, /^llamacpp:prompt_tokens_total$/).size, 1);
  } finally {
    await t.close();
  }
});

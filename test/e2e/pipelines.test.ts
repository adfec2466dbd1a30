/**
 * The ready-made pipelines, run by the collector as a user would: each serves
 * stand-in runners (real HTTP servers answering the fixture pages) and the
 * `/metrics` it serves must show one runner per model, labelled `model=<name>`,
 * with the runner's own model label gone (no `model_name`, no `exported_model`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFamilies } from '../../src/prometheus/families.js';
import { REPO_ROOT, readFixture } from '../helpers/fixtures.js';
import { FixtureSite, JSON_TYPE, PROMETHEUS_TEXT } from '../helpers/fixture-site.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import { B4748_COMPLETION, LlamaServer } from '../helpers/llama-server.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');
const prom = (file: string) => ({ body: readFixture('runners', file), contentType: PROMETHEUS_TEXT });
const json = (file: string) => ({ body: readFixture('runners', file), contentType: JSON_TYPE });

interface Series {
  readonly family: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function seriesOf(body: string, family: RegExp): Series[] {
  const out: Series[] = [];
  for (const f of parseFamilies(body)) {
    if (!family.test(f.name)) continue;
    for (const s of f.samples) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < s.labels.length; i += 2) labels[s.labels[i]!] = s.labels[i + 1]!;
      out.push({ family: f.name, labels, value: s.value });
    }
  }
  return out;
}

const values = (series: Series[], label: string) => [...new Set(series.map((s) => s.labels[label]))].sort();

/** Runs `<file>` (under pipelines/ unless a path is given) with `env` until `ready` accepts a /metrics body; stops the collector; answers the body. */
async function runPipeline(file: string, env: Record<string, string>, ready: (body: string) => boolean, then?: (fetchBody: () => Promise<string>) => Promise<void>): Promise<string> {
  const port = await freePort();
  const collector = startProcess(process.execPath, [CLI, '--config', join(REPO_ROOT, file.includes('/') ? file : join('pipelines', file))], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, SCRAPE_INTERVAL: '500ms', SCRAPE_TIMEOUT: '450ms', METRICS_ADDR: `127.0.0.1:${port}` },
  });
  const fetchBody = async () => (await httpGet(`http://127.0.0.1:${port}/metrics`)).body;
  try {
    const body = await eventually(async () => {
      const b = await fetchBody().catch(() => '');
      return ready(b) ? b : undefined;
    }, `${file} to serve the runner`, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\n--- collector:\n${collector.output().slice(-3000)}`);
    });
    await then?.(fetchBody);
    return body;
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    assert.doesNotMatch(collector.output(), /"level":"(error|warn)"/, collector.output());
  }
}

test('every pipelines/*.yaml and otel-config.yaml validates, with no variable left unset', () => {
  const files = readdirSync(join(REPO_ROOT, 'pipelines')).filter((f) => f.endsWith('.yaml'));
  for (const expected of ['tgi.yaml', 'sglang.yaml', 'triton.yaml', 'vllm.yaml', 'torchserve.yaml']) assert.ok(files.includes(expected), expected);
  // grafana-cloud.yaml has no default for its account: give it example values, as its README does.
  const env = {
    ...process.env,
    GRAFANA_CLOUD_OTLP_ENDPOINT: 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp',
    GRAFANA_CLOUD_INSTANCE_ID: '123456',
    GRAFANA_CLOUD_TOKEN: 'glc_example',
  };
  for (const file of [...files.map((f) => join('pipelines', f)), 'otel-config.yaml']) {
    const r = spawnSync(process.execPath, [CLI, 'validate', '--config', file], { cwd: REPO_ROOT, env, encoding: 'utf8' });
    assert.equal(r.status, 0, `${file}: ${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stderr, /warning/, `${file}: ${r.stderr}`);
  }
});

test('torchserve.yaml: one TorchServe serving three models is three runners; a model unregistered leaves at once', async () => {
  const site = await FixtureSite.start({ '/metrics': prom('torchserve-three-models.prom') });
  try {
    const threeModels = (b: string) => values(seriesOf(b, /^PredictionTime$/), 'model').length === 3;
    const body = await runPipeline('torchserve.yaml', { TORCHSERVE_BASE_URL: site.url }, threeModels, async (fetchBody) => {
      // TorchServe unregisters two models: their series go with the next scrape, not at metric_expiration (5m).
      site.serve('/metrics', prom('torchserve.prom'));
      const after = await eventually(async () => {
        const b = await fetchBody();
        return values(seriesOf(b, /^PredictionTime$/), 'model').length === 1 ? b : undefined;
      }, 'the unregistered models to leave /metrics', 10_000);
      assert.deepEqual(values(seriesOf(after, /^(PredictionTime|HandlerTime|ts_)/), 'model'), ['resnet18']);
    });
    const all = seriesOf(body, /./).filter((s) => s.labels['backend'] === 'torchserve');
    assert.ok(all.length > 20);
    for (const s of all) {
      assert.equal(s.labels['ModelName'], undefined, `${s.family} keeps no ModelName`);
      assert.equal(s.labels['model_name'], undefined, `${s.family} keeps no model_name`);
      assert.equal(s.labels['exported_model'], undefined);
      assert.equal(s.labels['mode'], undefined, 'TorchServe does not say what a model does: no mode');
    }
    const requests = seriesOf(body, /^ts_inference_requests_total$/);
    assert.deepEqual(
      Object.fromEntries(requests.map((s) => [s.labels['model'], s.value])),
      { resnet18: 3, bert_seq_classifier: 12, 'llama2-7b-chat': 5 },
    );
    assert.deepEqual(requests.map((s) => s.labels['model_version']), ['default', 'default', 'default'], 'other labels stay');
    assert.deepEqual(values(seriesOf(body, /^(PredictionTime|HandlerTime)$/), 'model'), ['bert_seq_classifier', 'llama2-7b-chat', 'resnet18']);
    // Host-level series name no model: they stay on the server.
    assert.deepEqual(seriesOf(body, /^MemoryUsed$/).map((s) => s.labels), [{ backend: 'torchserve', Level: 'Host', Hostname: 'inference-host-1' }]);
  } finally {
    await site.close();
  }
});

test('vllm.yaml: model_name becomes model, mode completion', async () => {
  const site = await FixtureSite.start({ '/metrics': prom('vllm.prom') });
  try {
    const body = await runPipeline('vllm.yaml', { VLLM_BASE_URL: site.url }, (b) => b.includes('vllm:num_requests_running{'));
    const all = seriesOf(body, /^vllm:/);
    assert.ok(all.length > 100);
    assert.deepEqual(values(all, 'model'), ['Qwen/Qwen2.5-1.5B-Instruct']);
    assert.deepEqual(values(all, 'backend'), ['vllm']);
    assert.deepEqual(values(all, 'mode'), ['completion']);
    assert.deepEqual(values(all, 'model_name'), [undefined]);
    assert.deepEqual(values(all, 'exported_model'), [undefined]);
    assert.deepEqual(values(all, 'engine'), ['0'], 'other labels stay');
    assert.deepEqual(all.filter((s) => s.family.endsWith('_created')), [], 'no *_created gauges: they are the counters\' start times');
    assert.deepEqual(seriesOf(body, /./).filter((s) => !s.family.startsWith('vllm:') && s.labels['backend'] === 'vllm' && s.labels['job'] === undefined), [], 'vllm: families only (besides the target\'s own health series, labelled job)');
  } finally {
    await site.close();
  }
});

test('sglang.yaml: model_name becomes model, mode from /get_model_info', async () => {
  const site = await FixtureSite.start({ '/metrics': prom('sglang.prom'), '/get_model_info': json('sglang-get-model-info.json') });
  try {
    const body = await runPipeline('sglang.yaml', { SGLANG_BASE_URL: site.url }, (b) => /sglang:num_running_reqs\{[^}]*mode="completion"/.test(b));
    const all = seriesOf(body, /^sglang:/);
    assert.ok(all.length > 50);
    assert.deepEqual(values(all, 'model'), ['meta-llama/Llama-3.2-1B-Instruct']);
    assert.deepEqual(values(all, 'backend'), ['sglang']);
    assert.deepEqual(values(all, 'mode'), ['completion']);
    assert.deepEqual(values(all, 'model_name'), [undefined]);
    assert.deepEqual(values(all, 'exported_model'), [undefined]);
    assert.ok((site.requests.get('/get_model_info') ?? 0) >= 1);
  } finally {
    await site.close();
  }
});

test('triton.yaml: each model its own runner; GPU and CPU series on the server', async () => {
  const site = await FixtureSite.start({ '/metrics': prom('triton.prom') });
  try {
    const body = await runPipeline('triton.yaml', { TRITON_BASE_URL: site.url }, (b) => b.includes('nv_inference_request_success{'));
    const all = seriesOf(body, /^nv_/);
    assert.deepEqual(values(all, 'backend'), ['triton']);
    assert.deepEqual(values(all, 'exported_model'), [undefined]);
    assert.deepEqual(values(all, 'mode'), [undefined], 'Triton does not say what a model does: no mode');
    const perModel = all.filter((s) => s.family.startsWith('nv_inference_'));
    assert.ok(perModel.length > 10);
    assert.deepEqual(values(perModel, 'model'), ['resnet50_onnx']);
    assert.deepEqual(values(perModel, 'version'), ['1'], 'other labels stay');
    const gpu = all.filter((s) => s.family.startsWith('nv_gpu_'));
    assert.ok(gpu.length > 0);
    assert.deepEqual(values(gpu, 'model'), [undefined]);
  } finally {
    await site.close();
  }
});

test('tgi.yaml: the model from /info, mode completion', async () => {
  const site = await FixtureSite.start({ '/metrics': prom('tgi.prom'), '/info': json('tgi-info.json') });
  try {
    const body = await runPipeline('tgi.yaml', { TGI_BASE_URL: site.url }, (b) => /tgi_request_count\{[^}]*model="meta-llama/.test(b));
    const all = seriesOf(body, /^tgi_/);
    assert.ok(all.length > 50);
    assert.deepEqual(values(all, 'model'), ['meta-llama/Llama-3.1-8B-Instruct']);
    assert.deepEqual(values(all, 'backend'), ['tgi']);
    assert.deepEqual(values(all, 'mode'), ['completion']);
  } finally {
    await site.close();
  }
});

test('otel-config.yaml serves the derived llamacpp_ families beside llama.cpp\'s own, and grafana-cloud.yaml\'s filter keeps both', async () => {
  const llama = await LlamaServer.start(B4748_COMPLETION);
  try {
    const derived = (b: string) => /^llamacpp_max_context_size_tokens\{/m.test(b) && /^llamacpp:prompt_tokens_total\{/m.test(b);
    const body = await runPipeline('./otel-config.yaml', { LLAMACPP_BASE_URL: llama.url, HOSTMETRICS_INTERVAL: '1s' }, derived);
    assert.deepEqual(values(seriesOf(body, /^llamacpp_(status|max_context_size_tokens)$/), 'model'), ['tiny-llama-rand']);
    const grafanaCloud = readFileSync(join(REPO_ROOT, 'pipelines/grafana-cloud.yaml'), 'utf8');
    const filter = /filter\/llamacpp:[\s\S]*?metric_names: \['(.*)'\]/.exec(grafanaCloud)?.[1];
    assert.ok(filter !== undefined, 'grafana-cloud.yaml has its llama.cpp filter');
    for (const name of ['llamacpp:prompt_tokens_total', 'llamacpp_tokens_per_second']) assert.match(name, new RegExp(filter), `grafana-cloud.yaml keeps ${name}`);
  } finally {
    await llama.close();
  }
});

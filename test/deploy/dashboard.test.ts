/**
 * The Grafana dashboard, checked against what the collector really serves: every
 * panel query, with its template variables resolved as Grafana would ("All"),
 * must return data from a real Prometheus scraping the collector, which scrapes
 * a real llama-server (v0.5.0, the tiny model, some traffic, the opt-in
 * first-token probe on), a stand-in Docker Model Runner serving its fixture
 * answers, a stand-in llama.cpp router (v0.5.0 captures: one model sleeping,
 * one unloaded) found by its discovery, stand-in vLLM, SGLang, TGI, TorchServe (three models) and Triton
 * serving theirs (one runner per model, as pipelines/ sets them up), and this
 * machine through hostmetrics, with a stand-in nvidia-smi on
 * PATH that reports one GPU running the llama-server process (this machine has
 * none). An OTLP push to a closed port with a one-request queue makes the drop
 * and queue panels real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { realLlamaServer } from '../helpers/real-llama-server.js';
import { DMR_METRICS, DMR_PS, DmrServer } from '../helpers/dmr-server.js';
import { FixtureSite, JSON_TYPE, PROMETHEUS_TEXT } from '../helpers/fixture-site.js';
import { readFixture } from '../helpers/fixtures.js';
import { ScrapedCollector } from '../helpers/prometheus-server.js';
import { eventually, freePort, startProcess, stopProcess, type Running } from '../helpers/processes.js';

interface Target {
  readonly refId: string;
  readonly expr: string;
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: Target[];
  readonly panels?: Panel[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly allValue?: string;
  readonly includeAll?: boolean;
  readonly query?: { query: string } | string;
}

const DASHBOARD = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/grafana/dashboards/runner-metrics.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: Variable[] };
};
const panels = DASHBOARD.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
const variables = DASHBOARD.templating.list;
const queryVariables = variables.filter((v) => v.type === 'query');

/**
 * A query as Grafana sends it with every variable on "All" (its allValue) and
 * $__rate_interval at Grafana's floor of four scrape intervals: Prometheus here
 * scrapes every second, so 4s; 10s leaves room for a late scrape.
 */
function resolve(expr: string): string {
  let out = expr.replaceAll('$__rate_interval', '10s').replaceAll('$__interval', '2s');
  for (const v of queryVariables) out = out.replaceAll(`\${${v.name}}`, v.allValue!).replaceAll(`$${v.name}`, v.allValue!);
  assert.doesNotMatch(out, /\$/, `every variable of ${expr} is resolved`);
  return out;
}

test('dashboard: panels with queries on the template data source, variables backend and model with "All"', () => {
  assert.ok(panels.length >= 25);
  const ids = DASHBOARD.panels.flatMap((p) => [p.id, ...(p.panels ?? []).map((c) => c.id)]);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const titles = panels.map((p) => p.title);
  assert.equal(new Set(titles).size, titles.length, 'panel titles are unique');
  for (const p of panels) {
    assert.ok(p.targets && p.targets.length > 0, `${p.title} has queries`);
    assert.equal(p.datasource?.uid, '${datasource}', `${p.title} uses the data source variable`);
    for (const t of p.targets) assert.ok(t.expr.trim() !== '', `${p.title} ${t.refId}`);
    assert.ok(p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`);
  }
  assert.deepEqual(queryVariables.map((v) => v.name), ['backend', 'model']);
  for (const v of queryVariables) {
    assert.equal(v.includeAll, true);
    assert.equal(v.allValue, '.*');
  }
  const all = titles.join(' | ').toLowerCase();
  for (const wanted of ['tokens per second', 'first-token latency', 'requests processing and deferred', 'context', 'kv cache', 'model size', 'status per model', 'runner state', 'gpu', 'cpu', 'memory', 'disk', 'targets up', 'scrape duration', 'push queue', 'dropped']) {
    assert.ok(all.includes(wanted), `a panel for ${wanted}`);
  }
});

/** A stand-in nvidia-smi: one GPU, with the given process on it (the layouts nvidia-smi prints). */
function standInNvidiaSmi(dir: string, pid: number): void {
  const uuid = 'GPU-8f6b3c2e-41d7-5a90-b1e3-7c0d92a4e615';
  const script = `#!/bin/sh
case "$*" in
  *--query-compute-apps=*) echo "${pid}, ${uuid}, 512" ;;
  *--query-gpu=*) echo "0, ${uuid}, NVIDIA GeForce RTX 4090, 37, 18734, 24564, 61, 287.43" ;;
  *) echo "stand-in nvidia-smi: unexpected arguments: $*" >&2; exit 2 ;;
esac
`;
  writeFileSync(join(dir, 'nvidia-smi'), script);
  chmodSync(join(dir, 'nvidia-smi'), 0o755);
}

async function startLlamaServer(): Promise<{ url: string; process: Running }> {
  // The cached real llama-server and the tiny model our GGUF writer makes.
  const kit = await realLlamaServer();
  if (typeof kit === 'string') throw new Error(kit);
  const bin = kit.binary;
  const port = await freePort();
  const args = ['-m', kit.models.llama, '--host', '127.0.0.1', '--port', String(port), '--metrics', '--alias', 'tiny-llama-rand', '-c', '512', '-np', '1', '-t', '1'];
  const process = startProcess(bin, args);
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => ((await fetch(`${url}/health`).catch(() => undefined))?.ok ? true : undefined), 'llama-server to be ready', 60_000, 200);
  return { url, process };
}

const page = (file: string) => ({ body: readFixture('runners', file), contentType: PROMETHEUS_TEXT });
const answer = (file: string) => ({ body: readFixture('runners', file), contentType: JSON_TYPE });

const router = (file: string, type = JSON_TYPE) => ({ body: readFixture('llamacpp-router', file), contentType: type });

/** A llama.cpp router whose tiny-llama-rand sleeps and tiny-bert-rand is unloaded, as captured from v0.5.0. */
function standInRouter(): Promise<FixtureSite> {
  const models = router('router.v0.5.0.f-llama-sleeping.models.json');
  return FixtureSite.start({
    '/models': models,
    '/v1/models': models,
    // Asked only as /metrics?model=tiny-llama-rand&autoload=false and /props?model=…, the sleeping model's answers.
    '/metrics': router('router.v0.5.0.b-llama-loaded.metrics.model-tiny-llama-rand.autoload-false.prom', PROMETHEUS_TEXT),
    '/props': router('router.v0.5.0.b-llama-loaded.props.model-tiny-llama-rand.autoload-false.json'),
  });
}

/** The other runners' stand-ins, by backend. */
async function otherRunners(): Promise<Map<string, FixtureSite>> {
  return new Map([
    ['vllm', await FixtureSite.start({ '/metrics': page('vllm.prom') })],
    ['sglang', await FixtureSite.start({ '/metrics': page('sglang.prom'), '/get_model_info': answer('sglang-get-model-info.json') })],
    ['tgi', await FixtureSite.start({ '/metrics': page('tgi.prom'), '/info': answer('tgi-info.json') })],
    ['torchserve', await FixtureSite.start({ '/metrics': page('torchserve-three-models.prom') })],
    ['triton', await FixtureSite.start({ '/metrics': page('triton.prom') })],
  ]);
}

async function complete(url: string): Promise<void> {
  const res = await fetch(`${url}/completion`, { method: 'POST', body: JSON.stringify({ prompt: 'Hello there', n_predict: 16 }) });
  assert.equal(res.status, 200);
  await res.text();
}

test('every dashboard panel query returns data from a real Prometheus scraping the collector', { timeout: 300_000 }, async () => {
  const llama = await startLlamaServer();
  const others = await otherRunners();
  const llamaRouter = await standInRouter();
  const dmr = await DmrServer.start();
  dmr.json('/engines/ps', DMR_PS);
  dmr.text('/metrics', DMR_METRICS);
  const tools = mkdtempSync(join(tmpdir(), 'rm-gpu-'));
  standInNvidiaSmi(tools, llama.process.child.pid!);
  const savedPath = process.env['PATH'];
  process.env['PATH'] = `${tools}:${savedPath}`; // the collector started below inherits it
  const closedPort = await freePort();
  let prom: ScrapedCollector | undefined;
  try {
    prom = await ScrapedCollector.start(
      (ourPort) => `receivers:
  prometheus/llamacpp:
    scrape_interval: 1s
    scrape_timeout: 900ms
    targets:
      - url: ${llama.url}
        attributes: { backend: llama.cpp }
    llamacpp_insight:
      first_token_probe: { enabled: true, interval: 2s, timeout: 5s }
  docker_model_runner:
    scrape_interval: 1s
    scrape_timeout: 900ms
    url: http://127.0.0.1:${dmr.port}
  hostmetrics:
    collection_interval: 1s
  prometheus/router:
    scrape_interval: 1s
    scrape_timeout: 900ms
    llamacpp_router_sd_configs:
      - { url: ${llamaRouter.url}, refresh_interval: 1s }
  prometheus/others:
    scrape_interval: 1s
    scrape_timeout: 900ms
    targets:
${[...others].map(([backend, site]) => `      - { url: ${site.url}, attributes: { backend: ${backend} } }`).join('\n')}
processors:
  filter/created:
    metrics:
      exclude: { match_type: regexp, metric_names: ['_created$'] }
  attributes/model:
    actions:
      - { key: model, from_attribute: ModelName, action: insert }
      - { key: ModelName, action: delete }
      - { key: model, from_attribute: model_name, action: insert }
      - { key: model_name, action: delete }
  groupbyattrs/model:
    keys: [model]
exporters:
  prometheus:
    endpoint: 127.0.0.1:${ourPort}
  otlphttp/backend:
    endpoint: http://127.0.0.1:${closedPort}
    export_interval: 500ms
    timeout: 200ms
    sending_queue: { queue_size: 1 }
service:
  pipelines:
    metrics:
      receivers: [prometheus/llamacpp, prometheus/router, docker_model_runner, hostmetrics]
      exporters: [prometheus, otlphttp/backend]
    metrics/others:
      receivers: [prometheus/others]
      processors: [filter/created, attributes/model, groupbyattrs/model]
      exporters: [prometheus]
`,
    );
    const p = prom;
    // Traffic between scrapes, so that the counters move and tokens per second is more than a constant.
    await eventually(async () => ((await p.query('up{exported_job="prometheus/llamacpp"} == 1')).length > 0 ? true : undefined), 'the llama-server to be scraped', 60_000, 500).catch((e: Error) => {
      throw p.explain(e);
    });
    for (let i = 0; i < 3; i++) {
      await complete(llama.url);
      await new Promise((r) => setTimeout(r, 1100));
    }

    const queries = panels.flatMap((panel) => panel.targets!.map((t) => ({ panel: panel.title, refId: t.refId, promql: resolve(t.expr) })));
    const empty = new Set(queries.map((q) => `${q.panel} ${q.refId}: ${q.promql}`));
    const deadline = Date.now() + 90_000;
    while (empty.size > 0 && Date.now() < deadline) {
      for (const q of queries) {
        const key = `${q.panel} ${q.refId}: ${q.promql}`;
        if (empty.has(key) && (await p.query(q.promql)).length > 0) empty.delete(key);
      }
      if (empty.size > 0) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.deepEqual([...empty], [], `panel queries without data:\n${[...empty].join('\n')}\n${p.collector.output().slice(-2000)}`);

    // The variables' own queries (label_values(selector, label)) list values, through the series API as Grafana asks.
    for (const v of queryVariables) {
      const text = typeof v.query === 'string' ? v.query : v.query!.query;
      const m = /^label_values\((.*),\s*(\w+)\)$/.exec(text);
      assert.ok(m, text);
      const selector = resolve(m[1]!);
      const res = await fetch(`${p.promUrl}/api/v1/series?match[]=${encodeURIComponent(selector)}`);
      const series = ((await res.json()) as { data: Array<Record<string, string>> }).data;
      const values = new Set(series.map((s) => s[m[2]!]).filter((x) => x !== undefined));
      assert.ok(values.size > 0, `${v.name}: ${text} lists values`);
      if (v.name === 'backend') assert.ok(values.has('llama.cpp'));
      if (v.name === 'model') {
        for (const model of ['tiny-llama-rand', 'resnet18', 'bert_seq_classifier', 'llama2-7b-chat', 'resnet50_onnx', 'Qwen/Qwen2.5-1.5B-Instruct']) {
          assert.ok(values.has(model), `the model variable lists ${model}`);
        }
      }
    }
  } finally {
    process.env['PATH'] = savedPath;
    if (prom) await prom.stop();
    await stopProcess(llama.process);
    await dmr.close();
    for (const site of others.values()) await site.close();
    await llamaRouter.close();
    rmSync(tools, { recursive: true, force: true });
  }
});

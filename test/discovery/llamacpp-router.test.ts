import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusReceiver } from '../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../src/telemetry/health.js';
import type { ResourceBatch } from '../../src/model/batch.js';
import { CollectingConsumer, metricNamed, RecordingLogger } from '../helpers/collect.js';
import { readFixture } from '../helpers/fixtures.js';
import { until } from '../helpers/until.js';
import { RunnerServer } from '../helpers/runner-server.js';

const fx = (name: string) => readFixture('llamacpp-router', name);
const LLAMA = 'tiny-llama-rand';
const BERT = 'tiny-bert-rand';

/** What a running child answers through the router (v0.5.0 captures, `autoload=false`). */
const CHILD: Record<string, { metrics: string; props: string }> = {
  [LLAMA]: {
    metrics: fx('router.v0.5.0.b-llama-loaded.metrics.model-tiny-llama-rand.autoload-false.prom'),
    props: fx('router.v0.5.0.b-llama-loaded.props.model-tiny-llama-rand.autoload-false.json'),
  },
  [BERT]: {
    metrics: fx('router.v0.5.0.d-both-loaded.metrics.model-tiny-bert-rand.autoload-false.prom'),
    props: fx('router.v0.5.0.d-both-loaded.props.model-tiny-bert-rand.autoload-false.json'),
  },
};
const NOT_LOADED = fx('router.v0.5.0.b-llama-loaded.metrics.model-tiny-bert-rand.autoload-false.json');

/**
 * A stand-in router replaying `/models` captures; a child's pages are served only
 * while `/models` says it runs, as the real router does (400 `model is not loaded`).
 */
class StandInRouter {
  models = fx('router.v0.5.0.a-nothing-loaded.models.json');
  readonly requests: string[] = [];
  /** As llama-server --api-key: every path but /health needs `Authorization: Bearer <key>`, else 401. */
  apiKey: string | undefined;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<StandInRouter> {
    let router!: StandInRouter;
    const server = createServer((req, res) => {
      router.requests.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://router');
      const json = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(body);
      if (router.apiKey !== undefined && req.headers.authorization !== `Bearer ${router.apiKey}`) {
        return json(401, '{"error":{"message":"Invalid API Key","type":"authentication_error","code":401}}');
      }
      if (url.pathname === '/models' || url.pathname === '/v1/models') return json(200, router.models);
      const model = url.searchParams.get('model');
      const child = model === null ? undefined : CHILD[model];
      if (child === undefined || (url.pathname !== '/metrics' && url.pathname !== '/props')) return json(404, '{"error":{"code":404}}');
      const running = (JSON.parse(router.models).data as Array<{ id: string; status?: { value: string } }>).some(
        (m) => m.id === model && (m.status?.value === 'loaded' || m.status?.value === 'sleeping'),
      );
      if (!running) return json(400, NOT_LOADED);
      if (url.pathname === '/props') return json(200, child.props);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(child.metrics);
    });
    router = new StandInRouter(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return router;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function serving(sink: CollectingConsumer, model: string): boolean | undefined {
  const rb = sink.latest('model', model);
  return rb === undefined ? undefined : rb.scopeMetrics.some((s) => s.metrics.length > 0);
}

function counterStart(rb: ResourceBatch): number {
  const m = metricNamed(rb, 'llamacpp:prompt_tokens_total');
  assert.ok(m, 'llamacpp:prompt_tokens_total scraped');
  const [s, ns] = m.dataPoints[0]!.startTime;
  return s * 1e3 + ns / 1e6;
}

test('llamacpp_router_sd: loaded and sleeping models are scraped with autoload=false, others not; states follow /models', async () => {
  const router = await StandInRouter.start();
  const config = prometheusReceiverConfigSchema.parse({
    scrape_interval: '50ms',
    scrape_timeout: '1s',
    llamacpp_router_sd_configs: [{ url: router.url, refresh_interval: '50ms' }],
    // Discovery and identity alone: the llama.cpp insight asks /props?model=…&autoload=false itself (test/insight/).
    llamacpp_insight: { enabled: false },
  });
  const sink = new CollectingConsumer();
  const selfMetrics = new SelfMetrics();
  const id = 'prometheus/router';
  const r = new PrometheusReceiver(config, { id, kind: 'receiver', logger: new RecordingLogger(), selfMetrics, health: new HealthRegistry() }, sink);
  const discovered = () => selfMetrics.gauge('runner_metrics_discovery_targets', '').value({ receiver: id, mechanism: 'llamacpp_router_sd' });
  const routerLabel = `${router.url}/`;
  const states = (model: string) => {
    const g = selfMetrics.gauge('llamacpp_router_model_state', '');
    const out: Record<string, number | undefined> = {};
    for (const state of ['unloaded', 'loading', 'loaded', 'sleeping']) out[state] = g.value({ receiver: id, router: routerLabel, model, state });
    return out;
  };
  const stateOf = (model: string) => Object.entries(states(model)).find(([, v]) => v === 1)?.[0];
  const step = async (file: string) => {
    const seen = router.requests.length;
    router.models = fx(file);
    // Two /models answers after the change: the discoverer has acted on it.
    await until(() => router.requests.slice(seen).filter((r) => r === 'GET /models').length >= 2, `/models asked after ${file}`);
  };
  try {
    await r.start();
    // a: nothing loaded: no target, both models stated unloaded.
    await until(() => stateOf(LLAMA) === 'unloaded' && stateOf(BERT) === 'unloaded', 'both unloaded');
    assert.deepEqual(states(LLAMA), { unloaded: 1, loading: 0, loaded: 0, sleeping: 0 });
    assert.equal(r.scrapers.length, 0);
    assert.equal(discovered(), 0);

    // b: llama loaded: one target, through the router with autoload=false.
    await step('router.v0.5.0.b-llama-loaded.models.json');
    await until(() => serving(sink, LLAMA), 'llama scraped');
    assert.equal(r.scrapers.length, 1);
    assert.equal(r.scrapers[0]!.address.url, `${router.url}/metrics?model=${LLAMA}&autoload=false`);
    const llama1 = sink.latest('model', LLAMA)!;
    assert.equal(llama1.resource.attributes['backend'], 'llama.cpp');
    assert.equal(llama1.resource.attributes['mode'], 'completion');
    assert.equal(stateOf(LLAMA), 'loaded');
    const firstStart = counterStart(llama1);

    // max1: bert loading evicts llama: llama's series leave at once, bert is not scraped yet.
    await step('router-max1.v0.5.0.2-load-bert-while-llama-loaded.immediately.models.json');
    await until(() => serving(sink, LLAMA) === false, 'llama emptied on unload');
    await until(() => r.scrapers.length === 0, 'llama scraper stopped');
    assert.equal(stateOf(BERT), 'loading');
    assert.equal(stateOf(LLAMA), 'unloaded');
    assert.equal(serving(sink, BERT), undefined, 'a loading model is not scraped');

    // bert loaded, then asleep: one target throughout, the same scraper (asleep is still scraped).
    await step('router-max1.v0.5.0.2-load-bert-while-llama-loaded.after-bert-loaded.models.json');
    await until(() => serving(sink, BERT), 'bert scraped');
    // The WordPiece vocabulary and --embeddings in /models say embedding.
    assert.equal(sink.latest('model', BERT)!.resource.attributes['mode'], 'embedding');
    const bertScraper = r.scrapers[0];
    await step('router-max1.v0.5.0.3-bert-sleeping.models.json');
    assert.deepEqual(states(BERT), { unloaded: 0, loading: 0, loaded: 0, sleeping: 1 });
    const batches = sink.batches.length;
    await until(() => sink.batches.length > batches + 1 && serving(sink, BERT), 'bert asleep still scraped');
    assert.equal(r.scrapers.length, 1);
    assert.equal(r.scrapers[0], bertScraper);

    // everything unloaded: no target.
    await step('router.v0.5.0.a3-unloaded-again.models.json');
    await until(() => serving(sink, BERT) === false, 'bert emptied on unload');
    await until(() => r.scrapers.length === 0, 'bert scraper stopped');
    assert.equal(discovered(), 0);

    // llama loads again: a new target, with new start times.
    await step('router.v0.5.0.b-llama-loaded.models.json');
    await until(() => r.scrapers.length === 1 && serving(sink, LLAMA), 'llama scraped again');
    assert.ok(counterStart(sink.latest('model', LLAMA)!) > firstStart, 'new cumulative series');

    // A model that leaves the list (its preset removed) takes its state series along.
    const withoutBert = JSON.parse(fx('router.v0.5.0.b-llama-loaded.models.json')) as { data: Array<{ id: string }> };
    withoutBert.data = withoutBert.data.filter((m) => m.id !== BERT);
    const seen = router.requests.length;
    router.models = JSON.stringify(withoutBert);
    await until(() => router.requests.slice(seen).filter((q) => q === 'GET /models').length >= 2, '/models asked');
    assert.deepEqual(states(BERT), { unloaded: undefined, loading: undefined, loaded: undefined, sleeping: undefined });
    assert.equal(stateOf(LLAMA), 'loaded');
  } finally {
    await r.shutdown();
    await router.close();
  }
  // Only /models and per-model pages with autoload=false were ever asked, all with GET; never /slots.
  assert.ok(router.requests.length > 10);
  const allowed = /^GET (\/models|\/v1\/models|\/(metrics|props)\?model=[^&]+&autoload=false)$/;
  const other = router.requests.filter((q) => !allowed.test(q));
  assert.deepEqual(other, []);
  assert.ok(router.requests.some((q) => q.startsWith('GET /metrics?model=')));
  // /models told backend, model and mode: identity has nothing left to ask.
  assert.ok(!router.requests.some((q) => q.startsWith('GET /props')), 'no identity request');
  assert.ok(!router.requests.some((q) => q.includes('/slots')));
  // After shutdown the state series are gone.
  assert.equal(stateOf(LLAMA), undefined);
});

test('llamacpp_router_sd config: url required and http(s), refresh_interval defaults to 5s, alone is enough', () => {
  const ok = prometheusReceiverConfigSchema.parse({ llamacpp_router_sd_configs: [{ url: 'http://127.0.0.1:8080' }] });
  assert.deepEqual(ok.llamacpp_router_sd_configs, [{ url: 'http://127.0.0.1:8080', refresh_interval: 5000, headers: {}, scrape_via: 'router' }]);
  assert.equal(prometheusReceiverConfigSchema.parse({ llamacpp_router_sd_configs: [{ url: 'http://r:8080', refresh_interval: '1s' }] }).llamacpp_router_sd_configs[0]!.refresh_interval, 1000);
  for (const bad of [{}, { url: 'unix:/x.sock' }, { url: '127.0.0.1:8080' }, { url: 'http://u:p@r:8080' }, { url: 'http://r:8080', extra: 1 }, { url: 'http://r:8080', scrape_via: 'direct' }]) {
    assert.equal(prometheusReceiverConfigSchema.safeParse({ llamacpp_router_sd_configs: [bad] }).success, false, JSON.stringify(bad));
  }
});

test('llamacpp_router_sd: an answer that is not a router\'s, or no answer, keeps the last set and is counted', async () => {
  const router = await StandInRouter.start();
  router.models = fx('router.v0.5.0.b-llama-loaded.models.json');
  const config = prometheusReceiverConfigSchema.parse({
    scrape_interval: '50ms',
    scrape_timeout: '1s',
    llamacpp_router_sd_configs: [{ url: router.url, refresh_interval: '50ms' }],
  });
  const sink = new CollectingConsumer();
  const selfMetrics = new SelfMetrics();
  const logger = new RecordingLogger();
  const id = 'prometheus/router-errors';
  const r = new PrometheusReceiver(config, { id, kind: 'receiver', logger, selfMetrics, health: new HealthRegistry() }, sink);
  const errors = (reason: string) => selfMetrics.counter('runner_metrics_discovery_errors_total', '').value({ receiver: id, mechanism: 'llamacpp_router_sd', reason });
  let closed = false;
  try {
    await r.start();
    await until(() => serving(sink, LLAMA), 'llama scraped');
    // A single-model server answers /models without any status.
    router.models = fx('single.v0.5.0.completion.idle.models.json');
    await until(() => errors('parse') >= 2, 'parse errors counted');
    assert.equal(r.scrapers.length, 1, 'the last set is kept');
    await router.close();
    closed = true;
    await until(() => errors('request') >= 2, 'request errors counted');
    assert.equal(r.scrapers.length, 1, 'the last set is kept while the router is away');
    assert.equal(logger.lines.filter((l) => l.msg === 'discovery error' && l['reason'] === 'request').length, 1, 'logged once');
  } finally {
    await r.shutdown();
    if (!closed) await router.close();
  }
});

test('llamacpp_router_sd: the router\'s headers go to /models and every scrape; scrape_via child scrapes the child\'s own port', async () => {
  const router = await StandInRouter.start();
  router.apiKey = 'router-key';
  const child = await RunnerServer.start(fx('router.v0.5.0.d-both-loaded.child-tiny-llama-rand-direct.metrics.prom'));
  // The llama model loaded, its child on our stand-in child's port (the capture's was 33561).
  router.models = fx('router.v0.5.0.b-llama-loaded.models.json').replace(/"--port","\d+"/g, `"--port","${child.port}"`);
  assert.match(router.models, new RegExp(`"--port","${child.port}"`));
  const run = async (extra: Record<string, unknown>) => {
    const config = prometheusReceiverConfigSchema.parse({
      scrape_interval: '50ms',
      scrape_timeout: '1s',
      headers: { 'x-receiver': 'r', authorization: 'Bearer receiver-key' },
      llamacpp_router_sd_configs: [{ url: router.url, refresh_interval: '50ms', headers: { Authorization: 'Bearer router-key' }, ...extra }],
    });
    const sink = new CollectingConsumer();
    const logger = new RecordingLogger();
    const r = new PrometheusReceiver(config, { id: 'prometheus/key', kind: 'receiver', logger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() }, sink);
    try {
      await r.start();
      await until(() => serving(sink, LLAMA), 'llama scraped');
      return { url: r.scrapers[0]!.address.url, resource: sink.latest('model', LLAMA)!.resource.attributes, logger };
    } finally {
      await r.shutdown();
    }
  };
  try {
    // Through the router: the router's key (over the receiver's) on /models and the scrapes, else 401.
    const via = await run({});
    assert.equal(via.url, `${router.url}/metrics?model=${LLAMA}&autoload=false`);
    assert.equal(via.logger.count('discovery error'), 0);
    assert.equal(child.scrapes, 0);

    // On the child's own port: the same labels, the same headers, the router asked only for /models.
    const asked = router.requests.length;
    const direct = await run({ scrape_via: 'child' });
    assert.equal(direct.url, `http://127.0.0.1:${child.port}/metrics`);
    assert.deepEqual(
      [direct.resource['backend'], direct.resource['model'], direct.resource['mode']],
      ['llama.cpp', LLAMA, 'completion'],
    );
    assert.ok(child.scrapes > 0);
    assert.equal(child.headersByPath.get('/metrics')?.authorization, 'Bearer router-key');
    assert.equal(child.headersByPath.get('/metrics')?.['x-receiver'], 'r', 'the receiver\'s other headers too');
    assert.deepEqual(new Set(router.requests.slice(asked)), new Set(['GET /models']));
  } finally {
    await router.close();
    await child.close();
  }
});

test('llamacpp_router_sd: without the router\'s key, /models answers 401: counted and logged once, nothing scraped', async () => {
  const router = await StandInRouter.start();
  router.apiKey = 'router-key';
  router.models = fx('router.v0.5.0.b-llama-loaded.models.json');
  const config = prometheusReceiverConfigSchema.parse({ scrape_interval: '50ms', llamacpp_router_sd_configs: [{ url: router.url, refresh_interval: '50ms' }] });
  const selfMetrics = new SelfMetrics();
  const logger = new RecordingLogger();
  const r = new PrometheusReceiver(config, { id: 'prometheus/nokey', kind: 'receiver', logger, selfMetrics, health: new HealthRegistry() }, new CollectingConsumer());
  try {
    await r.start();
    await until(() => (selfMetrics.counter('runner_metrics_discovery_errors_total', '').value({ receiver: 'prometheus/nokey', mechanism: 'llamacpp_router_sd', reason: 'request' }) ?? 0) >= 3, '401s counted');
    assert.equal(r.scrapers.length, 0);
    const lines = logger.lines.filter((l) => l.msg === 'discovery error');
    assert.equal(lines.length, 1);
    assert.match(JSON.stringify(lines[0]), /HTTP 401/);
  } finally {
    await r.shutdown();
    await router.close();
  }
});

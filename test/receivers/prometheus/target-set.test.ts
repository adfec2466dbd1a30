import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDispatcher } from '../../../src/receivers/prometheus/fetch.js';
import { TargetScraper } from '../../../src/receivers/prometheus/target-scraper.js';
import { TargetSet, discoveredTarget, type ScrapeTarget } from '../../../src/receivers/prometheus/target-set.js';
import { resolveTarget } from '../../../src/receivers/prometheus/target.js';
import type { Discoverer, TargetGroup } from '../../../src/discovery/target-group.js';
import { DiscoveryTelemetry } from '../../../src/discovery/telemetry.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { RunnerServer } from '../../helpers/runner-server.js';
import { CollectingConsumer, RecordingLogger } from '../../helpers/collect.js';
import { until } from '../../helpers/until.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';
import { TargetIdentity } from '../../../src/receivers/prometheus/identity.js';

const PAGE = '# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing 1\n';

/** A discoverer whose set the test changes by hand. */
class HandDiscoverer implements Discoverer {
  readonly mechanism = 'by_hand';
  private onUpdate: ((g: TargetGroup[]) => void) | undefined;
  run(onUpdate: (g: TargetGroup[]) => void): void {
    this.onUpdate = onUpdate;
    onUpdate([]);
  }
  set(...groups: Array<{ targets: string[]; labels?: Record<string, string> }>): void {
    this.onUpdate!(groups.map((g) => ({ targets: g.targets, labels: g.labels ?? {}, source: 'test' })));
  }
  async stop(): Promise<void> {}
}

function targetSet(staticUrls: string[], discoverers: Discoverer[]) {
  const sink = new CollectingConsumer();
  const logger = new RecordingLogger();
  const selfMetrics = new SelfMetrics();
  const agent = createDispatcher(undefined, 1000);
  const created: string[] = [];
  const health = new HealthRegistry();
  const set = new TargetSet({
    staticTargets: staticUrls.map((url) => ({ address: resolveTarget({ url, attributes: {} }, '/metrics'), attributes: {} })),
    discoverers,
    metricsPath: '/metrics',
    create: (target: ScrapeTarget) => {
      created.push(target.address.url);
      const identity = new TargetIdentity({
        address: target.address, runner: 'none', attributes: { 'service.instance.id': target.address.instance, ...target.attributes },
        dispatcher: agent, timeoutMs: 1000, headers: {}, logger,
      });
      const healthLabels = { job: 'prometheus/test', instance: target.address.instance, ...target.attributes };
      const metrics = selfMetrics.scope();
      const reporter = health.target({ job: 'prometheus/test', instance: target.address.instance, endpoint: target.address.display, attributes: target.attributes });
      const scraper = new TargetScraper({
        address: target.address, identity, healthLabels, dispatcher: agent, intervalMs: 50, timeoutMs: 1000,
        bodyLimit: 0, sampleLimit: 0, labelLimits: {}, headers: {}, next: sink, logger, selfMetrics: metrics, reporter,
      });
      return { scraper, healthLabels, close: async () => { metrics.dispose(); reporter.remove(); } };
    },
    next: sink,
    logger,
    telemetry: new DiscoveryTelemetry('prometheus/test', logger, selfMetrics),
  });
  return { set, sink, logger, selfMetrics, created, close: async () => { await set.stop(); await agent.close(); } };
}

/** Whether the latest snapshot of the resource with this instance has metrics (undefined: never seen). */
function serving(sink: CollectingConsumer, instance: string): boolean | undefined {
  const rb = sink.latest('service.instance.id', instance);
  return rb === undefined ? undefined : rb.scopeMetrics.some((s) => s.metrics.length > 0);
}

test('a discovered target is scraped; once removed its series leave at once and its health series are forgotten', async () => {
  const a = await RunnerServer.start(PAGE);
  const b = await RunnerServer.start(PAGE);
  const hand = new HandDiscoverer();
  const { set, sink, selfMetrics, close } = targetSet([], [hand]);
  const ia = `127.0.0.1:${a.port}`;
  const ib = `127.0.0.1:${b.port}`;
  try {
    set.start();
    hand.set({ targets: [ia, ib], labels: { model: 'm1' } });
    await until(() => serving(sink, ia) && serving(sink, ib), 'both targets scraped');
    assert.equal(sink.latest('service.instance.id', ia)!.resource.attributes['model'], 'm1');
    assert.equal(selfMetrics.gauge('runner_metrics_discovery_targets', '').value({ receiver: 'prometheus/test', mechanism: 'by_hand' }), 2);

    hand.set({ targets: [ia], labels: { model: 'm1' } });
    await until(() => serving(sink, ib) === false, 'an empty snapshot of the removed target');
    assert.equal(set.scrapers.length, 1);
    assert.equal(selfMetrics.gauge('up', '').value({ job: 'prometheus/test', instance: ib, model: 'm1' }), undefined);
    assert.equal(selfMetrics.gauge('up', '').value({ job: 'prometheus/test', instance: ia, model: 'm1' }), 1);
    const requestsAfterRemoval = b.requests;
    await until(() => a.requests > requestsAfterRemoval + 2 && a.requests, 'the remaining target scraped on');
    assert.equal(b.requests, requestsAfterRemoval, 'a removed target is no longer scraped');
  } finally {
    await close();
    await a.close();
    await b.close();
  }
});

test('a target configured and discovered, or discovered twice, is scraped once; the configured one wins', async () => {
  const a = await RunnerServer.start(PAGE);
  const one = new HandDiscoverer();
  const two = new HandDiscoverer();
  const { set, created, close } = targetSet([`${a.url}/metrics`], [one, two]);
  try {
    set.start();
    one.set({ targets: [`127.0.0.1:${a.port}`], labels: { model: 'found' } });
    two.set({ targets: [`127.0.0.1:${a.port}`, `unix:/nonexistent/x.sock`] });
    assert.deepEqual(created, [`${a.url}/metrics`, 'http://localhost/metrics']);
    assert.equal(set.scrapers.length, 2);
  } finally {
    await close();
    await a.close();
  }
});

test('changed labels restart the target under its new resource; the old resource is emptied', async () => {
  const a = await RunnerServer.start(PAGE);
  const hand = new HandDiscoverer();
  const { set, sink, close } = targetSet([], [hand]);
  const ia = `127.0.0.1:${a.port}`;
  try {
    set.start();
    hand.set({ targets: [ia], labels: { model: 'old' } });
    await until(() => sink.latest('model', 'old')?.scopeMetrics.length, 'the old resource served');
    hand.set({ targets: [ia], labels: { model: 'new' } });
    await until(() => sink.latest('model', 'new')?.scopeMetrics.length, 'the new resource served');
    await until(() => sink.latest('model', 'old')?.scopeMetrics.length === 0, 'the old resource emptied');
    assert.equal(set.scrapers.length, 1);
  } finally {
    await close();
    await a.close();
  }
});

test('discovered addresses read as Prometheus reads them', () => {
  const t = discoveredTarget('10.0.0.1:8080', { __scheme__: 'https', __metrics_path__: '/m', __meta_x: 'y', backend: 'vllm' }, '/metrics');
  assert.equal(t.address.url, 'https://10.0.0.1:8080/m');
  assert.deepEqual(t.attributes, { backend: 'vllm' });
  const s = discoveredTarget('unix:/run/r.sock', {}, '/metrics');
  assert.equal(s.address.socketPath, '/run/r.sock');
  assert.equal(s.address.url, 'http://localhost/metrics');
  assert.throws(() => discoveredTarget('http://x:1', {}, '/metrics'), /must be host:port/);
  assert.throws(() => discoveredTarget('x:1', { __scheme__: 'ftp' }, '/metrics'), /must be http or https/);
});

test('a discovered address the receiver cannot scrape is a discovery error, counted and logged once; the others are scraped', async () => {
  const a = await RunnerServer.start(PAGE);
  const hand = new HandDiscoverer();
  const { set, selfMetrics, logger, close } = targetSet([], [hand]);
  try {
    set.start();
    hand.set({ targets: ['http://10.0.0.1:80', `127.0.0.1:${a.port}`] });
    hand.set({ targets: ['http://10.0.0.1:80', `127.0.0.1:${a.port}`], labels: { model: 'x' } });
    assert.equal(set.scrapers.length, 1);
    assert.equal(selfMetrics.counter('runner_metrics_discovery_errors_total', '').value({ receiver: 'prometheus/test', mechanism: 'by_hand', reason: 'invalid_target' }), 2);
    const logged = logger.lines.filter((l) => l.msg === 'discovery error');
    assert.equal(logged.length, 1);
    assert.match(String(logged[0]!['error']), /must be host:port/);
  } finally {
    await close();
    await a.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusReceiver } from '../../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';
import { RunnerServer } from '../../helpers/runner-server.js';
import { readFixture } from '../../helpers/fixtures.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../../helpers/collect.js';

const COMPLETION = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');
const EMBEDDING = readFixture('llamacpp-real', 'embedding.after-traffic.metrics.prom');

function receiver(targets: unknown[], extra: Record<string, unknown> = {}) {
  const config = prometheusReceiverConfigSchema.parse({ scrape_interval: '1h', scrape_timeout: '300ms', targets, ...extra });
  const sink = new CollectingConsumer();
  const logger = new RecordingLogger();
  const selfMetrics = new SelfMetrics();
  const health = new HealthRegistry();
  const r = new PrometheusReceiver(config, { id: 'prometheus/test', kind: 'receiver', logger, selfMetrics, health }, sink);
  return { r, sink, logger, selfMetrics, health };
}

function promptTokens(sink: CollectingConsumer, mode: string): number | undefined {
  const rb = sink.latest('mode', mode);
  const m = rb && metricNamed(rb, 'llamacpp:prompt_tokens_total');
  return m?.dataPoints[0]?.value as number | undefined;
}

function expectedPromptTokens(page: string): number {
  return Number(/^llamacpp:prompt_tokens_total (\S+)$/m.exec(page)![1]);
}

test('scrapes a TCP target and a Unix-socket target, one resource each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-recv-'));
  const tcp = await RunnerServer.start(COMPLETION);
  const sock = await RunnerServer.start(EMBEDDING, join(dir, 'model-runner.sock'));
  const { r, sink } = receiver([
    { url: tcp.url, attributes: { backend: 'llama.cpp', model: 'tiny', mode: 'completion' } },
    { url: 'http://127.0.0.1:0/metrics', unix_socket: sock.socketPath, attributes: { backend: 'llama.cpp', model: 'bert', mode: 'embedding' } },
  ]);
  try {
    await Promise.all(r.scrapers.map((s) => s.scrapeOnce()));
    assert.equal(promptTokens(sink, 'completion'), expectedPromptTokens(COMPLETION));
    assert.equal(promptTokens(sink, 'embedding'), expectedPromptTokens(EMBEDDING));
    const rb = sink.latest('mode', 'embedding')!;
    assert.equal(rb.resource.attributes['service.instance.id'], sock.socketPath);
    assert.equal(rb.resource.attributes['model'], 'bert');
    assert.equal(sink.latest('mode', 'completion')!.resource.attributes['service.instance.id'], `127.0.0.1:${tcp.port}`);
    assert.equal(tcp.lastHeaders['accept-encoding'], 'gzip');
    assert.match(String(tcp.lastHeaders['user-agent']), /^runner-metrics\//);
  } finally {
    await r.shutdown();
    await tcp.close();
    await sock.close();
  }
});

test('asks for text format 0.0.4 only, never mentioning OpenMetrics', async () => {
  // prometheus_client (vLLM, SGLang) answers OpenMetrics as soon as Accept names it, whatever its q.
  const tcp = await RunnerServer.start(COMPLETION);
  const { r } = receiver([{ url: tcp.url, attributes: { mode: 'completion' } }]);
  try {
    await r.scrapers[0]!.scrapeOnce();
    const accept = String(tcp.headersByPath.get('/metrics')?.['accept']);
    assert.equal(accept, 'text/plain;version=0.0.4;q=1.0,*/*;q=0.1');
    assert.doesNotMatch(accept, /openmetrics/i);
  } finally {
    await r.shutdown();
    await tcp.close();
  }
});

test('a connection reset in the middle of the body fails with reason io, not connect', async () => {
  const tcp = await RunnerServer.start({ kind: 'reset', partial: '# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total 1' });
  const { r, sink, selfMetrics } = receiver([{ url: tcp.url, attributes: { mode: 'reset' } }], { scrape_timeout: '2s' });
  try {
    await r.scrapers[0]!.scrapeOnce();
    assert.equal(sink.latest('mode', 'reset'), undefined);
    const failures = selfMetrics.counter('runner_metrics_receiver_scrape_failures_total', '');
    const labels = { job: 'prometheus/test', instance: new URL(tcp.url).host, mode: 'reset' };
    assert.equal(failures.value({ ...labels, reason: 'io' }), 1);
    assert.equal(failures.value({ ...labels, reason: 'connect' }), 0);
  } finally {
    await r.shutdown();
    await tcp.close();
  }
});

test('repeated series in a page are reported per target as scrape_samples_duplicate', async () => {
  const tcp = await RunnerServer.start('# TYPE a counter\na 1\na 2\nb 1\n');
  const { r, sink, selfMetrics } = receiver([{ url: tcp.url, attributes: { mode: 'dup' } }]);
  try {
    await r.scrapers[0]!.scrapeOnce();
    const labels = { job: 'prometheus/test', instance: new URL(tcp.url).host, mode: 'dup' };
    assert.equal(selfMetrics.gauge('scrape_samples_duplicate', '').value(labels), 1);
    assert.equal(selfMetrics.gauge('scrape_samples_scraped', '').value(labels), 3);
    assert.deepEqual(metricNamed(sink.latest('mode', 'dup')!, 'a')!.dataPoints.map((p) => p.value), [1]);
  } finally {
    await r.shutdown();
    await tcp.close();
  }
});

test('gzip bodies are decompressed', async () => {
  const tcp = await RunnerServer.start({ kind: 'body', body: COMPLETION, gzip: true });
  const { r, sink } = receiver([{ url: tcp.url, attributes: { mode: 'completion' } }]);
  try {
    await r.scrapers[0]!.scrapeOnce();
    assert.equal(promptTokens(sink, 'completion'), expectedPromptTokens(COMPLETION));
  } finally {
    await r.shutdown();
    await tcp.close();
  }
});

test('failing targets are marked down with a reason; the healthy one keeps flowing', async () => {
  const good = await RunnerServer.start(COMPLETION);
  const hang = await RunnerServer.start({ kind: 'hang' });
  const err500 = await RunnerServer.start({ kind: 'status', status: 500 });
  const garbage = await RunnerServer.start({ kind: 'body', body: '\u0000\u0001binary{{{ garbage\n' });
  const huge = await RunnerServer.start({ kind: 'huge', bytes: 5_000_000 });
  const refused = await RunnerServer.start('x 1\n');
  const refusedUrl = refused.url;
  await refused.close();
  const targets = [
    { url: good.url, attributes: { mode: 'good' } },
    { url: hang.url, attributes: { mode: 'hang' } },
    { url: err500.url, attributes: { mode: '500' } },
    { url: garbage.url, attributes: { mode: 'garbage' } },
    { url: huge.url, attributes: { mode: 'huge' } },
    { url: refusedUrl, attributes: { mode: 'refused' } },
  ];
  // A small limit, so that "too large" is known long before the 300ms timeout even on a loaded
  // machine, while the healthy target also asks its runner's identity at the same time.
  const { r, sink, selfMetrics, logger } = receiver(targets, { body_size_limit: '128KiB' });
  try {
    await Promise.all(r.scrapers.map((s) => s.scrapeOnce()));
    assert.ok(sink.latest('mode', 'good'), 'the healthy target delivered');
    for (const t of ['hang', '500', 'garbage', 'huge', 'refused']) assert.equal(sink.latest('mode', t), undefined, t);

    const up = selfMetrics.gauge('up', '');
    const failures = selfMetrics.counter('runner_metrics_receiver_scrape_failures_total', '');
    const labels = (mode: string, url: string) => ({ job: 'prometheus/test', instance: new URL(url).host, mode });
    assert.equal(up.value(labels('good', good.url)), 1);
    const reasons: Record<string, string> = { hang: 'timeout', '500': 'http_status', garbage: 'parse', huge: 'body_too_large', refused: 'connect' };
    const urls: Record<string, string> = { hang: hang.url, '500': err500.url, garbage: garbage.url, huge: huge.url, refused: refusedUrl };
    for (const [mode, reason] of Object.entries(reasons)) {
      assert.equal(up.value(labels(mode, urls[mode]!)), 0, mode);
      assert.equal(failures.value({ ...labels(mode, urls[mode]!), reason }), 1, `${mode} failed with ${reason}`);
    }
    // Logged once per target when it goes down...
    assert.equal(logger.count('target is down'), 5);
    await Promise.all(r.scrapers.map((s) => s.scrapeOnce()));
    assert.equal(logger.count('target is down'), 5, 'not logged again on the next failing scrape');

    // ...and once when it recovers.
    err500.serve(COMPLETION);
    await Promise.all(r.scrapers.map((s) => s.scrapeOnce()));
    assert.equal(logger.count('target is up again'), 1);
    assert.equal(up.value(labels('500', err500.url)), 1);
  } finally {
    await r.shutdown();
    await Promise.all([good, hang, err500, garbage, huge].map((s) => s.close()));
  }
});

test('the scrape timer keeps scraping at the interval', async () => {
  const tcp = await RunnerServer.start(COMPLETION);
  const { r, sink } = receiver([{ url: tcp.url, attributes: { mode: 'completion' } }], { scrape_interval: '50ms', scrape_timeout: '40ms' });
  try {
    await r.start();
    await sink.waitFor(3);
    assert.ok(tcp.requests >= 3);
  } finally {
    await r.shutdown();
    await tcp.close();
  }
  const after = tcp.requests;
  await new Promise((res) => setTimeout(res, 120));
  assert.equal(tcp.requests, after, 'no scrapes after shutdown');
});

test('a target URL without a path gets metrics_path', async () => {
  const tcp = await RunnerServer.start(COMPLETION);
  const { r } = receiver([{ url: tcp.url + '/' }], { metrics_path: '/custom' });
  try {
    assert.equal(new URL(r.scrapers[0]!.address.url).pathname, '/custom');
  } finally {
    await r.shutdown();
    await tcp.close();
  }
});

test('targets are spread over the interval by a stable offset', async () => {
  const { scrapeOffset } = await import('../../../src/receivers/prometheus/target-scraper.js');
  const offsets = Array.from({ length: 200 }, (_, i) => scrapeOffset(`http://127.0.0.1:${8000 + i}/metrics`, 5000));
  assert.ok(offsets.every((o) => o >= 0 && o < 5000));
  assert.equal(scrapeOffset('http://127.0.0.1:8000/metrics', 5000), offsets[0], 'stable for the same target');
  // Spread: every fifth of the interval holds some of the 200 targets.
  for (let fifth = 0; fifth < 5; fifth++) {
    assert.ok(offsets.some((o) => o >= fifth * 1000 && o < (fifth + 1) * 1000), `fifth ${fifth}`);
  }
});

test('a target going down hands on one empty snapshot, so its last values stop being served', async () => {
  const tcp = await RunnerServer.start(COMPLETION);
  const { r, sink } = receiver([{ url: tcp.url, attributes: { mode: 'completion' } }]);
  try {
    await r.scrapers[0]!.scrapeOnce();
    assert.equal(promptTokens(sink, 'completion'), expectedPromptTokens(COMPLETION));
    // (Not 503: that is how llama-server says its model is loading, which the insight tells as a status.)
    tcp.behaviour = { kind: 'status', status: 500 };
    await r.scrapers[0]!.scrapeOnce();
    await r.scrapers[0]!.scrapeOnce();
    assert.equal(sink.batches.length, 2, 'one empty snapshot on the transition, none while it stays down');
    const stale = sink.batches[1]![0]!;
    assert.equal(stale.resource.attributes['mode'], 'completion');
    assert.deepEqual(stale.scopeMetrics, []);
    tcp.serve(COMPLETION);
    await r.scrapers[0]!.scrapeOnce();
    assert.equal(promptTokens(sink, 'completion'), expectedPromptTokens(COMPLETION), 'back with its values');
  } finally {
    await r.shutdown();
    await tcp.close();
  }
});

test('credentials in a target URL are sent as Basic auth and kept out of the URL', async () => {
  const tcp = await RunnerServer.start(COMPLETION);
  const url = new URL(tcp.url);
  url.username = 'scraper';
  url.password = 'p@ss';
  const { r, sink, logger } = receiver([{ url: url.toString(), attributes: { mode: 'completion' } }]);
  try {
    await r.scrapers[0]!.scrapeOnce();
    // The scrape and the questions about the runner's identity (/props, /v1/models) alike.
    assert.deepEqual([...tcp.headersByPath.keys()].sort(), ['/metrics', '/props', '/v1/models']);
    for (const [path, headers] of tcp.headersByPath) {
      assert.equal(headers['authorization'], 'Basic ' + Buffer.from('scraper:p@ss').toString('base64'), path);
    }
    assert.equal(promptTokens(sink, 'completion'), expectedPromptTokens(COMPLETION));
    assert.doesNotMatch(r.scrapers[0]!.address.url + r.scrapers[0]!.address.display + JSON.stringify(logger.lines), /p@ss|p%40ss/);
  } finally {
    await r.shutdown();
    await tcp.close();
  }
});

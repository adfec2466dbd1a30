/** Outages, throttling, rejections, a slow backend, a full queue and shutdown, against a real receiver. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { OtlpHttpExporter } from '../../../src/exporters/otlphttp/index.js';
import { ownMetric, POINTS_PER_BATCH, runnerBatch, testConfig, testContext, type TestContext } from './batches.js';
import { OtlpReceiver, partialSuccess, points, rpcStatus } from './receiver.js';

const EXPORTER = 'otlphttp/test';
const SENT = 'runner_metrics_exporter_sent_metric_points_total';
const FAILED = 'runner_metrics_exporter_send_failed_metric_points_total';
const DROPPED = 'runner_metrics_exporter_dropped_metric_points_total';

let receiver: OtlpReceiver;
let t: TestContext;
let exporter: OtlpHttpExporter;

beforeEach(async () => {
  receiver = await OtlpReceiver.start();
  t = testContext(EXPORTER);
});
afterEach(async () => {
  await exporter?.shutdown();
  await receiver.close();
});

async function startExporter(config: Record<string, unknown> = {}): Promise<OtlpHttpExporter> {
  const endpoint = config['endpoint'] ?? receiver.endpoint;
  exporter = new OtlpHttpExporter(testConfig({ ...config, endpoint }), t.context);
  await exporter.start();
  return exporter;
}

/** Pushes one scrape of runner 0 per scrape number. */
async function push(scrapes: number[]): Promise<void> {
  for (const s of scrapes) {
    exporter.consume([runnerBatch(0, s)]);
    await exporter.exportNow();
  }
}

function counterValues(): number[] {
  return [...points(receiver.accepted)]
    .filter((p) => p.metric.name === 'llamacpp:prompt_tokens_total')
    .map((p) => p.point.asDouble);
}

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 5));
}

const own = (name: string, extra: Record<string, string> = {}) => ownMetric(t.selfMetrics, name, { exporter: EXPORTER, ...extra });
const dropLogs = () => t.logs.filter((l) => l.msg === 'dropping metric points');

describe('otlphttp failures', () => {
  test('backend down (503) then up: everything queued arrives, in order, once', async () => {
    let down = true;
    receiver.responder = () => (down ? { status: 503 } : undefined);
    await startExporter();
    await push([1, 2, 3, 4]);
    await receiver.waitFor(() => receiver.attempts >= 3);
    assert.equal(receiver.accepted.length, 0);
    down = false;
    await exporter.forceFlush();
    assert.deepEqual(counterValues(), [1, 2, 3, 4]);
    assert.equal(own(SENT), 4 * POINTS_PER_BATCH);
    assert.ok(own(FAILED)! >= POINTS_PER_BATCH);
    assert.equal(own(DROPPED, { reason: 'retries_exhausted' }), undefined);
    assert.ok(t.logs.some((l) => l.msg === 'push failing, retrying' && l.cause === 'HTTP 503'));
    assert.ok(t.logs.some((l) => l.msg === 'push recovered'));
  });

  test('connection refused then a backend appears on that port: nothing lost', async () => {
    const port = receiver.port;
    await receiver.close();
    await startExporter({ endpoint: `http://127.0.0.1:${port}` });
    await push([1, 2]);
    await until(() => t.logs.some((l) => l.msg === 'push failing, retrying'));
    receiver = await OtlpReceiver.start(port);
    await exporter.forceFlush();
    assert.deepEqual(counterValues(), [1, 2]);
    assert.ok(t.logs.some((l) => l.msg === 'push failing, retrying' && l.cause === 'ECONNREFUSED'));
  });

  test('429 with Retry-After is honoured instead of the backoff', async () => {
    let first = true;
    receiver.responder = () => {
      if (!first) return undefined;
      first = false;
      return { status: 429, headers: { 'retry-after': '0' } };
    };
    // An hour of backoff: only Retry-After: 0 lets this test finish.
    await startExporter({ retry_on_failure: { initial_interval: '1h', max_interval: '1h' } });
    await push([1]);
    await exporter.forceFlush();
    assert.deepEqual(counterValues(), [1]);
    assert.equal(receiver.attempts, 2);
  });

  test('400 is permanent: dropped, counted, logged once with the backend message, not retried', async () => {
    receiver.responder = () => ({
      status: 400,
      body: rpcStatus(3, 'invalid metric name "x y"'),
    });
    await startExporter();
    await push([1, 2, 3]);
    await exporter.forceFlush();
    assert.equal(receiver.attempts, 3);
    assert.equal(own(DROPPED, { reason: 'permanent_error' }), 3 * POINTS_PER_BATCH);
    assert.equal(own(SENT), 0);
    const logs = dropLogs();
    assert.equal(logs.length, 1);
    assert.equal(logs[0].reason, 'permanent_error');
    assert.equal(logs[0].cause, 'HTTP 400: invalid metric name "x y"');
  });

  test('400 with a JSON error body: its message is logged', async () => {
    receiver.responder = () => ({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 3, message: 'out of order sample' }),
    });
    await startExporter({ encoding: 'json' });
    await push([1]);
    await exporter.forceFlush();
    assert.equal(dropLogs()[0].cause, 'HTTP 400: out of order sample');
  });

  test('partial success: rejected points are counted as dropped and logged, the rest as sent', async () => {
    receiver.responder = () => ({ status: 200, body: partialSuccess(2, 'series limit exceeded') });
    await startExporter();
    await push([1, 2]);
    await exporter.forceFlush();
    assert.equal(own(SENT), 2 * (POINTS_PER_BATCH - 2));
    assert.equal(own(DROPPED, { reason: 'rejected' }), 4);
    assert.equal(dropLogs().length, 1);
    assert.equal(dropLogs()[0].cause, 'series limit exceeded');
  });

  test('retries give up after max_elapsed_time: dropped and counted', async () => {
    receiver.responder = () => ({ status: 502 });
    await startExporter({ retry_on_failure: { initial_interval: '5ms', max_interval: '5ms', max_elapsed_time: '20ms' } });
    await push([1]);
    await exporter.forceFlush();
    assert.equal(own(DROPPED, { reason: 'retries_exhausted' }), POINTS_PER_BATCH);
    assert.equal(dropLogs()[0].cause, 'HTTP 502 (max_elapsed_time reached)');
  });

  test('past queue_size the oldest requests are dropped and counted', async () => {
    let down = true;
    receiver.responder = () => (down ? { status: 503 } : undefined);
    await startExporter({ sending_queue: { queue_size: 2 } });
    await push([1]);
    await receiver.waitFor(() => receiver.attempts >= 1); // request 1 is in flight
    await push([2, 3, 4, 5]);
    assert.equal(own('runner_metrics_exporter_queue_capacity'), 2);
    assert.equal(own('runner_metrics_exporter_queue_size'), 3);
    down = false;
    await exporter.forceFlush();
    assert.deepEqual(counterValues(), [1, 4, 5]);
    assert.equal(own(DROPPED, { reason: 'queue_full' }), 2 * POINTS_PER_BATCH);
    assert.equal(dropLogs().length, 1);
  });

  test('a slow backend never slows consume() nor other HTTP servers in the process', async () => {
    let release!: () => void;
    const stalled = new Promise<void>((r) => (release = r));
    receiver.responder = async () => {
      await stalled;
      return undefined;
    };
    const other = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      await startExporter();
      await push([1]);
      await receiver.waitFor(() => receiver.attempts >= 1);
      // While the backend holds the request: consume and queueing complete, and the other server answers.
      for (let i = 2; i < 50; i++) exporter.consume([runnerBatch(0, i)]);
      await exporter.exportNow();
      const res = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      assert.equal(await res.text(), 'ok');
      assert.equal(receiver.accepted.length, 0);
      release();
      await exporter.forceFlush();
      assert.deepEqual(counterValues(), [1, 49]);
    } finally {
      release();
      other.close();
    }
  });

  test('shutdown() delivers what was queued during an outage', async () => {
    let down = true;
    receiver.responder = () => (down ? { status: 503 } : undefined);
    await startExporter();
    await push([1, 2, 3]);
    exporter.consume([runnerBatch(0, 4)]); // not yet pushed: shutdown pushes it too
    await receiver.waitFor(() => receiver.attempts >= 2);
    down = false;
    await exporter.shutdown();
    assert.deepEqual(counterValues(), [1, 2, 3, 4]);
  });

  test('shutdown() gives up at shutdown_timeout and counts what a memory queue loses', async () => {
    receiver.responder = () => ({ status: 503 });
    await startExporter({ shutdown_timeout: '50ms' });
    await push([1, 2, 3]);
    await exporter.shutdown();
    assert.equal(own(DROPPED, { reason: 'shutdown' }), 3 * POINTS_PER_BATCH);
    assert.equal(own('runner_metrics_exporter_queue_size'), 0);
  });

  test('secrets never reach the logs', async () => {
    receiver.responder = () => ({ status: 401, body: 'unauthorized' });
    await startExporter({
      endpoint: receiver.endpoint.replace('http://', 'http://user:urlpass@') + '/otlp?token=querysecret',
      headers: { 'X-Api-Key': 'headersecret' },
      auth: { basic: { username: '123', password: 'glc_tokensecret' } },
    });
    await push([1]);
    await exporter.forceFlush();
    const text = JSON.stringify(t.logs);
    assert.ok(dropLogs().length === 1);
    for (const secret of ['urlpass', 'querysecret', 'headersecret', 'glc_tokensecret', Buffer.from('123:glc_tokensecret').toString('base64')]) {
      assert.ok(!text.includes(secret), `${secret} leaked into logs`);
    }
  });
});

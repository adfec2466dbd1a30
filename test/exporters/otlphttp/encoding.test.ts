/** What arrives at a real OTLP/HTTP receiver: resources, names, values, times, types, gzip, both encodings. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OtlpHttpExporter } from '../../../src/exporters/otlphttp/index.js';
import { POINTS_PER_BATCH, runnerBatch, START_NANOS, testConfig, testContext } from './batches.js';
import { attr, OtlpReceiver, points, type Decoded } from './receiver.js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await OtlpReceiver.start();
});
after(() => receiver.close());

async function pushOnce(config: Record<string, unknown>, runners: number[]): Promise<{ requests: Decoded[]; headers: any[] }> {
  receiver.accepted.length = 0;
  const { context } = testContext();
  const exporter = new OtlpHttpExporter(testConfig({ endpoint: receiver.endpoint, ...config }), context);
  await exporter.start();
  exporter.consume(runners.map((r) => runnerBatch(r, 1)));
  await exporter.forceFlush();
  await exporter.shutdown();
  return { requests: receiver.accepted.map((r) => r.body), headers: receiver.accepted.map((r) => r.headers) };
}

function metric(rm: Decoded, name: string): Decoded {
  const m = rm.scopeMetrics[0].metrics.find((x: Decoded) => x.name === name);
  assert.ok(m, `metric ${name} missing`);
  return m;
}

describe('otlphttp encoding', () => {
  test('every runner arrives as its own resource in one gzip protobuf request, intact', async () => {
    const { requests, headers } = await pushOnce({}, [0, 1, 2]);
    assert.equal(requests.length, 1);
    assert.equal(headers[0]['content-type'], 'application/x-protobuf');
    assert.equal(headers[0]['content-encoding'], 'gzip');

    const rms = requests[0]!.resourceMetrics as Decoded[];
    assert.deepEqual(
      rms.map((rm) => attr(rm.resource.attributes, 'service.instance.id')),
      ['runner-0', 'runner-1', 'runner-2'],
    );
    const rm = rms[1]!;
    assert.equal(attr(rm.resource.attributes, 'model'), 'model-1');
    assert.equal(attr(rm.resource.attributes, 'server.address'), '127.0.0.1:8081');
    assert.equal(rm.scopeMetrics[0].scope.name, 'runner-metrics/prometheus');
    assert.equal(rm.scopeMetrics[0].scope.version, '0.1.0');

    // Counter: name as scraped, cumulative, monotonic, true start time to the nanosecond.
    const counter = metric(rm, 'llamacpp:prompt_tokens_total');
    assert.equal(counter.description, 'Number of prompt tokens processed.');
    assert.equal(counter.sum.aggregationTemporality, 2);
    assert.equal(counter.sum.isMonotonic, true);
    const cp = counter.sum.dataPoints[0];
    assert.equal(cp.asDouble, 1001);
    assert.equal(cp.startTimeUnixNano, START_NANOS);
    assert.equal(cp.timeUnixNano, '1704200001000000000');
    assert.deepEqual(counter.metadata, [{ key: 'prometheus.type', value: { stringValue: 'counter' } }]);

    // Promoted resource attributes on every point (default backend, model, mode).
    assert.equal(attr(cp.attributes, 'backend'), 'llamacpp');
    assert.equal(attr(cp.attributes, 'model'), 'model-1');
    assert.equal(attr(cp.attributes, 'mode'), 'completion');
    assert.equal(attr(cp.attributes, 'service.instance.id'), undefined);

    const gauge = metric(rm, 'llamacpp:requests_processing');
    assert.equal(gauge.gauge.dataPoints[0].asDouble, 1.5);
    assert.equal(attr(gauge.gauge.dataPoints[0].attributes, 'slot'), '0');

    const hist = metric(rm, 'request_duration_seconds');
    assert.equal(hist.unit, 's');
    assert.equal(hist.histogram.aggregationTemporality, 2);
    const hp = hist.histogram.dataPoints[0];
    assert.deepEqual(hp.explicitBounds, [0.1, 1, 10]);
    assert.deepEqual(hp.bucketCounts, ['1', '2', '3', '0']);
    assert.equal(hp.count, '6');
    assert.equal(hp.sum, 12.5);
    assert.equal(hp.startTimeUnixNano, START_NANOS);
    // The point's own label wins over a promoted resource attribute of the same key.
    assert.equal(attr(hp.attributes, 'model'), 'own-label');
    assert.equal(attr(hp.attributes, 'endpoint'), '/completion');
    assert.equal(hp.attributes.filter((a: Decoded) => a.key === 'model').length, 1);

    const summary = metric(rm, 'rpc_latency_seconds');
    const sp = summary.summary.dataPoints[0];
    assert.equal(sp.count, '20');
    assert.equal(sp.sum, 10);
    assert.deepEqual(sp.quantileValues, [
      { quantile: 0.5, value: 0.2 },
      { quantile: 0.99, value: 1.5 },
    ]);
    assert.equal(sp.startTimeUnixNano, START_NANOS);

    const untyped = metric(rm, 'Requests2XX');
    assert.equal(untyped.gauge.dataPoints[0].asDouble, 7);
    assert.deepEqual(untyped.metadata, [{ key: 'prometheus.type', value: { stringValue: 'untyped' } }]);
  });

  test('JSON encoding carries exactly what protobuf carries', async () => {
    const proto = await pushOnce({ compression: 'none' }, [3, 4]);
    const json = await pushOnce({ encoding: 'json' }, [3, 4]);
    assert.equal(proto.headers[0]['content-encoding'], undefined);
    assert.equal(json.headers[0]['content-type'], 'application/json');
    assert.equal(json.headers[0]['content-encoding'], 'gzip');
    assert.deepEqual(json.requests, proto.requests);
  });

  test('resource_to_attributes chooses what is copied onto points', async () => {
    const { requests } = await pushOnce({ resource_to_attributes: ['server.address'] }, [5]);
    const rm = requests[0]!.resourceMetrics[0];
    const p = metric(rm, 'llamacpp:prompt_tokens_total').sum.dataPoints[0];
    assert.equal(attr(p.attributes, 'server.address'), '127.0.0.1:8085');
    assert.equal(attr(p.attributes, 'backend'), undefined);
  });

  test('a push is split only when max_request_points is exceeded, nothing lost', async () => {
    const runners = Array.from({ length: 10 }, (_, i) => i);
    const whole = await pushOnce({}, runners);
    assert.equal(whole.requests.length, 1);
    assert.equal(whole.requests[0]!.resourceMetrics.length, 10);

    const split = await pushOnce({ max_request_points: 3 * POINTS_PER_BATCH }, runners);
    assert.deepEqual(
      split.requests.map((r) => r.resourceMetrics.length),
      [3, 3, 3, 1],
    );
    const seen = [...points(receiver.accepted)].map((p) => p.instance);
    assert.equal(seen.length, 10 * POINTS_PER_BATCH);
  });

  test('max_request_bytes splits by encoded size', async () => {
    const split = await pushOnce({ max_request_bytes: 1500, compression: 'none' }, [0, 1, 2, 3]);
    assert.ok(split.requests.length > 1);
    assert.equal(split.requests.reduce((n, r) => n + r.resourceMetrics.length, 0), 4);
  });

  test('headers and basic auth are sent', async () => {
    const { headers } = await pushOnce(
      { headers: { 'X-Scope-OrgID': 'tenant-1' }, auth: { basic: { username: '123456', password: 'glc_secret' } } },
      [0],
    );
    assert.equal(headers[0]['x-scope-orgid'], 'tenant-1');
    assert.equal(headers[0]['authorization'], 'Basic ' + Buffer.from('123456:glc_secret').toString('base64'));
  });

  test('only runners that reported since the last push are pushed again', async () => {
    receiver.accepted.length = 0;
    const { context } = testContext();
    const exporter = new OtlpHttpExporter(testConfig({ endpoint: receiver.endpoint }), context);
    await exporter.start();
    exporter.consume([runnerBatch(0, 1), runnerBatch(1, 1)]);
    exporter.consume([runnerBatch(0, 2)]); // replaces runner 0's snapshot
    await exporter.forceFlush();
    exporter.consume([runnerBatch(1, 3)]);
    await exporter.forceFlush();
    await exporter.forceFlush(); // nothing new: no request
    await exporter.shutdown();
    const got = [...points(receiver.accepted)]
      .filter((p) => p.metric.name === 'llamacpp:prompt_tokens_total')
      .map((p) => `${p.instance}=${p.point.asDouble}`);
    assert.deepEqual(got, ['runner-0=2', 'runner-1=1001', 'runner-1=1003']);
    assert.equal(receiver.accepted.length, 2);
  });

  for (const encoding of ['proto', 'json']) {
    test(`${encoding}: labels named __proto__, constructor and toString arrive, promoted attributes beside them`, async () => {
      receiver.accepted.length = 0;
      const page = 'a{__proto__="p",constructor="c",toString="t"} 1\n';
      const state = new ScrapeState(resourceFromAttributes({ model: 'm' }));
      const { context } = testContext();
      const exporter = new OtlpHttpExporter(testConfig({ endpoint: receiver.endpoint, encoding }), context);
      await exporter.start();
      exporter.consume([state.convert(page, 'text/plain', 1_704_200_000_000).batch]);
      await exporter.forceFlush();
      await exporter.shutdown();
      const rm = receiver.accepted[0]!.body.resourceMetrics[0];
      const point = metric(rm, 'a').gauge.dataPoints[0];
      assert.deepEqual(
        point.attributes.map((kv: Decoded) => [kv.key, attr(point.attributes, kv.key)]),
        [['__proto__', 'p'], ['constructor', 'c'], ['toString', 't'], ['model', 'm']],
      );
    });
  }
});


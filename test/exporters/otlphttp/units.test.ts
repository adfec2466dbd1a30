/** Config, Retry-After, error bodies and the protobuf writer's edge cases. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { Backoff, parseRetryAfter } from '../../../src/exporters/otlphttp/backoff.js';
import { metricsUrl } from '../../../src/exporters/otlphttp/config.js';
import { otlpHttpExporterFactory } from '../../../src/exporters/otlphttp/index.js';
import { hrTimeHalves, ProtoWriter } from '../../../src/exporters/otlphttp/proto-writer.js';
import { readErrorMessage, readPartialSuccess } from '../../../src/exporters/otlphttp/response.js';
import { partialSuccess, rpcStatus } from './receiver.js';

const parse = (body: unknown) => otlpHttpExporterFactory.configSchema.safeParse(body);

describe('otlphttp config', () => {
  test('defaults', () => {
    const c = otlpHttpExporterFactory.configSchema.parse({ endpoint: 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp' });
    assert.equal(otlpHttpExporterFactory.type, 'otlphttp');
    assert.deepEqual(otlpHttpExporterFactory.secretKeys, ['auth.basic.password', 'headers']);
    assert.equal(c.compression, 'gzip');
    assert.equal(c.encoding, 'proto');
    assert.equal(c.timeout, 30_000);
    assert.equal(c.export_interval, 15_000);
    assert.equal(c.shutdown_timeout, 10_000);
    assert.deepEqual(c.resource_to_attributes, ['backend', 'model', 'mode']);
    assert.deepEqual(c.retry_on_failure, {
      enabled: true,
      initial_interval: 5_000,
      max_interval: 30_000,
      max_elapsed_time: 300_000,
      multiplier: 1.5,
    });
    assert.deepEqual(c.sending_queue, { enabled: true, queue_size: 1000 });
    assert.equal(metricsUrl(c), 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp/v1/metrics');
  });

  test('metrics_endpoint is used as is; exactly one of the two is required', () => {
    assert.equal(metricsUrl({ metrics_endpoint: 'http://mimir:8080/otlp/v1/metrics' }), 'http://mimir:8080/otlp/v1/metrics');
    assert.equal(metricsUrl({ endpoint: 'http://collector:4318/' }), 'http://collector:4318/v1/metrics');
    assert.equal(metricsUrl({ endpoint: 'http://gw:4318/otlp?api_key=k' }), 'http://gw:4318/otlp/v1/metrics?api_key=k');
    assert.match(parse({}).error!.issues[0]!.message, /exactly one of endpoint or metrics_endpoint/);
    assert.equal(parse({ endpoint: 'http://a', metrics_endpoint: 'http://b/v1/metrics' }).success, false);
    assert.equal(parse(null).success, false);
  });

  test('errors name the key', () => {
    const bad = parse({ endpoint: 'ftp://x', compression: 'zstd', retry_on_failure: { initial_interval: 'soon' } });
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    assert.deepEqual(paths.sort(), ['compression', 'endpoint', 'retry_on_failure.initial_interval']);
    assert.equal(parse({ endpoint: 'http://a', unknown_key: 1 }).success, false);
  });

  test('durations and sizes', () => {
    const c = otlpHttpExporterFactory.configSchema.parse({
      endpoint: 'http://a',
      export_interval: '1m',
      max_request_bytes: '4MiB',
      sending_queue: { storage: '/var/lib/runner-metrics/otlp' },
    });
    assert.equal(c.export_interval, 60_000);
    assert.equal(c.max_request_bytes, 4 * 1024 * 1024);
    assert.equal(c.sending_queue.storage, '/var/lib/runner-metrics/otlp');
  });
});

describe('otlphttp responses', () => {
  test('Retry-After: seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('7'), 7000);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now), 0);
  });

  test('backoff grows by the multiplier up to max_interval, with jitter', () => {
    const b = new Backoff({ initial_interval: 100, max_interval: 300, multiplier: 2 });
    const delays = Array.from({ length: 5 }, () => b.next());
    const nominal = [100, 200, 300, 300, 300];
    delays.forEach((d, i) => assert.ok(d >= nominal[i]! * 0.5 && d <= nominal[i]! * 1.5, `delay ${i} = ${d}`));
  });

  test('error messages from google.rpc.Status, JSON and text', () => {
    assert.equal(readErrorMessage(rpcStatus(3, 'bad name'), 'application/x-protobuf'), 'bad name');
    assert.equal(readErrorMessage(Buffer.from('{"code":8,"message":"too many"}'), 'application/json'), 'too many');
    assert.equal(readErrorMessage(Buffer.from('upstream connect error\n'), 'text/plain'), 'upstream connect error');
    assert.equal(readErrorMessage(Buffer.alloc(0), undefined), '');
    assert.equal(readErrorMessage(Buffer.from('x'.repeat(2000)), 'text/plain').length, 513);
  });

  test('partial success in protobuf and JSON', () => {
    assert.deepEqual(readPartialSuccess(partialSuccess(3, 'dup'), 'application/x-protobuf'), { rejected: 3, message: 'dup' });
    assert.deepEqual(
      readPartialSuccess(Buffer.from('{"partialSuccess":{"rejectedDataPoints":"2","errorMessage":"old"}}'), 'application/json'),
      { rejected: 2, message: 'old' },
    );
    assert.equal(readPartialSuccess(Buffer.alloc(0), 'application/x-protobuf'), undefined);
    assert.equal(readPartialSuccess(Buffer.from('{}'), 'application/json'), undefined);
  });
});

describe('otlphttp protobuf writer', () => {
  test('nanosecond times are exact beyond 2^53', () => {
    const [lo, hi] = hrTimeHalves(1704164645, 123456789);
    assert.equal((BigInt(hi) << 32n) + BigInt(lo), 1704164645123456789n);
    const [lo2, hi2] = hrTimeHalves(4102444800, 999999999); // year 2100
    assert.equal((BigInt(hi2) << 32n) + BigInt(lo2), 4102444800999999999n);
  });

  test('long nested messages get multi-byte lengths', () => {
    const w = new ProtoWriter(4);
    w.tag(1, 2);
    const at = w.begin();
    w.string('é'.repeat(100) + 'x'.repeat(200));
    w.end(at);
    const out = w.finish();
    const r = protobuf.Reader.create(out);
    assert.equal(r.uint32(), (1 << 3) | 2);
    const inner = protobuf.Reader.create(r.bytes());
    assert.equal(r.pos, out.length);
    assert.equal(inner.string(), 'é'.repeat(100) + 'x'.repeat(200));
  });

  test('counts are fixed64; a negative or NaN count is written as 0, never wrapped', () => {
    const w = new ProtoWriter(4);
    for (const v of [5, 2 ** 40 + 3, -2, NaN]) w.fixed64Number(v);
    const r = protobuf.Reader.create(w.finish());
    assert.deepEqual([r.fixed64(), r.fixed64(), r.fixed64(), r.fixed64()].map((x) => BigInt(x.toString())), [5n, 2n ** 40n + 3n, 0n, 0n]);
  });

  test('negative integers are ten-byte varints', () => {
    const w = new ProtoWriter(4);
    w.varint64(-1);
    assert.deepEqual([...w.finish()], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });
});

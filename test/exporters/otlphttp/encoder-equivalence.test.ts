/**
 * The hand-written protobuf encoder against the library's: for random batches,
 * what ProtoEncoder writes decodes (with the official .proto files through
 * protobufjs) to exactly what the library's ProtobufMetricsSerializer writes for
 * the same batch, field for field. Ours also writes each metric's
 * `prometheus.type` metadata and can copy resource attributes onto points, which
 * the library cannot: the metadata is compared on its own, and promotion against
 * the library serializing a batch whose points already carry those attributes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import protobuf from 'protobufjs';
import { ProtoEncoder } from '../../../src/exporters/otlphttp/encode-proto.js';
import { AggregationTemporality, DataPointType, type HrTime, type Metric, type ResourceBatch } from '../../../src/model/batch.js';
import { schema } from './receiver.js';
import { Rng } from '../../helpers/rng.js';

const Request = schema.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: String, arrays: true, defaults: true };
const SEED = Number(process.env['ENCODER_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
const CASES = 150;


const KEYS = ['slot_id', 'phase', 'le', 'model', 'backend', 'mode', 'a.b', 'é', '😱', 'k'.repeat(200)];
const STRINGS = ['', 'x', 'completion', 'llama.cpp', 'ai/model-1', 'é😱', 'v'.repeat(300), 'a"b\\c\n'];
const DOUBLES = [0, -0, 1.5, -2.25, 1e300, 5e-324, 0.1, NaN, Infinity, -Infinity, 2 ** 53 + 2];

function value(rng: Rng): AttributeValue {
  switch (rng.int(6)) {
    case 0:
      return rng.int(2 ** 31) - 2 ** 30;
    case 1:
      return rng.pick([0.5, -3.75, 1e21, 12345.678]);
    case 2:
      return rng.chance(0.5);
    case 3:
      return [rng.pick(STRINGS), rng.pick(STRINGS)];
    default:
      return rng.pick(STRINGS);
  }
}

function attributes(rng: Rng, n: number): Attributes {
  const out: Attributes = {};
  for (let i = 0; i < n; i++) out[rng.pick(KEYS)] = value(rng);
  return out;
}

function time(rng: Rng): HrTime {
  return [rng.int(2 ** 31), rng.int(1e9)];
}

function metric(rng: Rng, i: number): Metric {
  const asInt = rng.chance(0.3);
  const descriptor = { name: `m${i}_${rng.pick(['x', 'é', 'llamacpp:y'])}`, description: rng.pick(['', 'Help.', 'é']), unit: rng.pick(['', 's', 'By']), valueType: asInt ? 0 : 1 };
  const temporality = rng.chance(0.8) ? AggregationTemporality.CUMULATIVE : AggregationTemporality.DELTA;
  const n = rng.int(4);
  const number = () => (asInt ? rng.int(2 ** 40) - 2 ** 39 : rng.chance(0.3) ? rng.pick(DOUBLES) : rng.next() * 1e6);
  const point = <V>(v: V) => ({ startTime: time(rng), endTime: time(rng), attributes: attributes(rng, rng.int(4)), value: v });
  switch (rng.int(3)) {
    case 0:
      return { descriptor, aggregationTemporality: temporality, dataPointType: DataPointType.GAUGE, dataPoints: Array.from({ length: n }, () => point(number())) };
    case 1:
      return {
        descriptor,
        aggregationTemporality: temporality,
        dataPointType: DataPointType.SUM,
        isMonotonic: rng.chance(0.7),
        dataPoints: Array.from({ length: n }, () => point(number())),
      };
    default: {
      const bounds = rng.chance(0.2) ? [] : [0.005, 0.1, 1, rng.pick([2.5, 10, 1e9])];
      return {
        descriptor,
        aggregationTemporality: temporality,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: Array.from({ length: n }, () => {
          const counts = Array.from({ length: bounds.length + 1 }, () => rng.int(2 ** 36));
          return point({
            buckets: { boundaries: bounds, counts },
            count: counts.reduce((a, b) => a + b, 0),
            sum: rng.chance(0.8) ? rng.next() * 1e4 : undefined,
            min: rng.chance(0.3) ? rng.next() : undefined,
            max: rng.chance(0.3) ? 1 + rng.next() : undefined,
          });
        }),
      };
    }
  }
}

function batch(rng: Rng): ResourceBatch {
  const resource = resourceFromAttributes({ 'service.name': 'r', backend: rng.pick(['llama.cpp', 'vllm']), model: rng.pick(STRINGS), ...attributes(rng, rng.int(3)) });
  const scopes = Array.from({ length: 1 + rng.int(2) }, (_, s) => ({
    scope: { name: `scope${s}`, ...(rng.chance(0.5) ? { version: '1.2.3' } : {}), ...(rng.chance(0.3) ? { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' } : {}) },
    metrics: Array.from({ length: rng.int(5) }, (_, i) => {
      const m = metric(rng, i);
      return rng.chance(0.5) ? { ...m, prometheus: { type: rng.pick(['counter', 'gauge', 'untyped', 'histogram'] as const) } } : m;
    }),
  }));
  return { resource, scopeMetrics: scopes };
}

function decode(bytes: Uint8Array): Record<string, any> {
  return Request.toObject(Request.decode(bytes), TO_OBJECT);
}

/** Ours without the metadata the library cannot write, which is checked against the batch instead. */
function withoutMetadata(decoded: Record<string, any>, source: ResourceBatch): Record<string, any> {
  decoded['resourceMetrics'][0].scopeMetrics.forEach((sm: any, s: number) => {
    sm.metrics.forEach((m: any, i: number) => {
      const type = source.scopeMetrics[s]!.metrics[i]!.prometheus?.type;
      assert.deepEqual(
        m.metadata.map((kv: any) => [kv.key, kv.value.stringValue]),
        type ? [['prometheus.type', type]] : [],
      );
      m.metadata = [];
    });
  });
  return decoded;
}

/** The batch with the promoted resource attributes on every point that lacks them, as the library would need it. */
function promotedCopy(source: ResourceBatch, keys: readonly string[]): ResourceBatch {
  const promote = (own: Attributes): Attributes => {
    const out: Attributes = { ...own };
    for (const key of keys) if (own[key] === undefined && source.resource.attributes[key] !== undefined) out[key] = source.resource.attributes[key];
    return out;
  };
  return {
    resource: source.resource,
    scopeMetrics: source.scopeMetrics.map((sm) => ({
      scope: sm.scope,
      metrics: sm.metrics.map((m) => ({ ...m, dataPoints: (m.dataPoints as { attributes: Attributes }[]).map((p) => ({ ...p, attributes: promote(p.attributes) })) }) as Metric),
    })),
  };
}

const library = (b: ResourceBatch) => ProtobufMetricsSerializer.serializeRequest(b as unknown as ResourceMetrics)!;

describe(`ProtoEncoder against the library's serializer (seed ${SEED}; ENCODER_SEED replays)`, () => {
  it(`${CASES} random batches decode to the same request`, () => {
    const rng = new Rng(SEED);
    const encoder = new ProtoEncoder([]);
    for (let c = 0; c < CASES; c++) {
      const b = batch(rng);
      // Twice: the second encoding comes from the encoder's caches.
      for (let pass = 0; pass < 2; pass++) {
        assert.deepEqual(withoutMetadata(decode(encoder.encodeResource(b)), b), decode(library(b)), `case ${c}, pass ${pass} (seed ${SEED})`);
      }
    }
  });

  it(`${CASES} random batches with resource attributes promoted decode to the library's request of the promoted batch`, () => {
    const rng = new Rng(SEED ^ 0x5bd1e995);
    const keys = ['backend', 'model', 'mode'];
    const encoder = new ProtoEncoder(keys);
    for (let c = 0; c < CASES; c++) {
      const b = batch(rng);
      for (let pass = 0; pass < 2; pass++) {
        assert.deepEqual(withoutMetadata(decode(encoder.encodeResource(b)), b), decode(library(promotedCopy(b, keys))), `case ${c}, pass ${pass} (seed ${SEED})`);
      }
    }
  });
});

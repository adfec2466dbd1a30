/** Inputs for the compression tests: OTLP request bodies as the exporter writes them, with their anchors, and mixed bytes. */
import { randomBytes } from 'node:crypto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtoEncoder } from '../../src/exporters/otlphttp/encode-proto.js';
import { AggregationTemporality, DataPointType, type Metric, type ResourceBatch } from '../../src/model/batch.js';

export interface EncodedBody {
  readonly bytes: Buffer;
  /** (offset, series key) pairs over the whole body, as ProtoEncoder.anchors gives them per resource. */
  readonly anchors: Int32Array;
  readonly points: number;
}

/**
 * `runners` resources of `metrics` counter and gauge families (and one histogram)
 * over `series` label sets each, backend/model/mode copied onto every point (the
 * Grafana Cloud shape), values that change from point to point.
 */
export function encodedBody(runners: number, metrics: number, series: number): EncodedBody {
  const encoder = new ProtoEncoder(['backend', 'model', 'mode']);
  const parts: Buffer[] = [];
  const anchors: number[] = [];
  let offset = 0;
  let points = 0;
  for (let r = 0; r < runners; r++) {
    const batch = runnerBatch(r, metrics, series);
    const bytes = Buffer.from(encoder.encodeResource(batch));
    const own = encoder.anchors();
    for (let i = 0; i < own.length; i += 2) anchors.push(own[i]! + offset, own[i + 1]!);
    parts.push(bytes);
    offset += bytes.length;
    for (const m of batch.scopeMetrics[0]!.metrics) points += m.dataPoints.length;
  }
  return { bytes: Buffer.concat(parts), anchors: Int32Array.from(anchors), points };
}

function runnerBatch(r: number, metrics: number, series: number): ResourceBatch {
  const startTime: [number, number] = [1_704_164_645, 123_456_789];
  const endTime: [number, number] = [1_704_200_000, 0];
  const labels = Array.from({ length: series }, (_, i) => ({ slot_id: String(i), phase: i % 2 ? 'decode' : 'prompt' }));
  const list: Metric[] = [];
  for (let m = 0; m < metrics; m++) {
    const gauge = m % 2 === 1;
    list.push({
      descriptor: { name: `llamacpp:family_${m}${gauge ? '' : '_total'}`, description: `Family ${m}.`, unit: '', valueType: 1 },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: gauge ? DataPointType.GAUGE : DataPointType.SUM,
      isMonotonic: true,
      dataPoints: labels.map((attributes, i) => ({ startTime, endTime, attributes, value: gauge ? (m * 31 + i) / 7 : r * 1000 + m * 31 + i })),
      prometheus: { type: gauge ? 'gauge' : 'counter' },
    } as Metric);
  }
  const boundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  list.push({
    descriptor: { name: 'llamacpp:request_latency_seconds', description: 'Request latency.', unit: '', valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: labels.map((attributes, i) => {
      const counts = boundaries.map((_, b) => (b + i) % 5).concat([3]);
      const count = counts.reduce((a, b) => a + b, 0);
      return { startTime, endTime, attributes, value: { buckets: { boundaries, counts }, sum: count * 0.37, count } };
    }),
    prometheus: { type: 'histogram' },
  } as Metric);
  return {
    resource: resourceFromAttributes({ 'service.name': 'llama-server', backend: 'llama.cpp', model: `ai/model-${r}`, mode: r % 3 ? 'completion' : 'embedding' }),
    scopeMetrics: [{ scope: { name: 'llamacpp' }, metrics: list }],
  };
}

/** Compressible and incompressible stretches, as an encoded push has both. */
export function mixedBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; ) {
    const run = Math.min(size - i, 1 + ((seed * 7919 + i) % 300));
    if ((seed + i) % 3 === 0) randomBytes(run).copy(out, i);
    else out.fill(`series{slot="${i % 17}"} `, i, i + run);
    i += run;
  }
  return out;
}

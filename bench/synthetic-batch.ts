/**
 * Batches as a receiver delivers them for a farm of llama.cpp-like runners: one
 * resource per runner, attribute objects reused from round to round (as the
 * receiver's series cache does), values changing every round.
 */
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type HrTime, type Metric, type ResourceBatch } from '../src/model/batch.js';

export const BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface FarmShape {
  readonly resources: number;
  readonly slots: number;
  readonly counters: number;
  readonly gauges: number;
  readonly histogramPoints: number;
}

/** One runner: its resource and the attribute objects its receiver keeps reusing. */
export interface Runner {
  readonly resource: Resource;
  readonly slots: Attributes[];
  readonly histogramSeries: Attributes[];
}

export function makeRunners(shape: FarmShape): Runner[] {
  return Array.from({ length: shape.resources }, (_, r) => ({
    resource: resourceFromAttributes({
      'service.name': 'llama-server',
      'service.instance.id': `runner-${r}`,
      'server.address': `127.0.0.1:${8000 + r}`,
      backend: 'llama.cpp',
      model: `ai/model-${r}`,
      mode: r % 4 === 0 ? 'embedding' : 'completion',
    }),
    slots: Array.from({ length: shape.slots }, (_, i) => ({ slot_id: String(i) })),
    histogramSeries: Array.from({ length: shape.histogramPoints }, (_, i) => ({
      slot_id: String(i % shape.slots),
      // One phase per pass over the slots, so that no two points share their labels.
      phase: ['decode', 'prompt'][Math.floor(i / shape.slots) % 2]!,
    })),
  }));
}

/** `counters` and `gauges` families of one point per slot, plus one histogram family. */
export function snapshot(runner: Runner, shape: FarmShape, round: number, startTime: HrTime, endTime: HrTime): ResourceBatch {
  const metrics: Metric[] = [];
  const points = (salt: number, scale: number) =>
    runner.slots.map((attributes, i) => ({ startTime, endTime, attributes, value: (round * 1000 + salt * 31 + i) * scale }));
  for (let c = 0; c < shape.counters; c++) {
    metrics.push({
      descriptor: { name: `llamacpp:counter_${c}_total`, description: `Counter ${c}.`, unit: '', valueType: 1 },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: points(c, 1),
      prometheus: { type: 'counter' },
    });
  }
  for (let g = 0; g < shape.gauges; g++) {
    metrics.push({
      descriptor: { name: `llamacpp:gauge_${g}`, description: `Gauge ${g}.`, unit: '', valueType: 1 },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: points(100 + g, 1 / 7),
      prometheus: { type: 'gauge' },
    });
  }
  metrics.push({
    descriptor: { name: 'llamacpp:request_latency_seconds', description: 'Request latency.', unit: '', valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: runner.histogramSeries.map((attributes, i) => {
      const counts = Array.from({ length: BOUNDARIES.length + 1 }, (_, b) => round + ((b + i) % 5));
      const count = counts.reduce((a, b) => a + b, 0);
      return { startTime, endTime, attributes, value: { buckets: { boundaries: BOUNDARIES, counts }, sum: count * 0.37, count } };
    }),
    prometheus: { type: 'histogram' },
  });
  return { resource: runner.resource, scopeMetrics: [{ scope: { name: 'llamacpp' }, metrics }] };
}

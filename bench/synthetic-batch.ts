/**
 * Batches as a receiver delivers them for a farm of llama.cpp-like runners: one
 * resource per runner, attribute objects reused from round to round (as the
 * receiver's series cache does), values changing every round.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type DataPoint, type HrTime, type Metric, type ResourceBatch } from '../src/model/batch.js';

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

/** Counters count up by whole numbers; gauges take fractions (k/7), whose doubles use all their bits. */
const numberValue = (round: number, salt: number, i: number, scale: number) => (round * 1000 + salt * 31 + i) * scale;
const COUNTER_SCALE = 1;
const GAUGE_SCALE = 1 / 7;
const GAUGE_SALT = 100;

function histogramCounts(counts: number[], round: number, i: number): number {
  let count = 0;
  for (let b = 0; b < counts.length; b++) count += counts[b] = round + ((b + i) % 5);
  return count;
}

/** A counter's or gauge's point as the receiver's scrape state keeps it: a class whose `value` stays a double field. */
class NumberPoint implements DataPoint<number> {
  constructor(
    public startTime: HrTime,
    public endTime: HrTime,
    public readonly attributes: Attributes,
    public value: number,
  ) {}
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** `counters` and `gauges` families of one point per slot, plus one histogram family. */
export function snapshot(runner: Runner, shape: FarmShape, round: number, startTime: HrTime, endTime: HrTime): ResourceBatch {
  const metrics: Metric[] = [];
  const points = (salt: number, scale: number) =>
    runner.slots.map((attributes, i) => new NumberPoint(startTime, endTime, attributes, numberValue(round, salt, i, scale)));
  for (let c = 0; c < shape.counters; c++) {
    metrics.push({
      descriptor: { name: `llamacpp:counter_${c}_total`, description: `Counter ${c}.`, unit: '', valueType: 1 },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: points(c, COUNTER_SCALE),
      prometheus: { type: 'counter' },
    });
  }
  for (let g = 0; g < shape.gauges; g++) {
    metrics.push({
      descriptor: { name: `llamacpp:gauge_${g}`, description: `Gauge ${g}.`, unit: '', valueType: 1 },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: points(GAUGE_SALT + g, GAUGE_SCALE),
      prometheus: { type: 'gauge' },
    });
  }
  metrics.push({
    descriptor: { name: 'llamacpp:request_latency_seconds', description: 'Request latency.', unit: '', valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: runner.histogramSeries.map((attributes, i) => {
      const counts = new Array<number>(BOUNDARIES.length + 1);
      const count = histogramCounts(counts, round, i);
      return { startTime, endTime, attributes, value: { buckets: { boundaries: BOUNDARIES, counts }, sum: count * 0.37, count } };
    }),
    prometheus: { type: 'histogram' },
  });
  return { resource: runner.resource, scopeMetrics: [{ scope: { name: 'llamacpp' }, metrics }] };
}

/**
 * The same snapshot at a later round, rewritten in place: new values and end
 * time in the same objects, as a receiver's scrape state rewrites its points.
 * A benchmark that times a consumer of the batches then measures that consumer
 * alone: fresh objects every round leave 100,000 points of garbage per round,
 * collected during whatever is timed next, the same for every side compared.
 */
export function advance(batch: ResourceBatch, shape: FarmShape, round: number, endTime: HrTime): void {
  const metrics = batch.scopeMetrics[0]!.metrics;
  for (let m = 0; m < metrics.length; m++) {
    const metric = metrics[m]!;
    const counter = m < shape.counters;
    const gauge = !counter && m < shape.counters + shape.gauges;
    for (let i = 0; i < metric.dataPoints.length; i++) {
      const point = metric.dataPoints[i] as Writable<DataPoint<unknown>>;
      point.endTime = endTime;
      if (counter) point.value = numberValue(round, m, i, COUNTER_SCALE);
      else if (gauge) point.value = numberValue(round, GAUGE_SALT + m - shape.counters, i, GAUGE_SCALE);
      else {
        const histogram = point.value as Histogram;
        histogram.count = histogramCounts(histogram.buckets.counts, round, i);
        histogram.sum = histogram.count * 0.37;
      }
    }
  }
}

/**
 * The in-memory batch that flows from receivers through processors to exporters.
 *
 * It is the OpenTelemetry SDK's data model (`ResourceMetrics` → `ScopeMetrics` →
 * `MetricData` → data points) with three additions the SDK lacks:
 *  - a SUMMARY point type, because Prometheus summaries (quantiles + sum + count)
 *    have no SDK type and mapping them onto gauges would not round-trip;
 *  - `prometheus` metadata on each metric: the family's original exposition type
 *    (counter, gauge, untyped, info, …), so the pull endpoint writes back exactly
 *    the TYPE the runner declared;
 *  - the runner's label texts of histogram bounds (`boundaryLabels`), next to the
 *    numbers, as summary quantiles carry theirs (`label`).
 *
 * Whatever a point needs travels in the point itself, never in a side table keyed
 * by object identity: processors may copy points, and a copy must lose nothing.
 *
 * Batches are immutable once emitted: a receiver's batch may fan out to several
 * pipelines, so processors build new objects instead of mutating their input.
 * One bound on how long: a scraping receiver reuses its data points and their
 * lists every other scrape of a target (no garbage per series and scrape), so a
 * batch is unchanged until that target's second scrape after it, or for as long as
 * the points are held (point-holds.ts): whatever reads the newest batches across
 * event-loop turns (an exporter encoding a push piece by piece) holds them first.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type Histogram,
  type HistogramMetricData,
  type MetricData,
  type MetricDescriptor,
} from '@opentelemetry/sdk-metrics';

export { AggregationTemporality, DataPointType };
export type { Attributes, DataPoint, HrTime, MetricDescriptor, Resource };

/** Point type for Prometheus summaries; the SDK's DataPointType enum stops at 3. */
export const SUMMARY = 'summary' as const;

export interface SummaryQuantile {
  readonly quantile: number;
  readonly value: number;
  /**
   * The `quantile` label text as the runner wrote it (`0.50`), when the point came
   * from an exposition page: Prometheus keys series by the text, not the number.
   * Absent (or empty) otherwise; the number is then formatted.
   */
  readonly label?: string;
}

export interface SummaryValue {
  readonly sum: number;
  readonly count: number;
  readonly quantiles: readonly SummaryQuantile[];
}

/** The SDK's histogram value, plus the bounds' label texts when the point was scraped. */
export interface HistogramValue extends Histogram {
  /**
   * The `le` label texts of `buckets.boundaries` as the runner wrote them (`1.0`,
   * `1e+06`), index for index; the overflow bucket is always `+Inf` and has none.
   * A number does not remember how it was written, yet `le="1.0"` and `le="1"` are
   * different series to Prometheus: /metrics writes these texts back verbatim.
   * Absent for points from other sources, and an empty text stands for none: the
   * number is then formatted.
   */
  readonly boundaryLabels?: readonly string[];
}

export interface HistogramMetric extends Omit<HistogramMetricData, 'dataPoints'> {
  readonly dataPoints: DataPoint<HistogramValue>[];
}

/** Exposition-format family types (text 0.0.4 and OpenMetrics). */
export type PrometheusType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'untyped'
  | 'unknown'
  | 'info'
  | 'stateset';

export interface PrometheusMetadata {
  /** The TYPE the runner declared (or `untyped` when it declared none). */
  readonly type: PrometheusType;
}

export interface SummaryMetricData {
  readonly descriptor: MetricDescriptor;
  readonly aggregationTemporality: AggregationTemporality;
  readonly dataPointType: typeof SUMMARY;
  readonly dataPoints: DataPoint<SummaryValue>[];
}

/** One metric family: the SDK's MetricData, or a summary, plus optional Prometheus metadata. */
export type Metric = (Exclude<MetricData, HistogramMetricData> | HistogramMetric | SummaryMetricData) & {
  readonly prometheus?: PrometheusMetadata;
};

export interface ScopeBatch {
  readonly scope: InstrumentationScope;
  readonly metrics: Metric[];
}

/** Everything one source (one scraped target, or the collector itself) reported at one time. */
export interface ResourceBatch {
  readonly resource: Resource;
  readonly scopeMetrics: ScopeBatch[];
}

/** What a consumer receives: one or more resources, each a complete snapshot of its source. */
export type Batch = readonly ResourceBatch[];

export function isSummary(metric: Metric): metric is SummaryMetricData & { prometheus?: PrometheusMetadata } {
  return metric.dataPointType === SUMMARY;
}

/** Converts epoch milliseconds to the SDK's [seconds, nanoseconds] pair. */
export function millisToHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

export function hrTimeToMillis(t: HrTime): number {
  return t[0] * 1000 + t[1] / 1e6;
}

/**
 * The objects a scrape hands on besides its counter and gauge points: the batch
 * and its metrics list, each family's Metric, each histogram's and summary's point
 * and value. Like those points (SeriesState.evenPoint), each is made once per
 * parity of the scrape, even or odd, and rewritten in place two scrapes later, which
 * the contract in model/batch.ts allows: a batch is unchanged until its target's
 * second scrape after it.
 *
 * Why: made anew, they lived until the next scrape of their target replaced them
 * in the exporters, about a scrape interval: at 100 scrapes a second, about as long
 * as the young generation takes to fill, so a share of them was promoted and filled
 * the old generation with garbage. (Most of what was promoted, though, were the
 * heap numbers of the points' values: see MutablePoint in scrape-state.ts.)
 */
import { ValueType } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, SUMMARY, type Attributes, type HrTime, type Metric, type PrometheusType, type ResourceBatch } from '../../model/batch.js';

/** A histogram point as the scrape writes it, in place. */
export interface HistogramPoint {
  startTime: HrTime;
  endTime: HrTime;
  readonly attributes: Attributes;
  value: {
    buckets: { boundaries: number[]; counts: number[] };
    boundaryLabels: string[];
    sum: number | undefined;
    count: number;
  };
}

/** A summary quantile, rewritten in place. */
export interface QuantilePoint {
  quantile: number;
  value: number;
  label: string;
}

/** A summary point as the scrape writes it, in place. */
export interface SummaryPoint {
  startTime: HrTime;
  endTime: HrTime;
  readonly attributes: Attributes;
  value: { sum: number; count: number; quantiles: QuantilePoint[] };
}

/** What a family's Metric says besides its points, and where it keeps its Metric of the even and of the odd scrapes. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly unit: string;
  readonly type: PrometheusType;
  evenMetric: Metric | undefined;
  oddMetric: Metric | undefined;
}

type PointType = DataPointType.SUM | DataPointType.GAUGE | DataPointType.HISTOGRAM | typeof SUMMARY;

/**
 * The family's Metric of this scrape's parity: the one made two scrapes ago when
 * it still says the same (name, help, unit, type, the same points list), else a new one.
 */
export function familyMetric(family: MetricFamily, odd: boolean, pointType: PointType, dataPoints: unknown[]): Metric {
  const last = odd ? family.oddMetric : family.evenMetric;
  if (last !== undefined && last.dataPoints === dataPoints && last.dataPointType === pointType && says(last, family)) return last;
  const metric = newMetric(family, pointType, dataPoints);
  if (odd) family.oddMetric = metric;
  else family.evenMetric = metric;
  return metric;
}

function says(metric: Metric, family: MetricFamily): boolean {
  const { descriptor } = metric;
  return descriptor.name === family.name && descriptor.description === family.help && descriptor.unit === family.unit && metric.prometheus?.type === family.type;
}

function newMetric(family: MetricFamily, pointType: PointType, dataPoints: unknown[]): Metric {
  const descriptor = { name: family.name, description: family.help, unit: family.unit, valueType: ValueType.DOUBLE };
  const prometheus = { type: family.type };
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  if (pointType === DataPointType.SUM) {
    return { descriptor, aggregationTemporality, dataPointType: pointType, isMonotonic: true, dataPoints, prometheus } as Metric;
  }
  return { descriptor, aggregationTemporality, dataPointType: pointType, dataPoints, prometheus } as Metric;
}

/** A target's batch of the even and of the odd scrapes, each with its own metrics list. */
export class AlternatingBatch {
  private even: ResourceBatch | undefined;
  private odd: ResourceBatch | undefined;

  constructor(private readonly scope: InstrumentationScope) {}

  /** This parity's batch for `resource`, its metrics list emptied for the caller to fill; a new one when `fresh`. */
  take(odd: boolean, resource: Resource, fresh: boolean): ResourceBatch {
    let batch = odd ? this.odd : this.even;
    if (batch === undefined || batch.resource !== resource || fresh) {
      batch = { resource, scopeMetrics: [{ scope: this.scope, metrics: [] }] };
      if (odd) this.odd = batch;
      else this.even = batch;
    }
    batch.scopeMetrics[0]!.metrics.length = 0;
    return batch;
  }
}

/**
 * What a family is called and typed in each exposition format. The batch keeps
 * the runner's names verbatim; only OpenMetrics' own rules (a counter family is
 * named without `_total`, its samples with it; likewise `_info`) change text here.
 */
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { SUMMARY, type Metric, type PrometheusType } from '../../model/batch.js';

export type ExpositionFormat = 'text' | 'openmetrics';

export interface FamilyNaming {
  /** Name written in `# HELP` and `# TYPE`. */
  readonly family: string;
  readonly type: string;
  /** Sample name of a counter, gauge, summary quantile or other single-valued point. */
  readonly value: string;
  readonly bucket: string;
  readonly sum: string;
  readonly count: string;
}

/** The declared type when the receiver kept it, else one derived from the point type. */
export function familyType(metric: Metric): PrometheusType | undefined {
  if (metric.prometheus) return metric.prometheus.type;
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    case SUMMARY:
      return 'summary';
    default:
      // Exponential histograms have no exposition-format equivalent.
      return undefined;
  }
}

/** Text format 0.0.4 knows five types; the others map as the Prometheus client libraries map them. */
const TEXT_TYPE: Record<PrometheusType, string> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'histogram',
  summary: 'summary',
  untyped: 'untyped',
  unknown: 'untyped',
  info: 'gauge',
  stateset: 'gauge',
};

const OPENMETRICS_TYPE: Record<PrometheusType, string> = { ...TEXT_TYPE, gaugehistogram: 'gaugehistogram', info: 'info', stateset: 'stateset', untyped: 'unknown', unknown: 'unknown' };

export function familyNaming(name: string, type: PrometheusType, format: ExpositionFormat): FamilyNaming {
  if (format === 'text') {
    return { family: name, type: TEXT_TYPE[type], value: name, bucket: `${name}_bucket`, sum: `${name}_sum`, count: `${name}_count` };
  }
  const suffix = type === 'counter' ? '_total' : type === 'info' ? '_info' : '';
  const family = suffix !== '' && name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
  const gauge = type === 'gaugehistogram' ? 'g' : '';
  return {
    family,
    type: OPENMETRICS_TYPE[type],
    value: family + suffix,
    bucket: `${family}_bucket`,
    sum: `${family}_${gauge}sum`,
    count: `${family}_${gauge}count`,
  };
}

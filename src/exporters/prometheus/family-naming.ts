/**
 * What a family is called and typed in each exposition format. The batch keeps
 * the runner's names verbatim, as Prometheus stores them, and the output must
 * make Prometheus store those same names in either format. Only OpenMetrics
 * changes text here: a counter family is named without `_total`, its samples with
 * it (likewise `_info`), and a counter or info whose name lacks the suffix is
 * written as `unknown`, which OpenMetrics lets keep the name as it is.
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
  if (suffix !== '' && !(name.length > suffix.length && name.endsWith(suffix))) {
    // OpenMetrics only allows counter samples named `<family>_total` (info: `_info`):
    // as a counter, TorchServe's `Requests2XX` would be stored as `Requests2XX_total`.
    return { family: name, type: 'unknown', value: name, bucket: `${name}_bucket`, sum: `${name}_sum`, count: `${name}_count` };
  }
  const family = suffix !== '' ? name.slice(0, -suffix.length) : name;
  const gauge = type === 'gaugehistogram' ? 'g' : '';
  return {
    family,
    type: OPENMETRICS_TYPE[type],
    value: name,
    bucket: `${family}_bucket`,
    sum: `${family}_${gauge}sum`,
    count: `${family}_${gauge}count`,
  };
}

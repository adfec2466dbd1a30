/**
 * What a family is called and typed in each exposition format. The batch keeps
 * the runner's names verbatim, as Prometheus stores them, and the output must
 * make Prometheus store those same names in either format (once escaped for a
 * scraper that cannot read them as they are). Only OpenMetrics changes text here:
 * a counter family is named without `_total`, its samples with it (likewise
 * `_info`), and a counter or info whose name lacks the suffix is written as
 * `unknown`, which OpenMetrics lets keep the name as it is.
 */
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { SUMMARY, type Metric, type PrometheusType } from '../../model/batch.js';
import { escapeMetricName, writeMetricName, writtenType, type EscapingScheme } from '../../prometheus/writer.js';

export type ExpositionFormat = 'text' | 'openmetrics';

/** Every name below is as written (`a_b`, or quoted `"a.b"` under allow-utf-8). */
export interface FamilyNaming {
  /** Name written in `# HELP` and `# TYPE`. */
  readonly family: string;
  readonly type: string;
  /** Sample name of a counter, gauge, summary quantile or other single-valued point. */
  readonly value: string;
  readonly bucket: string;
  readonly sum: string;
  readonly count: string;
  /**
   * The family name and every sample name this family writes, unquoted. Two
   * families claiming one name would make the body ambiguous (`h_count` of
   * histogram `h` and a gauge `h_count`), so a body serves only one of them.
   */
  readonly claims: readonly string[];
  /** The claims as one string: families sharing a name merge only when it is equal. */
  readonly shape: string;
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

/** Naming of `metric` (runner name `name`) for a scraper of `format` reading names under `escaping`; undefined when unwritable. */
export function familyNaming(name: string, metric: Metric, format: ExpositionFormat, escaping: EscapingScheme): FamilyNaming | undefined {
  const type = familyType(metric);
  const escaped = escapeMetricName(name, escaping);
  if (type === undefined || escaped === '') return undefined;
  const names = sampleNames(escaped, type, format);
  const claims = [names.family];
  switch (metric.dataPointType) {
    case DataPointType.HISTOGRAM:
      claims.push(names.bucket, names.sum, names.count);
      break;
    case SUMMARY:
      claims.push(names.value, names.sum, names.count);
      break;
    default:
      claims.push(names.value);
  }
  // OpenMetrics readers take `<family>_created` of these types as their start time.
  if (format === 'openmetrics' && (names.type === 'counter' || names.type === 'histogram' || names.type === 'summary')) {
    claims.push(`${names.family}_created`);
  }
  const unique = [...new Set(claims)];
  return {
    family: writeMetricName(names.family),
    type: names.type,
    value: writeMetricName(names.value),
    bucket: writeMetricName(names.bucket),
    sum: writeMetricName(names.sum),
    count: writeMetricName(names.count),
    claims: unique,
    shape: unique.join('\n'),
  };
}

interface SampleNames {
  readonly family: string;
  readonly type: string;
  readonly value: string;
  readonly bucket: string;
  readonly sum: string;
  readonly count: string;
}

function sampleNames(name: string, type: PrometheusType, format: ExpositionFormat): SampleNames {
  if (format === 'text') {
    return { family: name, type: writtenType(type, false), value: name, bucket: `${name}_bucket`, sum: `${name}_sum`, count: `${name}_count` };
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
    type: writtenType(type, true),
    value: name,
    bucket: `${family}_bucket`,
    sum: `${family}_${gauge}sum`,
    count: `${family}_${gauge}count`,
  };
}

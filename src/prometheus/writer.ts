/**
 * Writing the exposition formats. formatValue and escapeLabelValue sit on the
 * /metrics hot path: they return their input's natural string and only build a
 * new one when something must change.
 */
import type { PrometheusType } from '../model/batch.js';
import { isLegacyLabelName, isLegacyMetricName } from './chars.js';
import type { Labels, MetricFamily, Sample } from './families.js';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export interface WriteOptions {
  openMetrics?: boolean;
}

/** Go's spelling of the special values; JS prints finite numbers in the shortest form that reads back exactly. */
export function formatValue(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0 && 1 / v < 0) return '-0';
  return '' + v;
}

export function escapeLabelValue(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 || c === 34 || c === 10) return s.replace(LABEL_VALUE_SPECIALS, escapeChar);
  }
  return s;
}

export function escapeHelp(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 || c === 10) return s.replace(HELP_SPECIALS, escapeChar);
  }
  return s;
}

const LABEL_VALUE_SPECIALS = /[\\"\n]/g;
const HELP_SPECIALS = /[\\\n]/g;

function escapeChar(c: string): string {
  return c === '\n' ? '\\n' : '\\' + c;
}

/** `{a="b",c="d"}`, or '' when there are no labels. Names outside the legacy charset are quoted. */
export function writeLabels(labels: Labels): string {
  if (labels.length === 0) return '';
  let out = '{';
  for (let i = 0; i < labels.length; i += 2) {
    if (i > 0) out += ',';
    out += labelName(labels[i]!) + '="' + escapeLabelValue(labels[i + 1]!) + '"';
  }
  return out + '}';
}

/** The series text before the value: `name{labels}`, or `{"name",labels}` for a name needing quotes. */
export function writeSeriesName(name: string, labels: Labels): string {
  if (isLegacyMetricName(name)) return name + writeLabels(labels);
  const quoted = '"' + escapeLabelValue(name) + '"';
  const rest = writeLabels(labels);
  return rest === '' ? '{' + quoted + '}' : '{' + quoted + ',' + rest.slice(1);
}

/** HELP, TYPE (and UNIT in OpenMetrics) once per family, then its samples; `# EOF` ends OpenMetrics. */
export function writeFamilies(families: readonly MetricFamily[], options?: WriteOptions): string {
  const openMetrics = options?.openMetrics === true;
  let out = '';
  for (const family of families) {
    const name = familyName(family.name);
    if (family.help !== undefined) {
      // OpenMetrics also escapes `"` in HELP.
      const help = openMetrics ? escapeLabelValue(family.help) : escapeHelp(family.help);
      out += '# HELP ' + name + ' ' + help + '\n';
    }
    out += '# TYPE ' + name + ' ' + (openMetrics ? OPENMETRICS_TYPE : TEXT_TYPE)[family.type] + '\n';
    if (openMetrics && family.unit !== undefined) out += '# UNIT ' + name + ' ' + family.unit + '\n';
    for (const sample of family.samples) out += writeSample(sample, openMetrics);
  }
  return openMetrics ? out + '# EOF\n' : out;
}

function writeSample(sample: Sample, openMetrics: boolean): string {
  let line = writeSeriesName(sample.name, sample.labels) + ' ' + formatValue(sample.value);
  if (sample.timestamp !== undefined) {
    // Text format: integer milliseconds. OpenMetrics: seconds.
    line += ' ' + (openMetrics ? formatValue(sample.timestamp / 1000) : String(Math.round(sample.timestamp)));
  }
  return line + '\n';
}

function familyName(name: string): string {
  return isLegacyMetricName(name) ? name : '"' + escapeLabelValue(name) + '"';
}

function labelName(name: string): string {
  return isLegacyLabelName(name) ? name : '"' + escapeLabelValue(name) + '"';
}

// Text format 0.0.4 knows five types (Prometheus rejects others); map the rest as prometheus_client does.
const TEXT_TYPE: Readonly<Record<PrometheusType, string>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'untyped',
  unknown: 'untyped',
  gaugehistogram: 'histogram',
  info: 'gauge',
  stateset: 'gauge',
};

// OpenMetrics calls `untyped` `unknown`.
const OPENMETRICS_TYPE: Readonly<Record<PrometheusType, string>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
  unknown: 'unknown',
  gaugehistogram: 'gaugehistogram',
  info: 'info',
  stateset: 'stateset',
};

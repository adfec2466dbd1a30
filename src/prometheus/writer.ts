/**
 * Writing the exposition formats: the one place where names, label names, label
 * values and HELP text become exposition text. formatValue and escapeLabelValue sit
 * on the /metrics hot path: they return their input's natural string and only build
 * a new one when something must change.
 */
import type { PrometheusType } from '../model/batch.js';
import { QUOTE, isLabelNameChar, isLabelNameStart, isLegacyLabelName, isLegacyMetricName, isMetricNameChar, isMetricNameStart } from './chars.js';
import type { Labels, MetricFamily, Sample } from './families.js';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * How names outside the legacy charsets reach a scraper, as Prometheus 3 negotiates
 * it with the `escaping` parameter of `Accept` (prometheus/common `EscapingScheme`):
 * - `allow-utf-8`: kept as they are, written quoted (`{"a.b",x="1"}`);
 * - `underscores`: every character outside the charset becomes `_` (`a.b` → `a_b`);
 * - `dots`: `.` → `_dot_`, `_` → `__`, any other outside character → `__` (as
 *   prometheus/common's code and tests do; its docs page says `_`);
 * - `values`: `U__`, then `_` → `__` and any other outside character → `_<hex code point>_`.
 * Names already valid pass through every scheme unchanged, as on Prometheus' wire.
 */
export type EscapingScheme = 'allow-utf-8' | 'underscores' | 'dots' | 'values';

export const ESCAPING_SCHEMES: readonly EscapingScheme[] = ['allow-utf-8', 'underscores', 'dots', 'values'];

/** What a scraper that names no scheme gets: readable by Prometheus 2.x and every older parser. */
export const DEFAULT_ESCAPING: EscapingScheme = 'underscores';

export function toEscapingScheme(text: string): EscapingScheme | undefined {
  return (ESCAPING_SCHEMES as readonly string[]).includes(text) ? (text as EscapingScheme) : undefined;
}

/** The Content-Type of a body, naming the escaping it was written with as Prometheus' expfmt does. */
export function contentType(openMetrics: boolean, escaping: EscapingScheme): string {
  return `${openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE}; escaping=${escaping}`;
}

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

/**
 * A label value (or quoted name) with `\`, `"` and newline escaped. A lone UTF-16
 * surrogate, which UTF-8 cannot encode, becomes U+FFFD here rather than at encoding
 * time, so that two values differing only there are seen as the same text.
 */
export function escapeLabelValue(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 || c === 34 || c === 10 || (c >= 0xd800 && c <= 0xdfff)) {
      return wellFormed(s).replace(LABEL_VALUE_SPECIALS, escapeChar);
    }
  }
  return s;
}

/** HELP text: `\` and newline escaped (text format 0.0.4 defines no other escape). */
export function escapeHelp(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 || c === 10 || (c >= 0xd800 && c <= 0xdfff)) return wellFormed(s).replace(HELP_SPECIALS, escapeChar);
  }
  return s;
}

const LABEL_VALUE_SPECIALS = /[\\"\n]/g;
const HELP_SPECIALS = /[\\\n]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function escapeChar(c: string): string {
  return c === '\n' ? '\\n' : '\\' + c;
}

/** The string with every unpaired surrogate replaced by U+FFFD, as a UTF-8 encoder would. */
function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * A metric name as a scraper using `scheme` must read it, unquoted; '' for the empty
 * name, which no scheme can write. Under `allow-utf-8` the name is kept (made valid
 * UTF-8) and writeMetricName quotes it.
 */
export function escapeMetricName(name: string, scheme: EscapingScheme): string {
  if (isLegacyMetricName(name)) return name;
  return escapeName(name, scheme, isMetricNameStart, isMetricNameChar);
}

/** A label name as a scraper using `scheme` must read it; `:` is outside the label charset. */
export function escapeLabelName(name: string, scheme: EscapingScheme): string {
  if (isLegacyLabelName(name)) return name;
  return escapeName(name, scheme, isLabelNameStart, isLabelNameChar);
}

function escapeName(name: string, scheme: EscapingScheme, isStart: (c: number) => boolean, isChar: (c: number) => boolean): string {
  if (name === '') return '';
  if (scheme === 'allow-utf-8') return wellFormed(name);
  let out = scheme === 'values' ? 'U__' : '';
  let first = true;
  // By code point, as Go ranges over runes: an emoji is one character, a lone surrogate too.
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    const valid = first ? isStart(c) : isChar(c);
    first = false;
    if (scheme === 'underscores') {
      out += valid ? ch : '_';
    } else if (c === 95) {
      out += '__'; // `_` doubles in dots and values, so that `_` itself stays decodable
    } else if (scheme === 'dots') {
      out += c === 46 ? '_dot_' : valid ? ch : '__';
    } else {
      out += valid ? ch : c >= 0xd800 && c <= 0xdfff ? '_FFFD_' : '_' + c.toString(16) + '_';
    }
  }
  return out;
}

/** A (possibly escaped) metric name as HELP, TYPE and UNIT lines and series write it: bare, or quoted. */
export function writeMetricName(name: string): string {
  return isLegacyMetricName(name) ? name : quote(name);
}

/** A (possibly escaped) label name as written before `=`: bare, or quoted. */
export function writeLabelName(name: string): string {
  return isLegacyLabelName(name) ? name : quote(name);
}

function quote(name: string): string {
  return '"' + escapeLabelValue(name) + '"';
}

/** `name="value"`, both escaped as needed. */
export function writeLabelPair(name: string, value: string): string {
  return writeLabelName(name) + '="' + escapeLabelValue(value) + '"';
}

/**
 * Whether Prometheus reads `text` as a float where it must be one (`le`, `quantile`):
 * decimal with optional exponent, or Inf/Infinity/NaN, as Go's strconv.ParseFloat
 * takes them. A runner's bound text is written back verbatim only then.
 */
export function isFloatText(text: string): boolean {
  return DECIMAL.test(text) || SPECIAL_FLOAT.test(text);
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_FLOAT = /^(?:[+-]?inf(?:inity)?|nan)$/i;

/** `{a="b",c="d"}`, or '' when there are no labels. Names outside the legacy charset are quoted. */
export function writeLabels(labels: Labels): string {
  if (labels.length === 0) return '';
  let out = '{';
  for (let i = 0; i < labels.length; i += 2) {
    if (i > 0) out += ',';
    out += writeLabelPair(labels[i]!, labels[i + 1]!);
  }
  return out + '}';
}

/**
 * The series text before the value, from a name as writeMetricName wrote it and a
 * label text that is '' or starts with `{`: `name{labels}`, or `{"name",labels}`
 * for a quoted name. An open label text (`{a="1",`, for a caller that appends `le`)
 * works the same way.
 */
export function joinSeries(writtenName: string, labelText: string): string {
  if (writtenName.charCodeAt(0) !== QUOTE) return writtenName + labelText;
  return labelText === '' ? '{' + writtenName + '}' : '{' + writtenName + ',' + labelText.slice(1);
}

/** The series text before the value: `name{labels}`, or `{"name",labels}` for a name needing quotes. */
export function writeSeriesName(name: string, labels: Labels): string {
  return joinSeries(writeMetricName(name), writeLabels(labels));
}

/** `# HELP name text\n`; OpenMetrics also escapes `"` in HELP, exactly as in label values. */
export function helpLine(writtenName: string, help: string, openMetrics: boolean): string {
  return '# HELP ' + writtenName + ' ' + (openMetrics ? escapeLabelValue(help) : escapeHelp(help)) + '\n';
}

/** `# TYPE name type\n`, with the type word as writtenType spells it. */
export function typeLine(writtenName: string, typeWord: string): string {
  return '# TYPE ' + writtenName + ' ' + typeWord + '\n';
}

/** `# UNIT name unit\n` (OpenMetrics only; units are a name's suffix, so never hold a newline or escape). */
export function unitLine(writtenName: string, unit: string): string {
  return '# UNIT ' + writtenName + ' ' + unit + '\n';
}

/** The TYPE word for `type`: text format 0.0.4 knows five, and the others map as the client libraries map them. */
export function writtenType(type: PrometheusType, openMetrics: boolean): string {
  return (openMetrics ? OPENMETRICS_TYPE : TEXT_TYPE)[type];
}

/** HELP, TYPE (and UNIT in OpenMetrics) once per family, then its samples; `# EOF` ends OpenMetrics. */
export function writeFamilies(families: readonly MetricFamily[], options?: WriteOptions): string {
  const openMetrics = options?.openMetrics === true;
  let out = '';
  for (const family of families) {
    const name = writeMetricName(family.name);
    if (family.help !== undefined) out += helpLine(name, family.help, openMetrics);
    out += typeLine(name, writtenType(family.type, openMetrics));
    if (openMetrics && family.unit !== undefined) out += unitLine(name, family.unit);
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

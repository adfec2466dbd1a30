/**
 * OTLP/JSON encoding (the protobuf JSON mapping the OTLP spec prescribes:
 * lowerCamelCase keys, 64-bit integers as decimal strings, enums as numbers).
 *
 * Like the protobuf encoder, each resource becomes one standalone element of
 * `resourceMetrics`, so a request is `{"resourceMetrics":[` + elements + `]}`.
 */
import { ValueType } from '@opentelemetry/api';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { getAttribute } from '../../model/attributes.js';
import {
  AggregationTemporality,
  DataPointType,
  SUMMARY,
  type Attributes,
  type DataPoint,
  type HrTime,
  type Metric,
  type ResourceBatch,
  type SummaryValue,
} from '../../model/batch.js';

type Json = Record<string, unknown>;

/** Promoted sets kept (one per distinct set of promoted values, i.e. per runner); past it they start afresh. */
const MAX_PROMOTED_SETS = 4096;

export const JSON_PREFIX = Buffer.from('{"resourceMetrics":[');
export const JSON_SEPARATOR = Buffer.from(',');
export const JSON_SUFFIX = Buffer.from(']}');

/**
 * Data points are written as text directly rather than built as objects for
 * JSON.stringify: that is where the bytes are, and the attribute list of a series
 * (reused from scrape to scrape by the receiver) and its start time are cached as
 * text, so an unchanged series costs only its value and end time.
 */
export class JsonEncoder {
  /** `[...]` of each point's attributes, per set of promoted attributes (one per runner; see attributes()). */
  private readonly attributeText = new Map<string, WeakMap<Attributes, string>>();
  private readonly timeText = new WeakMap<HrTime, string>();

  constructor(private readonly promotedKeys: readonly string[]) {}

  /** One element of `resourceMetrics`, as UTF-8 JSON. */
  encodeResource(batch: ResourceBatch): Buffer {
    const promoted: Array<[string, string]> = [];
    for (const key of this.promotedKeys) {
      const value = getAttribute(batch.resource.attributes, key);
      if (value !== undefined) promoted.push([key, keyValueText(key, value)]);
    }
    const texts = this.attributeTexts(promoted);
    const ctx: PointContext = { promoted, attrs: (own) => this.attributes(own, promoted, texts), time: (t) => this.time(t) };
    let out = `{"resource":{"attributes":${JSON.stringify(keyValues(batch.resource.attributes))}},"scopeMetrics":[`;
    batch.scopeMetrics.forEach((s, i) => {
      if (i > 0) out += ',';
      const scope: Json = { name: s.scope.name, ...(s.scope.version ? { version: s.scope.version } : {}) };
      out += `{"scope":${JSON.stringify(scope)},"metrics":[`;
      let first = true;
      for (const m of s.metrics) {
        const text = metricText(m, ctx);
        if (text === undefined) continue;
        out += first ? text : ',' + text;
        first = false;
      }
      out += ']' + (s.scope.schemaUrl ? `,"schemaUrl":${JSON.stringify(s.scope.schemaUrl)}` : '') + '}';
    });
    out += ']' + (batch.resource.schemaUrl ? `,"schemaUrl":${JSON.stringify(batch.resource.schemaUrl)}` : '') + '}';
    return Buffer.from(out);
  }

  /**
   * The texts of points' attributes for one set of promoted attributes, kept by
   * their text rather than by resource object (a processor may copy the resource
   * on every batch); bounded, so runners coming and going cannot grow it forever.
   */
  private attributeTexts(promoted: ReadonlyArray<[string, string]>): WeakMap<Attributes, string> {
    const id = promoted.map(([, kv]) => kv).join(',');
    let texts = this.attributeText.get(id);
    if (texts === undefined) {
      if (this.attributeText.size >= MAX_PROMOTED_SETS) this.attributeText.clear();
      texts = new WeakMap();
      this.attributeText.set(id, texts);
    }
    return texts;
  }

  /** `[...]` of a point's own attributes plus the promoted resource attributes it lacks; kept per attributes object. */
  private attributes(own: Attributes, promoted: ReadonlyArray<[string, string]>, texts: WeakMap<Attributes, string>): string {
    let text = texts.get(own);
    if (text === undefined) {
      const parts = keyValues(own).map((kv) => JSON.stringify(kv));
      for (const [key, kv] of promoted) if (getAttribute(own, key) === undefined) parts.push(kv);
      text = '[' + parts.join(',') + ']';
      texts.set(own, text);
    }
    return text;
  }

  private time(t: HrTime): string {
    let text = this.timeText.get(t);
    if (text === undefined) {
      text = nanos(t);
      this.timeText.set(t, text);
    }
    return text;
  }
}

interface PointContext {
  readonly promoted: ReadonlyArray<[string, string]>;
  attrs(own: Attributes): string;
  time(t: HrTime): string;
}

function metricText(metric: Metric, ctx: PointContext): string | undefined {
  const d = metric.descriptor;
  let head = `{"name":${JSON.stringify(d.name)}`;
  if (d.description) head += `,"description":${JSON.stringify(d.description)}`;
  if (d.unit) head += `,"unit":${JSON.stringify(d.unit)}`;
  const asInt = d.valueType === ValueType.INT;
  let body: string;
  switch (metric.dataPointType) {
    case DataPointType.GAUGE:
      body = `"gauge":{"dataPoints":[${metric.dataPoints.map((p) => numberPoint(p, asInt, ctx)).join(',')}]}`;
      break;
    case DataPointType.SUM:
      body =
        `"sum":{"dataPoints":[${metric.dataPoints.map((p) => numberPoint(p, asInt, ctx)).join(',')}],` +
        `"aggregationTemporality":${temporality(metric.aggregationTemporality)}${metric.isMonotonic ? ',"isMonotonic":true' : ''}}`;
      break;
    case DataPointType.HISTOGRAM:
      body =
        `"histogram":{"dataPoints":[${metric.dataPoints.map((p) => histogramPoint(p, ctx)).join(',')}],` +
        `"aggregationTemporality":${temporality(metric.aggregationTemporality)}}`;
      break;
    case SUMMARY:
      body = `"summary":{"dataPoints":[${metric.dataPoints.map((p) => summaryPoint(p, ctx)).join(',')}]}`;
      break;
    default:
      return undefined;
  }
  const metadata = metric.prometheus ? `,"metadata":[${keyValueText('prometheus.type', metric.prometheus.type)}]` : '';
  return `${head},${body}${metadata}}`;
}

function temporality(t: AggregationTemporality): number {
  return t === AggregationTemporality.DELTA ? 1 : 2;
}

function pointHead(p: DataPoint<unknown>, ctx: PointContext): string {
  return `{"attributes":${ctx.attrs(p.attributes)},"startTimeUnixNano":"${ctx.time(p.startTime)}","timeUnixNano":"${ctx.time(p.endTime)}"`;
}

function numberPoint(p: DataPoint<number>, asInt: boolean, ctx: PointContext): string {
  const value = asInt ? `"asInt":"${Math.trunc(p.value)}"` : `"asDouble":${doubleText(p.value)}`;
  return `${pointHead(p, ctx)},${value}}`;
}

function histogramPoint(p: DataPoint<Histogram>, ctx: PointContext): string {
  const h = p.value;
  let out =
    `${pointHead(p, ctx)},"count":"${h.count}","bucketCounts":[${h.buckets.counts.map((c) => `"${c}"`).join(',')}],` +
    `"explicitBounds":[${h.buckets.boundaries.map(doubleText).join(',')}]`;
  if (h.sum !== undefined) out += `,"sum":${doubleText(h.sum)}`;
  if (h.min !== undefined) out += `,"min":${doubleText(h.min)}`;
  if (h.max !== undefined) out += `,"max":${doubleText(h.max)}`;
  return out + '}';
}

function summaryPoint(p: DataPoint<SummaryValue>, ctx: PointContext): string {
  const s = p.value;
  const quantiles = s.quantiles.map((q) => `{"quantile":${doubleText(q.quantile)},"value":${doubleText(q.value)}}`).join(',');
  return `${pointHead(p, ctx)},"count":"${s.count}","sum":${doubleText(s.sum)},"quantileValues":[${quantiles}]}`;
}

/** Exact nanoseconds as a decimal string (the number itself would exceed 2^53). */
function nanos(t: HrTime): string {
  const [s, ns] = t;
  return s > 0 ? `${s}${String(ns).padStart(9, '0')}` : String(ns);
}

/** The proto3 JSON mapping spells non-finite doubles as strings. */
function doubleText(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

function double(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

function keyValues(attributes: Attributes): Json[] {
  const out: Json[] = [];
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out.push(keyValue(key, value));
  }
  return out;
}

function keyValue(key: string, value: unknown): Json {
  return { key, value: anyValue(value) };
}

function keyValueText(key: string, value: unknown): string {
  return JSON.stringify(keyValue(key, value));
}

function anyValue(value: unknown): Json {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: double(value) };
  if (Array.isArray(value)) return { arrayValue: { values: value.filter((v) => v != null).map(anyValue) } };
  return {};
}

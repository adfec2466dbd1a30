/**
 * OTLP/JSON encoding (the protobuf JSON mapping the OTLP spec prescribes:
 * lowerCamelCase keys, 64-bit integers as decimal strings, enums as numbers).
 *
 * Like the protobuf encoder, each resource becomes one standalone element of
 * `resourceMetrics`, so a request is `{"resourceMetrics":[` + elements + `]}`.
 */
import { ValueType } from '@opentelemetry/api';
import type { Histogram } from '@opentelemetry/sdk-metrics';
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

export const JSON_PREFIX = Buffer.from('{"resourceMetrics":[');
export const JSON_SEPARATOR = Buffer.from(',');
export const JSON_SUFFIX = Buffer.from(']}');

export class JsonEncoder {
  constructor(private readonly promotedKeys: readonly string[]) {}

  /** One element of `resourceMetrics`, as UTF-8 JSON. */
  encodeResource(batch: ResourceBatch): Buffer {
    const promoted: Json[] = [];
    const promotedKeys: string[] = [];
    for (const key of this.promotedKeys) {
      const value = batch.resource.attributes[key];
      if (value === undefined) continue;
      promotedKeys.push(key);
      promoted.push(keyValue(key, value));
    }
    const attrs = (own: Attributes): Json[] => {
      const out = keyValues(own);
      for (let i = 0; i < promotedKeys.length; i++) if (own[promotedKeys[i]!] === undefined) out.push(promoted[i]!);
      return out;
    };
    const rm: Json = {
      resource: { attributes: keyValues(batch.resource.attributes) },
      scopeMetrics: batch.scopeMetrics.map((s) => ({
        scope: { name: s.scope.name, ...(s.scope.version ? { version: s.scope.version } : {}) },
        metrics: s.metrics.map((m) => metricJson(m, attrs)).filter((m) => m !== undefined),
        ...(s.scope.schemaUrl ? { schemaUrl: s.scope.schemaUrl } : {}),
      })),
      ...(batch.resource.schemaUrl ? { schemaUrl: batch.resource.schemaUrl } : {}),
    };
    return Buffer.from(JSON.stringify(rm));
  }
}

function metricJson(metric: Metric, attrs: (own: Attributes) => Json[]): Json | undefined {
  const d = metric.descriptor;
  const out: Json = { name: d.name };
  if (d.description) out['description'] = d.description;
  if (d.unit) out['unit'] = d.unit;
  const asInt = d.valueType === ValueType.INT;
  switch (metric.dataPointType) {
    case DataPointType.GAUGE:
      out['gauge'] = { dataPoints: metric.dataPoints.map((p) => numberPoint(p, asInt, attrs)) };
      break;
    case DataPointType.SUM:
      out['sum'] = {
        dataPoints: metric.dataPoints.map((p) => numberPoint(p, asInt, attrs)),
        aggregationTemporality: temporality(metric.aggregationTemporality),
        ...(metric.isMonotonic ? { isMonotonic: true } : {}),
      };
      break;
    case DataPointType.HISTOGRAM:
      out['histogram'] = {
        dataPoints: metric.dataPoints.map((p) => histogramPoint(p, attrs)),
        aggregationTemporality: temporality(metric.aggregationTemporality),
      };
      break;
    case SUMMARY:
      out['summary'] = { dataPoints: metric.dataPoints.map((p) => summaryPoint(p, attrs)) };
      break;
    default:
      return undefined;
  }
  if (metric.prometheus) out['metadata'] = [keyValue('prometheus.type', metric.prometheus.type)];
  return out;
}

function temporality(t: AggregationTemporality): number {
  return t === AggregationTemporality.DELTA ? 1 : 2;
}

function numberPoint(p: DataPoint<number>, asInt: boolean, attrs: (own: Attributes) => Json[]): Json {
  return {
    attributes: attrs(p.attributes),
    startTimeUnixNano: nanos(p.startTime),
    timeUnixNano: nanos(p.endTime),
    ...(asInt ? { asInt: String(Math.trunc(p.value)) } : { asDouble: double(p.value) }),
  };
}

function histogramPoint(p: DataPoint<Histogram>, attrs: (own: Attributes) => Json[]): Json {
  const h = p.value;
  const out: Json = {
    attributes: attrs(p.attributes),
    startTimeUnixNano: nanos(p.startTime),
    timeUnixNano: nanos(p.endTime),
    count: String(h.count),
    bucketCounts: h.buckets.counts.map(String),
    explicitBounds: h.buckets.boundaries.map(double),
  };
  if (h.sum !== undefined) out['sum'] = double(h.sum);
  if (h.min !== undefined) out['min'] = double(h.min);
  if (h.max !== undefined) out['max'] = double(h.max);
  return out;
}

function summaryPoint(p: DataPoint<SummaryValue>, attrs: (own: Attributes) => Json[]): Json {
  const s = p.value;
  return {
    attributes: attrs(p.attributes),
    startTimeUnixNano: nanos(p.startTime),
    timeUnixNano: nanos(p.endTime),
    count: String(s.count),
    sum: double(s.sum),
    quantileValues: s.quantiles.map((q) => ({ quantile: double(q.quantile), value: double(q.value) })),
  };
}

/** Exact nanoseconds as a decimal string (the number itself would exceed 2^53). */
function nanos(t: HrTime): string {
  const [s, ns] = t;
  return s > 0 ? `${s}${String(ns).padStart(9, '0')}` : String(ns);
}

/** The proto3 JSON mapping spells non-finite doubles as strings. */
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

function anyValue(value: unknown): Json {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: double(value) };
  if (Array.isArray(value)) return { arrayValue: { values: value.filter((v) => v != null).map(anyValue) } };
  return {};
}

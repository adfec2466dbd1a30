/**
 * Protobuf encoding of our batch model as OTLP `ExportMetricsServiceRequest`
 * (opentelemetry/proto/collector/metrics/v1/metrics_service.proto).
 *
 * Why not the library's `ProtobufMetricsSerializer`: it takes one SDK
 * ResourceMetrics per request and has no Summary type. We need every runner in
 * one request, summaries as OTLP Summary points, promoted resource attributes
 * on every data point and the `prometheus.type` metric metadata. The encoder
 * below is small and is measured against the library in bench/otlp.ts.
 *
 * Each resource is encoded on its own as one `resource_metrics` entry (field 1,
 * tag included). A request is the plain concatenation of such entries, so
 * splitting a push into several requests needs no re-encoding.
 */
import { ValueType } from '@opentelemetry/api';
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
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { getAttribute } from '../../model/attributes.js';
import { hrTimeHalves, ProtoWriter, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './proto-writer.js';

/** Field numbers of `attributes` per data point message. */
const NUMBER_POINT_ATTRS = 7;
const HISTOGRAM_POINT_ATTRS = 9;
const SUMMARY_POINT_ATTRS = 7;

const TEMPORALITY_DELTA = 1;
const TEMPORALITY_CUMULATIVE = 2;

/** Resource attributes to copy onto data points, pre-encoded once per resource. */
interface Promoted {
  readonly keys: readonly string[];
  /** Encoded KeyValue fields, per key, for the two attribute field numbers in use. */
  readonly at7: readonly Buffer[];
  readonly at9: readonly Buffer[];
}

export class ProtoEncoder {
  private readonly w = new ProtoWriter();
  private readonly scratch = new ProtoWriter(256);

  constructor(private readonly promotedKeys: readonly string[]) {}

  /** One `resource_metrics` field of an ExportMetricsServiceRequest, tag included. */
  encodeResource(batch: ResourceBatch): Buffer {
    const w = this.w;
    w.reset();
    const promoted = this.promote(batch.resource.attributes);
    w.tag(1, WIRE_LEN);
    const rm = w.begin();
    w.tag(1, WIRE_LEN); // resource
    const res = w.begin();
    writeAttributes(w, 1, batch.resource.attributes);
    w.end(res);
    for (const scope of batch.scopeMetrics) {
      w.tag(2, WIRE_LEN); // scope_metrics
      const sm = w.begin();
      w.tag(1, WIRE_LEN); // scope
      const sc = w.begin();
      w.tag(1, WIRE_LEN);
      w.string(scope.scope.name);
      if (scope.scope.version) {
        w.tag(2, WIRE_LEN);
        w.string(scope.scope.version);
      }
      w.end(sc);
      for (const metric of scope.metrics) this.writeMetric(metric, promoted);
      if (scope.scope.schemaUrl) {
        w.tag(3, WIRE_LEN);
        w.string(scope.scope.schemaUrl);
      }
      w.end(sm);
    }
    if (batch.resource.schemaUrl) {
      w.tag(3, WIRE_LEN);
      w.string(batch.resource.schemaUrl);
    }
    w.end(rm);
    return w.finish();
  }

  private promote(resourceAttributes: Attributes): Promoted {
    const keys: string[] = [];
    const at7: Buffer[] = [];
    const at9: Buffer[] = [];
    for (const key of this.promotedKeys) {
      const value = getAttribute(resourceAttributes, key);
      if (value === undefined) continue;
      keys.push(key);
      at7.push(this.encodeKeyValue(NUMBER_POINT_ATTRS, key, value));
      at9.push(this.encodeKeyValue(HISTOGRAM_POINT_ATTRS, key, value));
    }
    return { keys, at7, at9 };
  }

  private encodeKeyValue(field: number, key: string, value: NonNullable<Attributes[string]>): Buffer {
    const s = this.scratch;
    s.reset();
    writeKeyValue(s, field, key, value);
    return s.finish();
  }

  private writeMetric(metric: Metric, promoted: Promoted): void {
    const w = this.w;
    w.tag(2, WIRE_LEN); // ScopeMetrics.metrics
    const m = w.begin();
    const d = metric.descriptor;
    w.tag(1, WIRE_LEN);
    w.string(d.name);
    if (d.description) {
      w.tag(2, WIRE_LEN);
      w.string(d.description);
    }
    if (d.unit) {
      w.tag(3, WIRE_LEN);
      w.string(d.unit);
    }
    const asInt = d.valueType === ValueType.INT;
    switch (metric.dataPointType) {
      case DataPointType.GAUGE: {
        w.tag(5, WIRE_LEN);
        const g = w.begin();
        for (const p of metric.dataPoints) this.writeNumberPoint(p, asInt, promoted);
        w.end(g);
        break;
      }
      case DataPointType.SUM: {
        w.tag(7, WIRE_LEN);
        const s = w.begin();
        for (const p of metric.dataPoints) this.writeNumberPoint(p, asInt, promoted);
        writeTemporality(w, metric.aggregationTemporality);
        if (metric.isMonotonic) {
          w.tag(3, WIRE_VARINT);
          w.varint32(1);
        }
        w.end(s);
        break;
      }
      case DataPointType.HISTOGRAM: {
        w.tag(9, WIRE_LEN);
        const h = w.begin();
        for (const p of metric.dataPoints) this.writeHistogramPoint(p, promoted);
        writeTemporality(w, metric.aggregationTemporality);
        w.end(h);
        break;
      }
      case SUMMARY: {
        w.tag(11, WIRE_LEN);
        const s = w.begin();
        for (const p of metric.dataPoints) this.writeSummaryPoint(p, promoted);
        w.end(s);
        break;
      }
      default:
        // Exponential histograms never come out of a Prometheus scrape; skip rather than misencode.
        break;
    }
    if (metric.prometheus) {
      // Metric.metadata: the exposition type, per the OTel Prometheus compatibility spec.
      writeKeyValue(w, 12, 'prometheus.type', metric.prometheus.type);
    }
    w.end(m);
  }

  private writeNumberPoint(p: DataPoint<number>, asInt: boolean, promoted: Promoted): void {
    const w = this.w;
    w.tag(1, WIRE_LEN);
    const dp = w.begin();
    writeTimes(w, p.startTime, p.endTime);
    if (asInt) {
      w.tag(6, WIRE_FIXED64);
      w.sfixed64(p.value);
    } else {
      w.tag(4, WIRE_FIXED64);
      w.double(p.value);
    }
    writeAttributes(w, NUMBER_POINT_ATTRS, p.attributes);
    writePromoted(w, p.attributes, promoted.keys, promoted.at7);
    w.end(dp);
  }

  private writeHistogramPoint(p: DataPoint<Histogram>, promoted: Promoted): void {
    const w = this.w;
    const h = p.value;
    w.tag(1, WIRE_LEN);
    const dp = w.begin();
    writeTimes(w, p.startTime, p.endTime);
    w.tag(4, WIRE_FIXED64);
    w.fixed64Number(h.count);
    if (h.sum !== undefined) {
      w.tag(5, WIRE_FIXED64);
      w.double(h.sum);
    }
    const counts = h.buckets.counts;
    if (counts.length > 0) {
      w.tag(6, WIRE_LEN);
      w.varint32(counts.length * 8);
      for (const c of counts) w.fixed64Number(c);
    }
    const bounds = h.buckets.boundaries;
    if (bounds.length > 0) {
      w.tag(7, WIRE_LEN);
      w.varint32(bounds.length * 8);
      for (const b of bounds) w.double(b);
    }
    writeAttributes(w, HISTOGRAM_POINT_ATTRS, p.attributes);
    writePromoted(w, p.attributes, promoted.keys, promoted.at9);
    if (h.min !== undefined) {
      w.tag(11, WIRE_FIXED64);
      w.double(h.min);
    }
    if (h.max !== undefined) {
      w.tag(12, WIRE_FIXED64);
      w.double(h.max);
    }
    w.end(dp);
  }

  private writeSummaryPoint(p: DataPoint<SummaryValue>, promoted: Promoted): void {
    const w = this.w;
    const s = p.value;
    w.tag(1, WIRE_LEN);
    const dp = w.begin();
    writeTimes(w, p.startTime, p.endTime);
    w.tag(4, WIRE_FIXED64);
    w.fixed64Number(s.count);
    w.tag(5, WIRE_FIXED64);
    w.double(s.sum);
    for (const q of s.quantiles) {
      w.tag(6, WIRE_LEN);
      const qv = w.begin();
      w.tag(1, WIRE_FIXED64);
      w.double(q.quantile);
      w.tag(2, WIRE_FIXED64);
      w.double(q.value);
      w.end(qv);
    }
    writeAttributes(w, SUMMARY_POINT_ATTRS, p.attributes);
    writePromoted(w, p.attributes, promoted.keys, promoted.at7);
    w.end(dp);
  }
}

function writeTimes(w: ProtoWriter, start: HrTime, end: HrTime): void {
  const [slo, shi] = hrTimeHalves(start[0], start[1]);
  w.tag(2, WIRE_FIXED64);
  w.fixed64(slo, shi);
  const [elo, ehi] = hrTimeHalves(end[0], end[1]);
  w.tag(3, WIRE_FIXED64);
  w.fixed64(elo, ehi);
}

function writeTemporality(w: ProtoWriter, temporality: AggregationTemporality): void {
  w.tag(2, WIRE_VARINT);
  w.varint32(temporality === AggregationTemporality.DELTA ? TEMPORALITY_DELTA : TEMPORALITY_CUMULATIVE);
}

/** A point's own attributes win over a promoted resource attribute of the same key. */
function writePromoted(w: ProtoWriter, attributes: Attributes, keys: readonly string[], encoded: readonly Buffer[]): void {
  for (let i = 0; i < keys.length; i++) {
    if (getAttribute(attributes, keys[i]!) === undefined) w.raw(encoded[i]!);
  }
}

function writeAttributes(w: ProtoWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) writeKeyValue(w, field, key, value);
  }
}

function writeKeyValue(w: ProtoWriter, field: number, key: string, value: NonNullable<Attributes[string]>): void {
  w.tag(field, WIRE_LEN);
  const kv = w.begin();
  w.tag(1, WIRE_LEN);
  w.string(key);
  w.tag(2, WIRE_LEN);
  writeAnyValue(w, value);
  w.end(kv);
}

/** AnyValue: strings, booleans, integers, doubles and arrays of them (attribute value types). */
function writeAnyValue(w: ProtoWriter, value: unknown): void {
  const av = w.begin();
  if (typeof value === 'string') {
    w.tag(1, WIRE_LEN);
    w.string(value);
  } else if (typeof value === 'boolean') {
    w.tag(2, WIRE_VARINT);
    w.varint32(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) {
      w.tag(3, WIRE_VARINT);
      w.varint64(value);
    } else {
      w.tag(4, WIRE_FIXED64);
      w.double(value);
    }
  } else if (Array.isArray(value)) {
    w.tag(5, WIRE_LEN);
    const arr = w.begin();
    for (const item of value) {
      if (item === null || item === undefined) continue;
      w.tag(1, WIRE_LEN);
      writeAnyValue(w, item);
    }
    w.end(arr);
  }
  w.end(av);
}

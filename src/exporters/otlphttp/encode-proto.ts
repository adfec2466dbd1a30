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

/**
 * Resource attributes copied onto data points, and the encoded attributes of each
 * point (its own, then the promoted ones it lacks), per attribute field number.
 * Receivers reuse a series' attributes object from scrape to scrape, so a
 * point's attributes are encoded once and copied in as bytes on every push after.
 */
interface Promoted {
  readonly keys: readonly string[];
  readonly values: readonly NonNullable<Attributes[string]>[];
  /** Per attribute field number (7: number and summary points, 9: histogram points). */
  readonly encoded: Map<number, WeakMap<Attributes, EncodedAttributes>>;
}

/** A point's attribute fields, encoded, and the key of the series they name (see `anchors`). */
interface EncodedAttributes {
  readonly bytes: Buffer;
  readonly series: number;
}

/** Promoted sets kept (one per distinct set of promoted values, i.e. per runner); past it they start afresh. */
const MAX_PROMOTED_SETS = 4096;

export class ProtoEncoder {
  private readonly w = new ProtoWriter();
  private readonly scratch = new ProtoWriter(256);
  /** By the promoted values, not the resource object: a processor may copy the resource on every batch. */
  private readonly promotedSets = new Map<string, Promoted>();
  /** The last start and end times encoded, by identity: most points of a push share them. */
  private startRef: HrTime | undefined;
  private readonly startHalves: [number, number] = [0, 0];
  private endRef: HrTime | undefined;
  private readonly endHalves: [number, number] = [0, 0];

  /** The last series key handed out. */
  private lastSeries = 0;

  constructor(private readonly promotedKeys: readonly string[]) {}

  /**
   * Where the last `encodeResource` wrote each data point's attributes, as
   * (offset, series key) pairs in order: points of one series share a key. A
   * point's bytes mostly repeat those of the same series' point in the metric
   * before (same labels, same times), so a compressor told where that twin lies
   * finds it without searching (DeflateEncoder.write). Valid until the next call.
   */
  anchors(): Int32Array {
    return this.w.anchors();
  }

  /**
   * One `resource_metrics` field of an ExportMetricsServiceRequest, tag included.
   * The bytes are the encoder's own, valid until its next call: the request's gzip
   * copies them into its pieces anyway, and a copy per resource made 14 MB of
   * garbage per push of 100 runners.
   */
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
    return w.written();
  }

  private promote(resourceAttributes: Attributes): Promoted {
    const keys: string[] = [];
    const values: NonNullable<Attributes[string]>[] = [];
    for (const key of this.promotedKeys) {
      const value = getAttribute(resourceAttributes, key);
      if (value === undefined) continue;
      keys.push(key);
      values.push(value);
    }
    const id = JSON.stringify([keys, values]);
    let promoted = this.promotedSets.get(id);
    if (promoted === undefined) {
      if (this.promotedSets.size >= MAX_PROMOTED_SETS) this.promotedSets.clear();
      promoted = { keys, values, encoded: new Map() };
      this.promotedSets.set(id, promoted);
    }
    return promoted;
  }

  /** Writes a point's attribute fields, anchored under its series key. */
  private writePointAttributes(field: number, attributes: Attributes, promoted: Promoted): void {
    const encoded = this.pointAttributes(field, attributes, promoted);
    this.w.anchor(encoded.series);
    this.w.raw(encoded.bytes);
  }

  /** A point's attribute fields, encoded: its own, then the promoted ones it lacks (a point's own attribute wins). */
  private pointAttributes(field: number, attributes: Attributes, promoted: Promoted): EncodedAttributes {
    let cache = promoted.encoded.get(field);
    if (cache === undefined) {
      cache = new WeakMap();
      promoted.encoded.set(field, cache);
    }
    let encoded = cache.get(attributes);
    if (encoded === undefined) {
      const s = this.scratch;
      s.reset();
      writeAttributes(s, field, attributes);
      for (let i = 0; i < promoted.keys.length; i++) {
        if (getAttribute(attributes, promoted.keys[i]!) === undefined) writeKeyValue(s, field, promoted.keys[i]!, promoted.values[i]!);
      }
      this.lastSeries = (this.lastSeries + 1) | 0;
      encoded = { bytes: s.finish(), series: this.lastSeries };
      cache.set(attributes, encoded);
    }
    return encoded;
  }

  /**
   * Start and end time fields. Field order does not matter to a protobuf reader;
   * a point's fields are written attributes first, then times, then values, so
   * that what repeats from point to point (attributes, times) is one run of bytes
   * for gzip.
   */
  private writeTimes(start: HrTime, end: HrTime): void {
    const w = this.w;
    if (start !== this.startRef) {
      this.startRef = start;
      setHalves(this.startHalves, start);
    }
    if (end !== this.endRef) {
      this.endRef = end;
      setHalves(this.endHalves, end);
    }
    w.tag(2, WIRE_FIXED64);
    w.fixed64(this.startHalves[0], this.startHalves[1]);
    w.tag(3, WIRE_FIXED64);
    w.fixed64(this.endHalves[0], this.endHalves[1]);
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
    this.writePointAttributes(NUMBER_POINT_ATTRS, p.attributes, promoted);
    this.writeTimes(p.startTime, p.endTime);
    if (asInt) {
      w.tag(6, WIRE_FIXED64);
      w.sfixed64(p.value);
    } else {
      w.tag(4, WIRE_FIXED64);
      w.double(p.value);
    }
    w.end(dp);
  }

  private writeHistogramPoint(p: DataPoint<Histogram>, promoted: Promoted): void {
    const w = this.w;
    const h = p.value;
    w.tag(1, WIRE_LEN);
    const dp = w.begin();
    this.writePointAttributes(HISTOGRAM_POINT_ATTRS, p.attributes, promoted);
    this.writeTimes(p.startTime, p.endTime);
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
    this.writePointAttributes(SUMMARY_POINT_ATTRS, p.attributes, promoted);
    this.writeTimes(p.startTime, p.endTime);
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
    w.end(dp);
  }
}

function setHalves(halves: [number, number], t: HrTime): void {
  const [lo, hi] = hrTimeHalves(t[0], t[1]);
  halves[0] = lo;
  halves[1] = hi;
}

function writeTemporality(w: ProtoWriter, temporality: AggregationTemporality): void {
  w.tag(2, WIRE_VARINT);
  w.varint32(temporality === AggregationTemporality.DELTA ? TEMPORALITY_DELTA : TEMPORALITY_CUMULATIVE);
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

/**
 * The collector's own metrics (scrapes, failures, durations, queue lengths, …).
 * They are collected into an ordinary ResourceBatch, so the pull endpoint serves
 * them beside the runners' metrics and a Prometheus can watch the collector itself.
 */
import { VERSION } from '../version.js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  millisToHrTime,
  type Attributes,
  type DataPoint,
  type HrTime,
  type Metric,
  type ResourceBatch,
} from '../model/batch.js';
import { attributesKey } from '../model/resource-key.js';

export const SELF_SCOPE = { name: 'runner-metrics', version: VERSION };

interface Series {
  readonly attributes: Attributes;
  readonly startTime: HrTime;
  value: number;
}

abstract class Instrument {
  protected readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly unit: string,
  ) {}

  protected seriesFor(attributes: Attributes): Series {
    const key = attributesKey(attributes);
    let s = this.series.get(key);
    if (!s) {
      s = { attributes: { ...attributes }, startTime: millisToHrTime(Date.now()), value: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  /** Forgets a series, e.g. a target removed by a config reload. */
  remove(attributes: Attributes): void {
    this.series.delete(attributesKey(attributes));
  }

  get size(): number {
    return this.series.size;
  }

  /** Current series, in the order they were first recorded. */
  entries(): Array<{ attributes: Attributes; value: number }> {
    return [...this.series.values()].map((s) => ({ attributes: s.attributes, value: s.value }));
  }

  abstract collect(now: HrTime): Metric | undefined;

  protected points(now: HrTime): DataPoint<number>[] {
    const out: DataPoint<number>[] = [];
    for (const s of this.series.values()) {
      out.push({ startTime: s.startTime, endTime: now, attributes: s.attributes, value: s.value });
    }
    return out;
  }
}

export class Counter extends Instrument {
  add(attributes: Attributes, delta = 1): void {
    this.seriesFor(attributes).value += delta;
  }
  /** Makes the series visible with value 0, so rates work from the first failure. */
  touch(attributes: Attributes): void {
    this.seriesFor(attributes);
  }
  value(attributes: Attributes): number {
    return this.series.get(attributesKey(attributes))?.value ?? 0;
  }
  collect(now: HrTime): Metric | undefined {
    if (this.series.size === 0) return undefined;
    return {
      descriptor: { name: this.name, description: this.help, unit: this.unit, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: this.points(now),
      prometheus: { type: 'counter' },
    };
  }
}

export class Gauge extends Instrument {
  set(attributes: Attributes, value: number): void {
    this.seriesFor(attributes).value = value;
  }
  value(attributes: Attributes): number | undefined {
    return this.series.get(attributesKey(attributes))?.value;
  }
  collect(now: HrTime): Metric | undefined {
    if (this.series.size === 0) return undefined;
    return {
      descriptor: { name: this.name, description: this.help, unit: this.unit, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: this.points(now),
      prometheus: { type: 'gauge' },
    };
  }
}

export class SelfMetrics {
  private readonly instruments = new Map<string, Instrument>();
  private readonly refreshers: Array<() => void> = [];
  private readonly resource;

  constructor(attributes: Attributes = { 'service.name': 'runner-metrics' }) {
    this.resource = resourceFromAttributes(attributes);
  }

  /** Returns the counter of that name, creating it on first use (components share names). */
  counter(name: string, help: string, unit = ''): Counter {
    return this.instrument(name, () => new Counter(name, help, unit), Counter);
  }

  gauge(name: string, help: string, unit = ''): Gauge {
    return this.instrument(name, () => new Gauge(name, help, unit), Gauge);
  }

  /** The gauge of that name if some component registered one (for read-only views such as the status page). */
  findGauge(name: string): Gauge | undefined {
    const i = this.instruments.get(name);
    return i instanceof Gauge ? i : undefined;
  }

  private instrument<T extends Instrument>(name: string, make: () => T, kind: abstract new (...a: any[]) => T): T {
    const existing = this.instruments.get(name);
    if (existing) {
      if (!(existing instanceof kind)) throw new Error(`own metric ${name} registered twice with different types`);
      return existing;
    }
    const created = make();
    this.instruments.set(name, created);
    return created;
  }

  /**
   * Forgets every series of a target that went away: those whose attributes are
   * `labels`, or `labels` plus only keys in `extraKeys` (a failure's `reason`).
   */
  forgetSeries(labels: Attributes, extraKeys: readonly string[] = ['reason']): void {
    const names = Object.keys(labels);
    for (const instrument of this.instruments.values()) {
      for (const { attributes } of instrument.entries()) {
        if (!names.every((n) => attributes[n] === labels[n])) continue;
        if (Object.keys(attributes).every((k) => k in labels || extraKeys.includes(k))) instrument.remove(attributes);
      }
    }
  }

  /** Registers a function run before every collect, for values read on demand (process memory, CPU). */
  onCollect(refresh: () => void): void {
    this.refreshers.push(refresh);
  }

  collect(now: HrTime = millisToHrTime(Date.now())): ResourceBatch {
    for (const refresh of this.refreshers) refresh();
    const metrics: Metric[] = [];
    for (const instrument of this.instruments.values()) {
      const m = instrument.collect(now);
      if (m) metrics.push(m);
    }
    return { resource: this.resource, scopeMetrics: [{ scope: SELF_SCOPE, metrics }] };
  }
}

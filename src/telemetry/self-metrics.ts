/**
 * The collector's own metrics (scrapes, failures, durations, queue lengths, …).
 * They are collected into an ordinary ResourceBatch, so the pull endpoint serves
 * them beside the runners' metrics and a Prometheus can watch the collector itself.
 *
 * One SelfMetrics lives as long as the service, so series (and counter start
 * times) survive a config reload. Each component writes through its own scope
 * (`scope()`): disposing the scope when the component is removed takes away the
 * series it created, and any later write of a disposed scope goes nowhere.
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

/**
 * Keys of frozen label sets, which cannot change under the cache. A target's health
 * writes six series per scrape with the same frozen labels: sorting and serialising
 * them each time cost more than the rest of the bookkeeping.
 */
const frozenKeys = new WeakMap<Attributes, string>();

function seriesKey(attributes: Attributes): string {
  if (!Object.isFrozen(attributes)) return attributesKey(attributes);
  let key = frozenKeys.get(attributes);
  if (key === undefined) frozenKeys.set(attributes, (key = attributesKey(attributes)));
  return key;
}

export const SELF_SCOPE = { name: 'runner-metrics', version: VERSION };

interface Series {
  readonly attributes: Attributes;
  readonly startTime: HrTime;
  value: number;
}

/** The series one scope created, per instrument; they go when the scope is disposed. */
interface Owner {
  readonly created: Map<Map<string, Series>, Set<string>>;
  disposed: boolean;
}

abstract class Instrument {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly unit: string,
    /** Shared by the instrument and every scope's view of it. */
    protected readonly series: Map<string, Series> = new Map(),
    private readonly owner?: Owner,
  ) {}

  /** The same instrument, seen through a scope that records the series it creates. */
  abstract view(owner: Owner): Instrument;

  protected seriesFor(attributes: Attributes): Series {
    if (this.owner?.disposed) return { attributes, startTime: [0, 0], value: 0 }; // a removed component's late write
    const key = seriesKey(attributes);
    let s = this.series.get(key);
    if (!s) {
      s = { attributes: { ...attributes }, startTime: millisToHrTime(Date.now()), value: 0 };
      this.series.set(key, s);
      if (this.owner) {
        let keys = this.owner.created.get(this.series);
        if (!keys) this.owner.created.set(this.series, (keys = new Set()));
        keys.add(key);
      }
    }
    return s;
  }

  /** Forgets a series, e.g. a target removed by a config reload. */
  remove(attributes: Attributes): void {
    if (this.owner?.disposed) return;
    const key = seriesKey(attributes);
    this.series.delete(key);
    this.owner?.created.get(this.series)?.delete(key);
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
  view(owner: Owner): Counter {
    return new Counter(this.name, this.help, this.unit, this.series, owner);
  }
  add(attributes: Attributes, delta = 1): void {
    this.seriesFor(attributes).value += delta;
  }
  /** Makes the series visible with value 0, so rates work from the first failure. */
  touch(attributes: Attributes): void {
    this.seriesFor(attributes);
  }
  value(attributes: Attributes): number {
    return this.series.get(seriesKey(attributes))?.value ?? 0;
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
  view(owner: Owner): Gauge {
    return new Gauge(this.name, this.help, this.unit, this.series, owner);
  }
  set(attributes: Attributes, value: number): void {
    this.seriesFor(attributes).value = value;
  }
  value(attributes: Attributes): number | undefined {
    return this.series.get(seriesKey(attributes))?.value;
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

/** What every scope of one SelfMetrics shares. */
interface Registry {
  readonly instruments: Map<string, Instrument>;
  readonly refreshers: Set<() => void>;
  readonly resource: ReturnType<typeof resourceFromAttributes>;
}

export class SelfMetrics {
  private readonly registry: Registry;
  /** Set on scopes: what they created, and their views of the instruments. */
  private readonly owner: Owner | undefined;
  private readonly views = new Map<string, Instrument>();
  private readonly refreshers = new Set<() => void>();
  private readonly children = new Set<SelfMetrics>();
  private readonly parent: SelfMetrics | undefined;

  constructor(attributes: Attributes = { 'service.name': 'runner-metrics' }, parent?: SelfMetrics) {
    this.registry = parent?.registry ?? { instruments: new Map(), refreshers: new Set(), resource: resourceFromAttributes(attributes) };
    this.owner = parent ? { created: new Map(), disposed: false } : undefined;
    this.parent = parent;
  }

  /**
   * A view for one component (or one target of a component): it reads and writes
   * the same instruments, and remembers which series it created so that
   * `dispose()` removes them.
   */
  scope(): SelfMetrics {
    const child = new SelfMetrics(undefined, this);
    if (this.owner?.disposed) child.owner!.disposed = true;
    else this.children.add(child);
    return child;
  }

  /** Removes every series this scope (and its sub-scopes) created; later writes through it are ignored. */
  dispose(): void {
    if (!this.owner || this.owner.disposed) return;
    for (const child of [...this.children]) child.dispose();
    this.parent?.children.delete(this);
    this.owner.disposed = true;
    for (const [series, keys] of this.owner.created) for (const key of keys) series.delete(key);
    this.owner.created.clear();
    for (const refresh of this.refreshers) this.registry.refreshers.delete(refresh);
  }

  /** Returns the counter of that name, creating it on first use (components share names). */
  counter(name: string, help: string, unit = ''): Counter {
    return this.instrument(name, () => new Counter(name, help, unit), Counter);
  }

  gauge(name: string, help: string, unit = ''): Gauge {
    return this.instrument(name, () => new Gauge(name, help, unit), Gauge);
  }

  /** The gauge of that name if some component registered one (a read-only view, e.g. for checks of a target's `up`). */
  findGauge(name: string): Gauge | undefined {
    const i = this.registry.instruments.get(name);
    return i instanceof Gauge ? i : undefined;
  }

  private instrument<T extends Instrument>(name: string, make: () => T, kind: abstract new (...a: any[]) => T): T {
    let shared = this.registry.instruments.get(name);
    if (shared) {
      if (!(shared instanceof kind)) throw new Error(`own metric ${name} registered twice with different types`);
    } else {
      shared = make();
      this.registry.instruments.set(name, shared);
    }
    if (!this.owner) return shared as T;
    let view = this.views.get(name);
    if (!view) this.views.set(name, (view = shared.view(this.owner)));
    return view as T;
  }

  /** Registers a function run before every collect, for values read on demand (process memory, CPU). */
  onCollect(refresh: () => void): void {
    if (this.owner?.disposed) return;
    this.refreshers.add(refresh);
    this.registry.refreshers.add(refresh);
  }

  /** Every series of every scope. */
  collect(now: HrTime = millisToHrTime(Date.now())): ResourceBatch {
    for (const refresh of this.registry.refreshers) refresh();
    const metrics: Metric[] = [];
    for (const instrument of this.registry.instruments.values()) {
      const m = instrument.collect(now);
      if (m) metrics.push(m);
    }
    return { resource: this.registry.resource, scopeMetrics: [{ scope: SELF_SCOPE, metrics }] };
  }
}

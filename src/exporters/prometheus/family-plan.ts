/**
 * Which series of a family a render writes, and with which label bytes,
 * remembered from one render to the next.
 *
 * Deciding it takes a label-set key per series and a set of the keys already
 * written (a series whose labels another series of its family already has is
 * left out). Receivers hand over the same `attributes` objects for unchanged
 * series, in the same order, so in steady state the decision cannot have
 * changed: a remembered plan is checked by identity, one comparison per point,
 * and reused; any difference (a series, a resource or a point's shape) makes a
 * new plan, decided afresh.
 */
import type { Attributes } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { SUMMARY, type Metric } from '../../model/batch.js';
import type { BoundLabel, SchemeLabels } from './series-labels.js';

/** The series is written. */
export const WRITTEN = 0;
/** Another series of the family, earlier in the body, has the same labels. */
export const REPEAT = 1;
/** The point does not hold what its type promises (a source that mislabelled it). */
export const MALFORMED = 2;

export interface PlanMember {
  readonly metric: Metric;
  readonly labels: SchemeLabels;
}

const EMPTY = Buffer.alloc(0);

export class FamilyPlan {
  /** The last render that used this plan (see RenderCache). */
  used = 0;

  constructor(
    /** Per member: its resource's labels, its bound label and its number of points. */
    private readonly labels: readonly SchemeLabels[],
    private readonly bounds: readonly (BoundLabel | undefined)[],
    private readonly counts: readonly number[],
    /** Per point of every member, in order. */
    private readonly attributes: readonly Attributes[],
    /** The label bytes of each point (SchemeLabels.body); empty for a point not written. */
    readonly bodies: readonly Buffer[],
    readonly states: Uint8Array,
  ) {}

  private derivedKey: string | undefined;
  private derivedValue: unknown;

  /**
   * What `make` derives from this plan for `key` (the series texts for a family's
   * sample names), made again only when the key changes: a new plan starts without.
   */
  derived<T>(key: string, make: () => T): T {
    if (this.derivedKey !== key) {
      this.derivedValue = make();
      this.derivedKey = key;
    }
    return this.derivedValue as T;
  }

  /** Whether this plan decides for `members` exactly what a new one would. */
  fits(members: readonly PlanMember[]): boolean {
    if (this.labels.length !== members.length) return false;
    let at = 0;
    for (let k = 0; k < members.length; k++) {
      const { metric, labels } = members[k]!;
      const points = metric.dataPoints;
      if (this.labels[k] !== labels || this.bounds[k] !== boundOf(metric) || this.counts[k] !== points.length) return false;
      const type = metric.dataPointType;
      const fit = type === DataPointType.SUM || type === DataPointType.GAUGE ? this.numbersFit(points, at) : this.pointsFit(metric, at);
      if (!fit) return false;
      at += points.length;
    }
    return true;
  }

  /** fits() for one member's points, of a number type: the loop most points go through, kept small. */
  private numbersFit(points: Metric['dataPoints'], at: number): boolean {
    const { attributes, states } = this;
    for (let i = 0; i < points.length; i++) {
      const point = points[i]!;
      if (attributes[at + i] !== point.attributes) return false;
      const state = states[at + i];
      // A repeat stays a repeat whatever its shape: the series it repeats is unchanged.
      if (state !== REPEAT && (state === WRITTEN) !== (typeof point.value === 'number')) return false;
    }
    return true;
  }

  /** fits() for one member's points, of any type. */
  private pointsFit(metric: Metric, at: number): boolean {
    const points = metric.dataPoints;
    for (let i = 0; i < points.length; i++) {
      const point = points[i]!;
      if (this.attributes[at + i] !== point.attributes) return false;
      const state = this.states[at + i];
      if (state !== REPEAT && (state === WRITTEN) !== isWritable(metric, point.value)) return false;
    }
    return true;
  }
}

/** Decides afresh: the first series of each label set is written, in member and point order. */
export function planFamily(members: readonly PlanMember[]): FamilyPlan {
  const labels: SchemeLabels[] = [];
  const bounds: (BoundLabel | undefined)[] = [];
  const counts: number[] = [];
  const attributes: Attributes[] = [];
  const bodies: Buffer[] = [];
  const states: number[] = [];
  const seen = new Set<string>();
  for (const member of members) {
    const { metric } = member;
    const bound = boundOf(metric);
    labels.push(member.labels);
    bounds.push(bound);
    counts.push(metric.dataPoints.length);
    for (const point of metric.dataPoints) {
      attributes.push(point.attributes);
      if (!isWritable(metric, point.value)) {
        bodies.push(EMPTY);
        states.push(MALFORMED);
        continue;
      }
      const body = member.labels.body(point.attributes, bound);
      const key = member.labels.key(body);
      const repeat = seen.has(key);
      if (!repeat) seen.add(key);
      bodies.push(repeat ? EMPTY : body);
      states.push(repeat ? REPEAT : WRITTEN);
    }
  }
  return new FamilyPlan(labels, bounds, counts, attributes, bodies, Uint8Array.from(states));
}

/** The label a histogram's buckets or a summary's quantiles add to their point's labels. */
export function boundOf(metric: Metric): BoundLabel | undefined {
  return metric.dataPointType === DataPointType.HISTOGRAM ? 'le' : metric.dataPointType === SUMMARY ? 'quantile' : undefined;
}

/**
 * Whether a point holds what its type promises. A point of another shape is left
 * out rather than written as `undefined` or failing the whole render.
 */
function isWritable(metric: Metric, value: unknown): boolean {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
    case DataPointType.GAUGE:
      return typeof value === 'number';
    case DataPointType.HISTOGRAM:
      return isWellShaped(value, 'buckets');
    case SUMMARY:
      return isWellShaped(value, 'quantiles');
    default:
      return false;
  }
}

function isWellShaped(value: unknown, field: 'buckets' | 'quantiles'): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[field] === 'object';
}

/** Renders older than this many renders ago that did not use a plan make it forgotten. */
const PLAN_MAX_IDLE_RENDERS = 8;

/**
 * The plans of one exporter, and the size of its last bodies (so a render can
 * write into a buffer of the right size at once). Keyed by whatever shapes a
 * plan (format, escaping, family name); a plan no render used recently is
 * dropped, so families that went away are forgotten with their series.
 */
export class RenderCache {
  private readonly plans = new Map<string, FamilyPlan>();
  private readonly sizes = new Map<string, number>();
  private renders = 0;

  /** Call once per render, before plan(). */
  begin(): void {
    this.renders++;
  }

  plan(key: string, members: readonly PlanMember[]): FamilyPlan {
    let plan = this.plans.get(key);
    if (plan === undefined || !plan.fits(members)) {
      plan = planFamily(members);
      this.plans.set(key, plan);
    }
    plan.used = this.renders;
    return plan;
  }

  /** The size of the last body of this shape, or 0. */
  sizeHint(shape: string): number {
    return this.sizes.get(shape) ?? 0;
  }

  /** Call once per render, after it: records its size and drops idle plans. */
  end(shape: string, size: number): void {
    this.sizes.set(shape, size);
    for (const [key, plan] of this.plans) if (this.renders - plan.used > PLAN_MAX_IDLE_RENDERS) this.plans.delete(key);
  }
}

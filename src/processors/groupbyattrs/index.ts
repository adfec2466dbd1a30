/**
 * The `groupbyattrs` processor, in the OTel Collector's shape: a data point
 * holding any of `keys` among its attributes moves to a resource that is its
 * own resource plus those attributes (the point's values win), and loses them
 * from its own attributes; points with none of the keys stay where they were.
 * So one runner page whose series carry a model label (TorchServe's `ModelName`
 * after an `attributes` rename, Triton's `model`) becomes one resource per
 * model, each labelled `model=<name>` by the exporters, with no knowledge of
 * any runner here. With no keys, resources with equal attributes in one batch
 * are merged into one (the Collector's "compaction").
 *
 * Exporters keep the latest snapshot per resource, and a resource that is not
 * sent again stays until it expires. So this processor remembers which
 * resources each input resource produced last, and when one is no longer
 * produced (a model unloaded, or the target went down and sent an empty
 * snapshot) hands on an empty snapshot for it, as a receiver does for a target
 * that went down.
 */
import { z } from 'zod';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ComponentContext, Consumer, Processor, ProcessorFactory } from '../../component.js';
import { componentConfig } from '../../config/schema-helpers.js';
import type { Attributes, Batch, Metric, ResourceBatch } from '../../model/batch.js';
import { getAttribute, setAttribute } from '../../model/attributes.js';
import { resourceKey } from '../../model/resource-key.js';

export const groupByAttrsProcessorConfigSchema = componentConfig({
  keys: z
    .array(z.string().min(1))
    .default([])
    .describe('Data point attributes that move to the resource; points with equal values share one resource. Empty: merge equal resources.'),
});

export type GroupByAttrsProcessorConfig = z.output<typeof groupByAttrsProcessorConfigSchema>;

/** How one attributes object splits: the grouping part (none: `signature` '') and the rest. */
interface Split {
  readonly signature: string;
  readonly grouped: Attributes;
  readonly rest: Attributes;
}

const UNGROUPED: Split = { signature: '', grouped: {}, rest: {} };

/** One output resource being built from this batch. */
interface Group {
  readonly resource: Resource;
  readonly scopes: Map<string, { scope: InstrumentationScope; metrics: Metric[] }>;
}

type Point = { attributes: Attributes };

export class GroupByAttrsProcessor implements Processor {
  // Receivers reuse attributes objects and resources across scrapes; so do we, so that
  // exporters' per-object caches (label texts, resource keys) keep working downstream.
  private readonly splits = new WeakMap<Attributes, Split>();
  private readonly resources = new WeakMap<Resource, Map<string, Resource>>();
  /** Per input resource (by key): the output resources it produced last, by key. */
  private readonly produced = new Map<string, Map<string, Resource>>();
  /** Per output resource key: the input resource that produced it last. */
  private readonly owner = new Map<string, string>();

  constructor(
    private readonly config: GroupByAttrsProcessorConfig,
    private readonly next: Consumer,
  ) {}

  consume(batch: Batch): void {
    const groups = new Map<string, Group>();
    const producedNow = new Map<string, Map<string, Resource>>();
    for (const rb of batch) {
      const inKey = resourceKey(rb.resource);
      const mine = producedNow.get(inKey) ?? new Map<string, Resource>();
      producedNow.set(inKey, mine);
      for (const [outKey, resource] of this.regroup(rb, groups)) mine.set(outKey, resource);
    }

    const withdrawn: ResourceBatch[] = [];
    for (const [inKey, now] of producedNow) {
      for (const [outKey, resource] of this.produced.get(inKey) ?? []) {
        if (now.has(outKey) || groups.has(outKey) || this.owner.get(outKey) !== inKey) continue;
        this.owner.delete(outKey);
        withdrawn.push({ resource, scopeMetrics: [] });
      }
      if (now.size === 0) this.produced.delete(inKey);
      else this.produced.set(inKey, now);
      for (const outKey of now.keys()) this.owner.set(outKey, inKey);
    }

    const out: ResourceBatch[] = withdrawn;
    for (const g of groups.values()) {
      out.push({ resource: g.resource, scopeMetrics: [...g.scopes.values()].map((s) => ({ scope: s.scope, metrics: s.metrics })) });
    }
    if (out.length > 0) this.next.consume(out);
  }

  /** Adds the points of one input resource to `groups`; answers the output resources they went to. */
  private regroup(rb: ResourceBatch, groups: Map<string, Group>): Map<string, Resource> {
    const used = new Map<string, Resource>();
    for (const sm of rb.scopeMetrics) {
      const scopeKey = `${sm.scope.name}\u0000${sm.scope.version ?? ''}\u0000${sm.scope.schemaUrl ?? ''}`;
      for (const metric of sm.metrics) {
        for (const [signature, part] of this.splitMetric(metric)) {
          const resource = this.resourceFor(rb.resource, signature, part.grouped);
          const outKey = resourceKey(resource);
          used.set(outKey, resource);
          let group = groups.get(outKey);
          if (group === undefined) groups.set(outKey, (group = { resource, scopes: new Map() }));
          let scope = group.scopes.get(scopeKey);
          if (scope === undefined) group.scopes.set(scopeKey, (scope = { scope: sm.scope, metrics: [] }));
          scope.metrics.push(part.metric);
        }
      }
    }
    return used;
  }

  /** One metric's points by grouping signature; a metric without points goes nowhere. */
  private splitMetric(metric: Metric): Map<string, { grouped: Attributes; metric: Metric }> {
    const bySignature = new Map<string, { grouped: Attributes; points: Point[] }>();
    for (const p of metric.dataPoints as Point[]) {
      const split = this.splitOf(p.attributes);
      let part = bySignature.get(split.signature);
      if (part === undefined) bySignature.set(split.signature, (part = { grouped: split.grouped, points: [] }));
      part.points.push(split === UNGROUPED ? p : { ...p, attributes: split.rest });
    }
    const out = new Map<string, { grouped: Attributes; metric: Metric }>();
    for (const [signature, part] of bySignature) {
      // The whole metric in one group, unchanged: hand on the same object.
      const whole = bySignature.size === 1 && signature === '';
      out.set(signature, { grouped: part.grouped, metric: whole ? metric : ({ ...metric, dataPoints: part.points } as Metric) });
    }
    return out;
  }

  private splitOf(attributes: Attributes): Split {
    let split = this.splits.get(attributes);
    if (split !== undefined) return split;
    const grouped: Attributes = {};
    const pairs: unknown[] = [];
    for (const key of this.config.keys) {
      const value = getAttribute(attributes, key);
      // An empty label value is no label at all in Prometheus: nothing to group by.
      if (value === undefined || value === '') continue;
      setAttribute(grouped, key, value);
      pairs.push(key, value);
    }
    if (pairs.length === 0) split = UNGROUPED;
    else {
      const rest: Attributes = {};
      for (const [k, v] of Object.entries(attributes)) if (!Object.hasOwn(grouped, k) && v !== undefined) setAttribute(rest, k, v);
      split = { signature: JSON.stringify(pairs), grouped, rest };
    }
    this.splits.set(attributes, split);
    return split;
  }

  private resourceFor(input: Resource, signature: string, grouped: Attributes): Resource {
    if (signature === '') return input;
    let bySignature = this.resources.get(input);
    if (bySignature === undefined) this.resources.set(input, (bySignature = new Map()));
    let resource = bySignature.get(signature);
    if (resource === undefined) {
      const attributes: Attributes = { ...input.attributes };
      for (const [k, v] of Object.entries(grouped)) if (v !== undefined) setAttribute(attributes, k, v);
      resource = resourceFromAttributes(attributes);
      bySignature.set(signature, resource);
    }
    return resource;
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export const groupByAttrsProcessorFactory: ProcessorFactory<GroupByAttrsProcessorConfig> = {
  type: 'groupbyattrs',
  configSchema: groupByAttrsProcessorConfigSchema,
  createProcessor: (config: GroupByAttrsProcessorConfig, _context: ComponentContext, next: Consumer) => new GroupByAttrsProcessor(config, next),
};

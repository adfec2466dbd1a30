/**
 * The `filter` processor, in the OTel Collector's (legacy, still common) shape:
 *
 *   filter:
 *     metrics:
 *       include: { match_type: strict|regexp, metric_names: [...], resource_attributes: [{key, value}] }
 *       exclude: { ... }
 *
 * A metric passes when it matches `include` (if given) and does not match
 * `exclude` (if given). Resource attributes select whole resources. As in the
 * Collector, `regexp` patterns are unanchored: write `^…$` for a full match.
 */
import { z } from 'zod';
import type { Resource } from '@opentelemetry/resources';
import type { ComponentContext, Consumer, Processor, ProcessorFactory } from '../../component.js';
import { componentConfig } from '../../config/schema-helpers.js';
import type { Batch, ResourceBatch } from '../../model/batch.js';
import { getAttribute } from '../../model/attributes.js';

const matchProperties = z
  .strictObject({
    match_type: z.enum(['strict', 'regexp']).default('strict'),
    metric_names: z.array(z.string()).default([]),
    resource_attributes: z.array(z.strictObject({ key: z.string(), value: z.string() })).default([]),
  })
  .superRefine((m, ctx) => {
    if (m.match_type !== 'regexp') return;
    const patterns = [...m.metric_names, ...m.resource_attributes.map((a) => a.value)];
    for (const p of patterns) {
      try {
        new RegExp(p);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `invalid regexp "${p}": ${(err as Error).message}` });
      }
    }
  });

export const filterProcessorConfigSchema = componentConfig({
  metrics: z
    .strictObject({
      include: matchProperties.optional(),
      exclude: matchProperties.optional(),
    })
    .default({}),
});

export type FilterProcessorConfig = z.output<typeof filterProcessorConfigSchema>;
type MatchConfig = NonNullable<FilterProcessorConfig['metrics']['include']>;

/**
 * A compiled include or exclude rule. As in the Collector, the conditions a rule
 * lists must all hold: a metric matches when its name matches one of
 * `metric_names` (if any are listed) AND its resource matches every entry of
 * `resource_attributes` (if any are listed).
 */
class Matcher {
  private readonly names: ((name: string) => boolean) | undefined;
  private readonly attributes: Array<{ key: string; test: (v: string) => boolean }>;

  constructor(config: MatchConfig) {
    const regexp = config.match_type === 'regexp';
    const test = (pattern: string) => {
      if (!regexp) return (v: string) => v === pattern;
      const re = new RegExp(pattern);
      return (v: string) => re.test(v);
    };
    if (config.metric_names.length > 0) {
      const tests = config.metric_names.map(test);
      this.names = (name) => tests.some((t) => t(name));
    }
    this.attributes = config.resource_attributes.map((a) => ({ key: a.key, test: test(a.value) }));
  }

  /** True when the rule lists no condition at all (then it is as if it were not given). */
  get empty(): boolean {
    return this.names === undefined && this.attributes.length === 0;
  }

  matchesResource(resource: Resource): boolean {
    return this.attributes.every(({ key, test }) => {
      const v = getAttribute(resource.attributes, key);
      return v !== undefined && test(String(v));
    });
  }

  matchesName(name: string): boolean {
    return this.names === undefined || this.names(name);
  }
}

/** Per resource: whether each rule's resource conditions hold, and the decisions per metric name. */
interface ResourceDecisions {
  readonly include: boolean | undefined;
  readonly exclude: boolean | undefined;
  readonly byName: Map<string, boolean>;
}

export class FilterProcessor implements Processor {
  private readonly include: Matcher | undefined;
  private readonly exclude: Matcher | undefined;
  // Resources and names repeat every scrape: decide once per (resource, name), then look up.
  private readonly decisions = new WeakMap<Resource, ResourceDecisions>();

  constructor(config: FilterProcessorConfig, private readonly next: Consumer) {
    const rule = (c: MatchConfig | undefined) => {
      const m = c && new Matcher(c);
      return m && !m.empty ? m : undefined;
    };
    this.include = rule(config.metrics.include);
    this.exclude = rule(config.metrics.exclude);
  }

  consume(batch: Batch): void {
    // Every resource is passed on, even when nothing of it is left: an empty snapshot
    // tells exporters the runner has nothing to show now (e.g. it went down).
    const out: ResourceBatch[] = batch.map((rb) => ({
      resource: rb.resource,
      scopeMetrics: rb.scopeMetrics
        .map((sm) => ({ scope: sm.scope, metrics: sm.metrics.filter((m) => this.keeps(rb.resource, m.descriptor.name)) }))
        .filter((sm) => sm.metrics.length > 0),
    }));
    this.next.consume(out);
  }

  keeps(resource: Resource, name: string): boolean {
    let d = this.decisions.get(resource);
    if (d === undefined) {
      d = {
        include: this.include?.matchesResource(resource),
        exclude: this.exclude?.matchesResource(resource),
        byName: new Map(),
      };
      this.decisions.set(resource, d);
    }
    let keep = d.byName.get(name);
    if (keep === undefined) {
      const included = this.include === undefined || (d.include === true && this.include.matchesName(name));
      const excluded = this.exclude !== undefined && d.exclude === true && this.exclude.matchesName(name);
      keep = included && !excluded;
      d.byName.set(name, keep);
    }
    return keep;
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export const filterProcessorFactory: ProcessorFactory<FilterProcessorConfig> = {
  type: 'filter',
  configSchema: filterProcessorConfigSchema,
  createProcessor: (config: FilterProcessorConfig, _context: ComponentContext, next: Consumer) => new FilterProcessor(config, next),
};

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

/** A compiled include or exclude rule. */
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

  matchesName(name: string): boolean | undefined {
    return this.names?.(name);
  }

  /** All listed resource attributes must match; undefined when the rule lists none. */
  matchesResource(resource: Resource): boolean | undefined {
    if (this.attributes.length === 0) return undefined;
    return this.attributes.every(({ key, test }) => {
      const v = resource.attributes[key];
      return v !== undefined && test(String(v));
    });
  }
}

export class FilterProcessor implements Processor {
  private readonly include: Matcher | undefined;
  private readonly exclude: Matcher | undefined;
  // Names and resources repeat every scrape: decide once, then look up.
  private readonly nameDecisions = new Map<string, boolean>();
  private readonly resourceDecisions = new WeakMap<Resource, boolean>();

  constructor(config: FilterProcessorConfig, private readonly next: Consumer) {
    this.include = config.metrics.include && new Matcher(config.metrics.include);
    this.exclude = config.metrics.exclude && new Matcher(config.metrics.exclude);
  }

  consume(batch: Batch): void {
    const out: ResourceBatch[] = [];
    for (const rb of batch) {
      if (!this.keepsResource(rb.resource)) continue;
      out.push({
        resource: rb.resource,
        scopeMetrics: rb.scopeMetrics.map((sm) => ({ scope: sm.scope, metrics: sm.metrics.filter((m) => this.keepsName(m.descriptor.name)) })),
      });
    }
    if (out.length > 0) this.next.consume(out);
  }

  keepsName(name: string): boolean {
    let keep = this.nameDecisions.get(name);
    if (keep === undefined) {
      keep = this.include?.matchesName(name) !== false && this.exclude?.matchesName(name) !== true;
      if (this.nameDecisions.size > 100_000) this.nameDecisions.clear();
      this.nameDecisions.set(name, keep);
    }
    return keep;
  }

  keepsResource(resource: Resource): boolean {
    let keep = this.resourceDecisions.get(resource);
    if (keep === undefined) {
      keep = this.include?.matchesResource(resource) !== false && this.exclude?.matchesResource(resource) !== true;
      this.resourceDecisions.set(resource, keep);
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

/**
 * The `resource` processor, as in the OTel Collector: inserts, updates, upserts or
 * deletes resource attributes (backend, model, mode, …) on every batch it sees.
 */
import { z } from 'zod';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ComponentContext, Consumer, Processor, ProcessorFactory } from '../../component.js';
import { attributeValue, componentConfig } from '../../config/schema-helpers.js';
import type { Attributes, Batch, ResourceBatch } from '../../model/batch.js';
import { getAttribute, setAttribute } from '../../model/attributes.js';

const action = z
  .strictObject({
    key: z.string().min(1),
    value: attributeValue.optional(),
    from_attribute: z.string().optional(),
    action: z.enum(['insert', 'update', 'upsert', 'delete']),
  })
  .refine((a) => a.action === 'delete' || a.value !== undefined || a.from_attribute !== undefined, {
    message: '`value` or `from_attribute` is required unless action is delete',
  });

export const resourceProcessorConfigSchema = componentConfig({
  attributes: z.array(action).min(1),
});

export type ResourceProcessorConfig = z.output<typeof resourceProcessorConfigSchema>;
type AttributeAction = ResourceProcessorConfig['attributes'][number];

/** Applies the actions in order to a copy of the attributes. */
export function applyAttributeActions(input: Attributes, actions: readonly AttributeAction[]): Attributes {
  const out: Attributes = { ...input }; // spread defines properties: an own `__proto__` is copied as one
  for (const a of actions) {
    const present = Object.hasOwn(out, a.key);
    if (a.action === 'delete') {
      delete out[a.key];
      continue;
    }
    const value = a.value !== undefined ? a.value : getAttribute(out, a.from_attribute!);
    if (value === undefined) continue;
    if (a.action === 'insert' && present) continue;
    if (a.action === 'update' && !present) continue;
    setAttribute(out, a.key, value);
  }
  return out;
}

export class ResourceProcessor implements Processor {
  // Receivers reuse a target's Resource across scrapes, so the rewrite is done once per target.
  private readonly rewritten = new WeakMap<Resource, Resource>();

  constructor(
    private readonly config: ResourceProcessorConfig,
    private readonly next: Consumer,
  ) {}

  consume(batch: Batch): void {
    this.next.consume(batch.map((rb) => this.rewrite(rb)));
  }

  private rewrite(rb: ResourceBatch): ResourceBatch {
    let resource = this.rewritten.get(rb.resource);
    if (resource === undefined) {
      resource = resourceFromAttributes(applyAttributeActions(rb.resource.attributes, this.config.attributes));
      this.rewritten.set(rb.resource, resource);
    }
    return { resource, scopeMetrics: rb.scopeMetrics };
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export const resourceProcessorFactory: ProcessorFactory<ResourceProcessorConfig> = {
  type: 'resource',
  configSchema: resourceProcessorConfigSchema,
  createProcessor: (config: ResourceProcessorConfig, _context: ComponentContext, next: Consumer) =>
    new ResourceProcessor(config, next),
};

/**
 * The `resource` processor, as in the OTel Collector: inserts, updates, upserts or
 * deletes resource attributes (backend, model, mode, …) on every batch it sees.
 */
import { z } from 'zod';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ComponentContext, Consumer, Processor, ProcessorFactory } from '../../component.js';
import { componentConfig } from '../../config/schema-helpers.js';
import type { Batch, ResourceBatch } from '../../model/batch.js';
import { applyAttributeActions, attributeAction } from '../attribute-actions.js';

export { applyAttributeActions };

export const resourceProcessorConfigSchema = componentConfig({
  attributes: z.array(attributeAction).min(1),
});

export type ResourceProcessorConfig = z.output<typeof resourceProcessorConfigSchema>;

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

/**
 * The `attributes` processor, in the OTel Collector's shape: the `resource`
 * processor's actions applied to every data point's attributes (a series'
 * labels) instead of the resource's. With `groupbyattrs` after it, it renames
 * a runner's model label (`ModelName`, `model_name`) to `model` before that
 * label becomes the resource's.
 *
 *   attributes/model:
 *     actions:
 *       - { key: model, from_attribute: ModelName, action: insert }
 *       - { key: ModelName, action: delete }
 */
import { z } from 'zod';
import type { ComponentContext, Consumer, Processor, ProcessorFactory } from '../../component.js';
import { componentConfig } from '../../config/schema-helpers.js';
import type { Attributes, Batch, Metric } from '../../model/batch.js';
import { applyAttributeActions, attributeAction } from '../attribute-actions.js';

export const attributesProcessorConfigSchema = componentConfig({
  actions: z.array(attributeAction).min(1).describe('Actions applied in order to every data point\'s attributes.'),
});

export type AttributesProcessorConfig = z.output<typeof attributesProcessorConfigSchema>;

export class AttributesProcessor implements Processor {
  // A receiver hands on the same attributes object for a series that did not change,
  // and the exporters cache each series' label text per object: rewrite once per
  // object, so an unchanged series stays one object all the way through.
  private readonly rewritten = new WeakMap<Attributes, Attributes>();

  constructor(
    private readonly config: AttributesProcessorConfig,
    private readonly next: Consumer,
  ) {}

  consume(batch: Batch): void {
    this.next.consume(
      batch.map((rb) => ({
        resource: rb.resource,
        scopeMetrics: rb.scopeMetrics.map((sm) => ({ scope: sm.scope, metrics: sm.metrics.map((m) => this.rewriteMetric(m)) })),
      })),
    );
  }

  private rewriteMetric(metric: Metric): Metric {
    const points = (metric.dataPoints as Array<{ attributes: Attributes }>).map((p) => {
      const attributes = this.rewrite(p.attributes);
      return attributes === p.attributes ? p : { ...p, attributes };
    });
    return { ...metric, dataPoints: points } as Metric;
  }

  private rewrite(input: Attributes): Attributes {
    let out = this.rewritten.get(input);
    if (out === undefined) {
      out = applyAttributeActions(input, this.config.actions);
      this.rewritten.set(input, out);
    }
    return out;
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export const attributesProcessorFactory: ProcessorFactory<AttributesProcessorConfig> = {
  type: 'attributes',
  configSchema: attributesProcessorConfigSchema,
  createProcessor: (config: AttributesProcessorConfig, _context: ComponentContext, next: Consumer) => new AttributesProcessor(config, next),
};

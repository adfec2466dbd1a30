/**
 * Components for service tests, registered beside the real ones: a processor
 * and an exporter that throw on purpose, and an exporter that records what it
 * gets. Instances are listed in `instances`, so a test can tell a kept component
 * from a rebuilt one.
 */
import { z } from 'zod';
import type { Batch } from '../../src/model/batch.js';
import type { ComponentContext, Consumer, Exporter, ExporterFactory, Processor, ProcessorFactory } from '../../src/component.js';
import type { ComponentRegistry } from '../../src/config/registry-types.js';
import { componentConfig } from '../../src/config/schema-helpers.js';
import { registry } from '../../src/registry.js';

const explodeConfig = componentConfig({ message: z.string().default('boom') });

/** Throws on every consume. */
export const explodeProcessorFactory: ProcessorFactory<z.output<typeof explodeConfig>> = {
  type: 'explode',
  configSchema: explodeConfig,
  createProcessor: (config, _context: ComponentContext, _next: Consumer): Processor => ({
    consume() {
      throw new Error(config.message);
    },
    async start() {},
    async shutdown() {},
  }),
};

export const explodeExporterFactory: ExporterFactory<z.output<typeof explodeConfig>> = {
  type: 'explode',
  configSchema: explodeConfig,
  createExporter: (config): Exporter => ({
    consume() {
      throw new Error(config.message);
    },
    async start() {},
    async shutdown() {},
  }),
};

/** Cannot even be built. */
export const brokenExporterFactory: ExporterFactory = {
  type: 'broken',
  configSchema: componentConfig({}),
  createExporter: () => {
    throw new Error('broken on purpose');
  },
};

export class CollectExporter implements Exporter {
  readonly batches: Batch[] = [];
  state: 'created' | 'started' | 'stopped' = 'created';
  constructor(readonly id: string) {}
  consume(batch: Batch): void {
    if (this.state === 'started') this.batches.push(batch);
  }
  async start(): Promise<void> {
    this.state = 'started';
  }
  async shutdown(): Promise<void> {
    this.state = 'stopped';
  }
}

/** Every CollectExporter made, in order. */
export const instances: CollectExporter[] = [];

export const collectExporterFactory: ExporterFactory = {
  type: 'collect',
  configSchema: componentConfig({ note: z.string().optional() }),
  createExporter: (_config, context) => {
    const e = new CollectExporter(context.id);
    instances.push(e);
    return e;
  },
};

/** The real registry plus the test components. */
export const testRegistry: ComponentRegistry = {
  receivers: registry.receivers,
  processors: new Map([...registry.processors, [explodeProcessorFactory.type, explodeProcessorFactory]]),
  exporters: new Map<string, ExporterFactory>([
    ...registry.exporters,
    [explodeExporterFactory.type, explodeExporterFactory],
    [collectExporterFactory.type, collectExporterFactory],
    [brokenExporterFactory.type, brokenExporterFactory],
  ]),
  extensions: registry.extensions,
};

/** The live CollectExporter of that id (the last one made). */
export function collector(id: string): CollectExporter {
  const found = instances.filter((e) => e.id === id).at(-1);
  if (!found) throw new Error(`no collect exporter ${id}`);
  return found;
}

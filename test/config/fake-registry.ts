/** A small registry of fake components for the config tests; nothing here is ever started. */
import { z } from 'zod';
import type { ExporterFactory, ExtensionFactory, ProcessorFactory, ReceiverFactory } from '../../src/component.js';
import type { ComponentRegistry } from '../../src/config/registry-types.js';
import { attributeValue, componentConfig, duration } from '../../src/config/schema-helpers.js';

type AnyFactory = ReceiverFactory & ProcessorFactory & ExporterFactory & ExtensionFactory;

function fake(type: string, configSchema: z.ZodType, secretKeys?: string[]): AnyFactory {
  const never = (): never => {
    throw new Error('fake factory');
  };
  return { type, configSchema, secretKeys, createReceiver: never, createProcessor: never, createExporter: never, createExtension: never };
}

export const scrapeReceiver = fake(
  'prometheus',
  componentConfig({
    targets: z.array(z.strictObject({ url: z.string(), labels: z.record(z.string(), z.string()).optional() })).min(1),
    scrape_interval: duration().default(15_000),
    auth: z.strictObject({ basic: z.strictObject({ username: z.string(), password: z.string() }) }).optional(),
  }),
  ['auth.basic.password'],
);

export const hostReceiver = fake('hostmetrics', componentConfig({ collection_interval: duration().default(10_000) }));

export const filterProcessor = fake('filter', componentConfig({ include: z.array(z.string()).default([]) }));

export const resourceProcessor = fake(
  'resource',
  componentConfig({ attributes: z.record(z.string(), attributeValue).default({}) }),
);

export const promExporter = fake(
  'prometheus',
  componentConfig({
    endpoint: z.string().default('127.0.0.1:9464'),
    enabled: z.boolean().default(true),
    max_series: z.number().int().optional(),
  }),
);

export const otlpExporter = fake(
  'otlphttp',
  componentConfig({
    endpoint: z.string(),
    headers: z.record(z.string(), z.string()).default({}),
    auth: z.strictObject({ instance_id: z.string(), pass: z.string() }).optional(),
  }),
  ['auth.pass'],
);

export const healthExtension = fake('health_check', componentConfig({ endpoint: z.string().default('127.0.0.1:13133') }));

const byType = <F extends { type: string }>(...factories: F[]) => new Map(factories.map((f) => [f.type, f]));

export const fakeRegistry: ComponentRegistry = {
  receivers: byType(scrapeReceiver, hostReceiver),
  processors: byType(filterProcessor, resourceProcessor),
  exporters: byType(promExporter, otlpExporter),
  extensions: byType(healthExtension),
};

/**
 * Every component type this build knows, by kind. Adding a component is one line here.
 */
import type { ComponentRegistry } from './config/registry-types.js';
import type { ExporterFactory, ExtensionFactory, ProcessorFactory, ReceiverFactory } from './component.js';
import { prometheusReceiverFactory } from './receivers/prometheus/index.js';
import { ollamaReceiverFactory } from './receivers/ollama/index.js';
import { dmrReceiverFactory } from './receivers/docker_model_runner/index.js';
import { hostmetricsReceiverFactory } from './receivers/hostmetrics/index.js';
import { resourceProcessorFactory } from './processors/resource/index.js';
import { filterProcessorFactory } from './processors/filter/index.js';
import { prometheusExporterFactory } from './exporters/prometheus/index.js';
import { otlpHttpExporterFactory } from './exporters/otlphttp/index.js';
import { healthCheckExtensionFactory } from './extensions/health_check/index.js';

const byType = <F extends { type: string }>(...factories: F[]): ReadonlyMap<string, F> =>
  new Map(factories.map((f) => [f.type, f]));

export const registry: ComponentRegistry = {
  receivers: byType<ReceiverFactory>(prometheusReceiverFactory, ollamaReceiverFactory, dmrReceiverFactory, hostmetricsReceiverFactory),
  processors: byType<ProcessorFactory>(resourceProcessorFactory, filterProcessorFactory),
  exporters: byType<ExporterFactory>(prometheusExporterFactory, otlpHttpExporterFactory),
  extensions: byType<ExtensionFactory>(healthCheckExtensionFactory),
};

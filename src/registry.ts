/**
 * Every component type this build knows, by kind. Adding a component is one line here.
 */
import type { ComponentRegistry } from './config/registry-types.js';
import type { ExporterFactory, ExtensionFactory, ProcessorFactory, ReceiverFactory } from './component.js';
import { prometheusReceiverFactory } from './receivers/prometheus/index.js';
import { ollamaReceiverFactory } from './receivers/ollama/index.js';
import { dmrReceiverFactory } from './receivers/docker_model_runner/index.js';
import { hostmetricsReceiverFactory } from './receivers/hostmetrics/index.js';
import { localRunnersReceiverFactory } from './receivers/local_runners/index.js';
import { resourceProcessorFactory } from './processors/resource/index.js';
import { filterProcessorFactory } from './processors/filter/index.js';
import { attributesProcessorFactory } from './processors/attributes/index.js';
import { groupByAttrsProcessorFactory } from './processors/groupbyattrs/index.js';
import { prometheusExporterFactory } from './exporters/prometheus/index.js';
import { otlpHttpExporterFactory } from './exporters/otlphttp/index.js';
import { healthCheckExtensionFactory } from './extensions/health_check/index.js';

const byType = <F extends { type: string }>(...factories: F[]): ReadonlyMap<string, F> =>
  new Map(factories.map((f) => [f.type, f]));

export const registry: ComponentRegistry = {
  receivers: byType<ReceiverFactory>(
    prometheusReceiverFactory,
    ollamaReceiverFactory,
    dmrReceiverFactory,
    hostmetricsReceiverFactory,
    localRunnersReceiverFactory,
  ),
  processors: byType<ProcessorFactory>(
    resourceProcessorFactory,
    filterProcessorFactory,
    attributesProcessorFactory,
    groupByAttrsProcessorFactory,
  ),
  exporters: byType<ExporterFactory>(prometheusExporterFactory, otlpHttpExporterFactory),
  extensions: byType<ExtensionFactory>(healthCheckExtensionFactory),
};

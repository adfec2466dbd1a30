/** What the config loader needs to know about the registered components. */
import type { ExporterFactory, ExtensionFactory, ProcessorFactory, ReceiverFactory } from '../component.js';

export interface ComponentRegistry {
  receivers: ReadonlyMap<string, ReceiverFactory>;
  processors: ReadonlyMap<string, ProcessorFactory>;
  exporters: ReadonlyMap<string, ExporterFactory>;
  extensions: ReadonlyMap<string, ExtensionFactory>;
}

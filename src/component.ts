/**
 * The component model, after the OpenTelemetry Collector's: every receiver,
 * processor, exporter and extension is registered by a type name with a factory
 * that owns its config schema (zod, also the source of the JSON Schema) and its
 * defaults. Config ids are `type` or `type/name`.
 */
import type { z } from 'zod';
import type { Batch } from './model/batch.js';
import type { Logger } from './telemetry/logger.js';
import type { SelfMetrics } from './telemetry/self-metrics.js';

/** Anything that accepts batches: the next processor in a pipeline, or the pipeline's exporters. */
export interface Consumer {
  /** Synchronous by contract: a consumer copies or encodes what it keeps; it never blocks the caller. */
  consume(batch: Batch): void;
}

export interface Lifecycle {
  start(): Promise<void>;
  /** Stops timers and listeners and flushes what can be flushed. Must be safe to call twice. */
  shutdown(): Promise<void>;
}

export type Receiver = Lifecycle;
export type Processor = Consumer & Lifecycle;
export type Exporter = Consumer & Lifecycle;
export interface Extension extends Lifecycle {
  /** Called once every pipeline has started (e.g. a health check turns ready). */
  pipelinesReady?(): void;
  /** Called before the pipelines stop, on shutdown or reload. */
  pipelinesStopping?(): void;
}

export type ComponentKind = 'receiver' | 'processor' | 'exporter' | 'extension';

export interface ComponentContext {
  /** The config id, e.g. `prometheus/llamacpp`. */
  readonly id: string;
  readonly kind: ComponentKind;
  readonly logger: Logger;
  readonly selfMetrics: SelfMetrics;
}

interface FactoryBase<C> {
  readonly type: string;
  /** Validates the component's YAML body (undefined when empty) and fills defaults. */
  readonly configSchema: z.ZodType<C, any>;
  /** Config keys whose values are secrets: redacted in print-config and never logged. */
  readonly secretKeys?: readonly string[];
}

export interface ReceiverFactory<C = any> extends FactoryBase<C> {
  createReceiver(config: C, context: ComponentContext, next: Consumer): Receiver;
}

export interface ProcessorFactory<C = any> extends FactoryBase<C> {
  createProcessor(config: C, context: ComponentContext, next: Consumer): Processor;
}

export interface ExporterFactory<C = any> extends FactoryBase<C> {
  createExporter(config: C, context: ComponentContext): Exporter;
}

export interface ExtensionFactory<C = any> extends FactoryBase<C> {
  createExtension(config: C, context: ComponentContext): Extension;
}

/** Splits `type/name` into its parts; the name may itself contain `/`. */
export function parseComponentId(id: string): { type: string; name: string | undefined } {
  const slash = id.indexOf('/');
  return slash < 0 ? { type: id, name: undefined } : { type: id.slice(0, slash), name: id.slice(slash + 1) };
}

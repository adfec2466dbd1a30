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

/**
 * Why a component is being stopped: `final` when the collector exits (flush what
 * can be flushed), `reload` when a new graph from a reloaded config starts next
 * (stop promptly; data that survives on its own, e.g. on disk, need not be flushed).
 */
export type ShutdownReason = 'final' | 'reload';

export interface Lifecycle {
  start(): Promise<void>;
  /**
   * Stops timers and listeners and flushes what can be flushed. Must be safe to
   * call twice. `reason` defaults to `final`.
   */
  shutdown(reason?: ShutdownReason): Promise<void>;
}

export interface Receiver extends Lifecycle {
  /**
   * Whether a changed config can be applied in place by `reconfigure`, keeping
   * what did not change (e.g. the scrape loops of unchanged targets). No side
   * effects; only asked of a started receiver. Absent or false: the service
   * replaces the receiver.
   */
  canReconfigure?(config: unknown): boolean;
  /**
   * Applies a config `canReconfigure` accepted, once the new pipelines run.
   * Resources it no longer produces must be withdrawn (an empty snapshot each,
   * as for a target that went down).
   */
  reconfigure?(config: unknown): Promise<void>;
}

export type Processor = Consumer & Lifecycle;
export interface Exporter extends Consumer, Lifecycle {
  /**
   * Whether, on a reload, this exporter may finish its shutdown in the background
   * while the new graph starts: true only when nothing it still does (sending
   * what it holds, until its own shutdown timeout) conflicts with a new instance
   * of the same config (same files, same listening endpoint). The service then
   * does not wait for it before starting the new graph, but does before exiting.
   * Absent means false: the new graph starts once this shutdown has resolved.
   */
  drainsInBackground?(): boolean;
}
export interface Extension extends Lifecycle {
  /** Called once every pipeline has started (e.g. a health check turns ready). */
  pipelinesReady?(): void;
  /**
   * Called before the pipelines stop: `final` on shutdown, `reload` when a
   * reloaded config's pipelines follow (a health check stays ready through it).
   */
  pipelinesStopping?(reason: ShutdownReason): void;
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
  /**
   * Advice on a valid config (a setting that cannot take effect as written),
   * shown as warnings by validate and in the log by run; never a refusal.
   * `input` is the body as written, to tell a value set from a default.
   */
  readonly configWarnings?: (config: C, input: unknown) => readonly ConfigAdvice[];
}

/** A warning about one key of a component's body: `path` is relative to the body. */
export interface ConfigAdvice {
  readonly path: readonly (string | number)[];
  readonly message: string;
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

/**
 * The running collector: builds the graph, starts it in order, stops it in
 * reverse (receivers first, so exporters can flush what is left), and reloads
 * the config on SIGHUP (keeping the old graph if the new config is invalid, and
 * starting the old graph again if the new one fails to start).
 */
import type { Extension, Lifecycle } from '../component.js';
import { formatIssue } from '../config/errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ComponentRegistry } from '../config/registry-types.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { SelfMetrics } from '../telemetry/self-metrics.js';
import { registerProcessMetrics } from '../telemetry/process-metrics.js';
import { buildGraph, startOrder } from './graph.js';

/** A component could not start (a port in use, a socket path not writable): the user's to fix, no stack trace needed. */
export class StartupError extends Error {}

export interface ServiceOptions {
  readonly configFiles: string[];
  readonly registry: ComponentRegistry;
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides the config's log level (e.g. from LOG_LEVEL). */
  readonly logger?: Logger;
}

export class Service {
  private running: Array<[string, Lifecycle]> = [];
  private extensions: Extension[] = [];
  private logger: Logger;
  private metrics = new SelfMetrics();
  /** Start, shutdown and reload each run alone, in the order they were asked for (signals can arrive mid-reload). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: ServiceOptions,
    private loaded: LoadedConfig,
  ) {
    this.logger = options.logger ?? createLogger(loaded.config.service.telemetry.logs.level);
  }

  static load(options: ServiceOptions): Service {
    return new Service(options, loadConfig(options.configFiles, options.registry, options.env));
  }

  get config(): LoadedConfig {
    return this.loaded;
  }

  /** The running graph's own metrics. */
  get selfMetrics(): SelfMetrics {
    return this.metrics;
  }

  start(): Promise<void> {
    return this.serialized(() => this.startGraph(this.loaded));
  }

  shutdown(): Promise<void> {
    return this.serialized(() => this.stopGraph());
  }

  /**
   * Loads the config files again and swaps graphs. Resolves false, with the
   * reason logged, when the new config is invalid or fails to start; the
   * previous config is then running. Rejects only if that cannot be restored,
   * which leaves nothing running.
   */
  reload(): Promise<boolean> {
    return this.serialized(() => this.swap());
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async swap(): Promise<boolean> {
    let next: LoadedConfig;
    try {
      next = loadConfig(this.options.configFiles, this.options.registry, this.options.env);
    } catch (err) {
      this.logger.error('config reload failed; keeping the running config', { error: (err as Error).message });
      return false;
    }
    // The old graph must be down first: the new one may bind the same endpoints.
    await this.stopGraph();
    try {
      await this.startGraph(next);
    } catch (err) {
      this.logger.error('config reload failed; starting the previous config again', { error: err });
      try {
        await this.startGraph(this.loaded);
      } catch (restoreErr) {
        this.logger.error('previous config failed to start again; nothing is running', { error: restoreErr });
        throw restoreErr;
      }
      return false;
    }
    this.loaded = next;
    this.logger.info('config reloaded', { config: next.files });
    return true;
  }

  private async startGraph(loaded: LoadedConfig): Promise<void> {
    for (const w of loaded.warnings) this.logger.warn('config warning', { issue: formatIssue(w) });
    // Own metrics belong to a graph: a reload starts them afresh, as a restart would,
    // so the health series of targets that were removed go with their graph.
    this.metrics = new SelfMetrics();
    registerProcessMetrics(this.metrics);
    const graph = buildGraph(loaded.config, this.options.registry, this.logger, this.metrics);
    const order = startOrder(graph);
    for (const [name, component] of order) {
      try {
        await component.start();
      } catch (err) {
        this.logger.error('component failed to start', { component: name, error: err });
        this.running = order.slice(0, order.findIndex(([n]) => n === name));
        await this.stopGraph();
        throw new StartupError(`${name} failed to start: ${(err as Error).message}`);
      }
    }
    this.running = order;
    this.extensions = [...graph.extensions.values()];
    for (const e of this.extensions) e.pipelinesReady?.();
    const pipelines = Object.keys(loaded.config.service.pipelines);
    this.logger.info('collector started', { pipelines, config: loaded.files });
  }

  private async stopGraph(): Promise<void> {
    for (const e of this.extensions.splice(0)) e.pipelinesStopping?.();
    const order = this.running.splice(0).reverse();
    for (const [name, component] of order) {
      try {
        await component.shutdown();
      } catch (err) {
        this.logger.error('component failed to stop cleanly', { component: name, error: err });
      }
    }
  }
}

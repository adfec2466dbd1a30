/**
 * The running collector: builds the graph, starts it in order, stops it in
 * reverse (receivers first, so exporters can flush what is left), and reloads
 * the config on SIGHUP (keeping the old graph if the new config is invalid, and
 * starting the old graph again if the new one fails to start).
 *
 * A reload does not wait for exporters that say they may drain in the
 * background (e.g. a push exporter with a memory queue still delivering to a
 * slow backend): the new graph starts at once, so the pull endpoint is back
 * promptly, and those old exporters finish on their own shutdown timeout. The
 * final shutdown waits for them too.
 */
import type { Exporter, Extension, Lifecycle, ShutdownReason } from '../component.js';
import { formatIssue } from '../config/errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ComponentRegistry } from '../config/registry-types.js';
import { createLogger, type Logger, type LogLevel } from '../telemetry/logger.js';
import { HealthRegistry } from '../telemetry/health.js';
import { SelfMetrics } from '../telemetry/self-metrics.js';
import { registerProcessMetrics } from '../telemetry/process-metrics.js';
import { buildGraph, startOrder } from './graph.js';

/** A component could not start (a port in use, a socket path not writable): the user's to fix, no stack trace needed. */
export class StartupError extends Error {}

export interface ServiceOptions {
  readonly configFiles: string[];
  readonly registry: ComponentRegistry;
  readonly env?: NodeJS.ProcessEnv;
  /** A fixed logger (tests); otherwise one is made from the config's level at every (re)start. */
  readonly logger?: Logger;
  /** Overrides the config's log level (e.g. from LOG_LEVEL). */
  readonly logLevel?: LogLevel;
}

export class Service {
  private running: Array<[string, Lifecycle]> = [];
  private extensions: Extension[] = [];
  private logger: Logger;
  private metrics = new SelfMetrics();
  /** One for the service's life: components register on creation and leave on shutdown, across reloads. */
  private readonly health = new HealthRegistry();
  /** Start, shutdown and reload each run alone, in the order they were asked for (signals can arrive mid-reload). */
  private queue: Promise<unknown> = Promise.resolve();
  /** Exporters of replaced graphs still finishing their shutdown (never reject). */
  private readonly draining = new Set<Promise<void>>();

  constructor(
    private readonly options: ServiceOptions,
    private loaded: LoadedConfig,
  ) {
    this.logger = this.loggerFor(loaded);
  }

  /** The logger of the running config (its level follows a reload). */
  get log(): Logger {
    return this.logger;
  }

  private loggerFor(loaded: LoadedConfig): Logger {
    return this.options.logger ?? createLogger(this.options.logLevel ?? loaded.config.service.telemetry.logs.level);
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
    return this.serialized(async () => {
      await this.stopGraph('final');
      // Exporters of replaced graphs, each bounded by its own shutdown timeout.
      await Promise.all([...this.draining]);
    });
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
    // The old graph must be down first: the new one may bind the same endpoints
    // (exporters that drain in the background hold none).
    await this.stopGraph('reload');
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
    this.logger = this.loggerFor(loaded);
    for (const w of loaded.warnings) this.logger.warn('config warning', { issue: formatIssue(w) });
    // Own metrics belong to a graph: a reload starts them afresh, as a restart would,
    // so the health series of targets that were removed go with their graph.
    this.metrics = new SelfMetrics();
    registerProcessMetrics(this.metrics);
    const graph = buildGraph(loaded.config, this.options.registry, this.logger, this.metrics, this.health);
    const order = startOrder(graph);
    for (const [name, component] of order) {
      try {
        await component.start();
      } catch (err) {
        this.logger.error('component failed to start', { component: name, error: err });
        this.running = order.slice(0, order.findIndex(([n]) => n === name));
        await this.stopGraph('final');
        throw new StartupError(`${name} failed to start: ${(err as Error).message}`);
      }
    }
    this.running = order;
    this.extensions = [...graph.extensions.values()];
    for (const e of this.extensions) e.pipelinesReady?.();
    const pipelines = Object.keys(loaded.config.service.pipelines);
    this.logger.info('collector started', { pipelines, config: loaded.files });
  }

  /**
   * Stops the running graph: receivers and processors one by one (data sources
   * first), then the exporters concurrently (one slow backend does not hold up
   * the others), then the extensions. On a reload, exporters that drain in the
   * background are not waited for.
   */
  private async stopGraph(reason: ShutdownReason): Promise<void> {
    for (const e of this.extensions.splice(0)) e.pipelinesStopping?.();
    const order = this.running.splice(0).reverse();
    const isExporter = ([name]: [string, Lifecycle]) => name.startsWith('exporter/');
    const exporters = order.filter(isExporter);
    const first = exporters.length > 0 ? order.indexOf(exporters[0]!) : order.length;
    const last = exporters.length > 0 ? order.indexOf(exporters[exporters.length - 1]!) + 1 : order.length;
    for (const entry of order.slice(0, first)) await this.stopOne(entry, reason);
    const waited: Promise<void>[] = [];
    for (const entry of exporters) {
      const exporter = entry[1] as Exporter;
      const background = reason === 'reload' && safely(() => exporter.drainsInBackground?.() === true);
      const done = this.stopOne(entry, reason);
      if (background) {
        this.draining.add(done);
        void done.finally(() => this.draining.delete(done));
      } else {
        waited.push(done);
      }
    }
    await Promise.all(waited);
    for (const entry of order.slice(last)) if (!isExporter(entry)) await this.stopOne(entry, reason);
  }

  /** Shuts one component down; logs a failure rather than rejecting. */
  private async stopOne([name, component]: [string, Lifecycle], reason: ShutdownReason): Promise<void> {
    try {
      await component.shutdown(reason);
    } catch (err) {
      this.logger.error('component failed to stop cleanly', { component: name, error: err });
    }
  }
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

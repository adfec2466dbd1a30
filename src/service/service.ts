/**
 * The running collector: builds the graph, starts it in order, stops it in
 * reverse (receivers first, so exporters can flush what is left), and reloads
 * the config on SIGHUP (keeping the old graph if the new config is invalid).
 */
import type { Lifecycle } from '../component.js';
import { formatIssue } from '../config/errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ComponentRegistry } from '../config/registry-types.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { SelfMetrics } from '../telemetry/self-metrics.js';
import { buildGraph, startOrder } from './graph.js';

export interface ServiceOptions {
  readonly configFiles: string[];
  readonly registry: ComponentRegistry;
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides the config's log level (e.g. from LOG_LEVEL). */
  readonly logger?: Logger;
}

export class Service {
  private running: Array<[string, Lifecycle]> = [];
  private logger: Logger;
  readonly selfMetrics = new SelfMetrics();

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

  async start(): Promise<void> {
    for (const w of this.loaded.warnings) this.logger.warn('config warning', { issue: formatIssue(w) });
    const graph = buildGraph(this.loaded.config, this.options.registry, this.logger, this.selfMetrics);
    const order = startOrder(graph);
    for (const [name, component] of order) {
      try {
        await component.start();
      } catch (err) {
        this.logger.error('component failed to start', { component: name, error: err });
        this.running = order.slice(0, order.findIndex(([n]) => n === name));
        await this.shutdown();
        throw new Error(`${name} failed to start: ${(err as Error).message}`);
      }
    }
    this.running = order;
    const pipelines = Object.keys(this.loaded.config.service.pipelines);
    this.logger.info('collector started', { pipelines, config: this.loaded.files });
  }

  async shutdown(): Promise<void> {
    const order = this.running.splice(0).reverse();
    for (const [name, component] of order) {
      try {
        await component.shutdown();
      } catch (err) {
        this.logger.error('component failed to stop cleanly', { component: name, error: err });
      }
    }
  }

  /** Loads the config again; on error keeps running the old one and says why. */
  async reload(): Promise<boolean> {
    let next: LoadedConfig;
    try {
      next = loadConfig(this.options.configFiles, this.options.registry, this.options.env);
    } catch (err) {
      this.logger.error('config reload failed; keeping the running config', { error: (err as Error).message });
      return false;
    }
    await this.shutdown();
    this.loaded = next;
    await this.start();
    this.logger.info('config reloaded');
    return true;
  }
}

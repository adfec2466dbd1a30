/**
 * The running collector: builds the graph, starts it in order, stops it in
 * reverse (receivers first, so exporters can flush what is left), and reloads
 * the config on SIGHUP.
 *
 * A reload changes only what changed, as the Collector reuses its graph: a
 * receiver, exporter or extension whose validated config is the same keeps
 * running (its listener, queue, cached series and counter start times go on),
 * and its receivers are pointed at the new pipelines; only removed or changed
 * components are stopped, and only new or changed ones are created. Processors
 * are created afresh each time. An invalid config leaves everything as it was;
 * a config that fails to start is rolled back the same way (what it stopped is
 * started again from the previous config).
 *
 * A reload does not wait for replaced exporters that say they may drain in the
 * background (e.g. a push exporter with a memory queue still delivering to a
 * slow backend); the final shutdown waits for them too.
 *
 * The service's own metrics (and any other per-service registry) outlive the
 * graphs: each component writes through its own scope, disposed when the
 * component is removed, so its series go with it and the others stay.
 */
import type { ComponentContext, ComponentKind, Exporter, Extension, Lifecycle, Receiver, ShutdownReason } from '../component.js';
import { formatIssue } from '../config/errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ComponentRegistry } from '../config/registry-types.js';
import { createLogger, type Logger, type LogLevel, type RootLogger } from '../telemetry/logger.js';
import { SelfMetrics } from '../telemetry/self-metrics.js';
import { registerProcessMetrics } from '../telemetry/process-metrics.js';
import { buildGraph, componentKey, staleComponents, wantedComponents, startOrder, type Component, type Graph, type PipelineProcessor } from './graph.js';

/** A component could not start (a port in use, a socket path not writable): the user's to fix, no stack trace needed. */
export class StartupError extends Error {}

export interface ServiceOptions {
  readonly configFiles: string[];
  readonly registry: ComponentRegistry;
  readonly env?: NodeJS.ProcessEnv;
  /** A fixed logger (tests); otherwise one is made whose level follows the config. */
  readonly logger?: Logger;
  /** Overrides the config's log level (e.g. from LOG_LEVEL). */
  readonly logLevel?: LogLevel;
}

const EMPTY: Graph = { components: new Map(), processors: [], wiring: new Map(), replaying: { on: false } };

export class Service {
  private graph: Graph = EMPTY;
  private readonly logger: Logger;
  private readonly metrics = new SelfMetrics();
  /** Start, shutdown and reload each run alone, in the order they were asked for (signals can arrive mid-reload). */
  private queue: Promise<unknown> = Promise.resolve();
  /** Exporters of replaced graphs still finishing their shutdown (never reject). */
  private readonly draining = new Set<Promise<void>>();

  constructor(
    private readonly options: ServiceOptions,
    private loaded: LoadedConfig,
  ) {
    this.logger = options.logger ?? createLogger(this.levelOf(loaded));
    registerProcessMetrics(this.metrics);
  }

  /** The logger of the running config (its level follows a reload). */
  get log(): Logger {
    return this.logger;
  }

  private levelOf(loaded: LoadedConfig): LogLevel {
    return this.options.logLevel ?? loaded.config.service.telemetry.logs.level;
  }

  static load(options: ServiceOptions): Service {
    return new Service(options, loadConfig(options.configFiles, options.registry, options.env));
  }

  get config(): LoadedConfig {
    return this.loaded;
  }

  /** The service's own metrics, every component's included. */
  get selfMetrics(): SelfMetrics {
    return this.metrics;
  }

  start(): Promise<void> {
    return this.serialized(async () => {
      try {
        await this.apply(this.loaded);
      } catch (err) {
        await this.stopAll('final');
        throw err;
      }
      this.logger.info('collector started', { pipelines: Object.keys(this.loaded.config.service.pipelines), config: this.loaded.files });
    });
  }

  shutdown(): Promise<void> {
    return this.serialized(async () => {
      await this.stopAll('final');
      // Exporters of replaced graphs, each bounded by its own shutdown timeout.
      await Promise.all([...this.draining]);
    });
  }

  /**
   * Loads the config files again and applies what changed. Resolves false, with
   * the reason logged, when the new config is invalid or fails to start; the
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
    try {
      await this.apply(next);
    } catch (err) {
      this.logger.error('config reload failed; starting the previous config again', { error: err });
      try {
        await this.apply(this.loaded);
      } catch (restoreErr) {
        this.logger.error('previous config failed to start again; nothing is running', { error: restoreErr });
        await this.stopAll('final');
        throw restoreErr;
      }
      this.logger.info('collector started', { pipelines: Object.keys(this.loaded.config.service.pipelines), config: this.loaded.files });
      return false;
    }
    this.loaded = next;
    this.logger.info('config reloaded', { config: next.files });
    return true;
  }

  /** A component's context: a child logger and its own scope of the service's metrics. */
  private context(kind: ComponentKind, id: string): ComponentContext {
    return { id, kind, logger: this.logger.child({ component: `${kind}/${id}` }), selfMetrics: this.metrics.scope() };
  }

  /**
   * Brings the running graph to `loaded`: stops what it no longer runs as is,
   * builds and starts what is new, points kept receivers at the new pipelines,
   * then retires the old processors. On a start failure, what this call started
   * is stopped again and the error is thrown: kept components still run on the
   * old pipelines, and applying the previous config restores the rest.
   */
  private async apply(loaded: LoadedConfig): Promise<void> {
    if (!this.options.logger) (this.logger as RootLogger).setLevel(this.levelOf(loaded));
    for (const w of loaded.warnings) this.logger.warn('config warning', { issue: formatIssue(w) });
    const old = this.graph;
    const kept = new Map(old.components);
    const stale: Component[] = [];
    /** Changed receivers that take their new config in place, once the new pipelines run. */
    const inPlace: Component[] = [];
    const wanted = wantedComponents(loaded.config);
    for (const c of staleComponents(old.components, loaded.config)) {
      const config = c.kind === 'receiver' ? wanted.get(componentKey(c.kind, c.id))?.config : undefined;
      if (config !== undefined && safely(() => (c.instance as Receiver).canReconfigure?.(config) === true)) {
        const updated = { ...c, config };
        kept.set(componentKey(c.kind, c.id), updated);
        inPlace.push(updated);
      } else stale.push(c);
    }

    // Stopped first: a changed component may bind the same endpoint as its successor.
    await this.stopComponents(stale, 'reload');
    for (const c of stale) kept.delete(componentKey(c.kind, c.id));
    this.graph = { ...old, components: kept };

    const contexts: ComponentContext[] = [];
    const host = { registry: this.options.registry, context: (k: ComponentKind, id: string) => contexts[contexts.push(this.context(k, id)) - 1]! };
    let graph: Graph;
    try {
      graph = buildGraph(loaded.config, host, kept, old);
    } catch (err) {
      // A factory that throws: what was made before it never runs, and its own series go.
      for (const c of contexts) c.selfMetrics.dispose();
      throw new StartupError(`cannot build the pipelines: ${(err as Error).message}`);
    }
    const created = [...graph.components.values()].filter((c) => !kept.has(componentKey(c.kind, c.id)));
    const newProcessors = graph.processors.filter((p) => !old.processors.some((o) => o.context === p.context));
    const startedComponents: Component[] = [];
    const startedProcessors: PipelineProcessor[] = [];
    const attempt = async (name: string, step: () => Promise<void>) => {
      try {
        await step();
      } catch (err) {
        this.logger.error('component failed to start', { component: name, error: err });
        await this.stopComponents(startedComponents, 'reload');
        for (const p of startedProcessors) await this.stopOne([`processor/${p.id}@${p.pipeline}`, p.processor], 'reload');
        for (const c of created) c.context.selfMetrics.dispose();
        for (const p of newProcessors) p.context.selfMetrics.dispose();
        throw new StartupError(`${name} failed to start: ${(err as Error).message}`);
      }
    };
    // Kept receivers move to the new pipelines once those run, before new receivers start.
    let moved = false;
    const moveKept = async () => {
      moved = true;
      this.rewireKept(graph, kept);
      for (const r of inPlace) await attempt(componentKey(r.kind, r.id), () => (r.instance as Receiver).reconfigure!(r.config));
    };
    for (const item of startOrder(created, graph.processors)) {
      if (!moved && 'kind' in item && item.kind === 'receiver') await moveKept();
      if ('kind' in item) {
        await attempt(componentKey(item.kind, item.id), () => item.instance.start());
        startedComponents.push(item);
      } else {
        await attempt(`processor/${item.id}@${item.pipeline}`, () => item.processor.start());
        startedProcessors.push(item);
      }
    }
    if (!moved) await moveKept();
    this.graph = graph;

    // The old processors no longer receive anything.
    for (const p of old.processors) {
      await this.stopOne([`processor/${p.id}@${p.pipeline}`, p.processor], 'reload');
      if (!graph.processors.some((n) => n.context === p.context)) p.context.selfMetrics.dispose();
    }
    // Kept extensions saw the pipelines run throughout (a reload is no outage); new ones learn it now.
    for (const c of created) if (c.kind === 'extension') safely(() => (c.instance as Extension).pipelinesReady?.());
  }

  /** Points the receivers kept from the previous graph at the new pipelines. */
  private rewireKept(graph: Graph, kept: ReadonlyMap<string, Component>): void {
    graph.replaying.on = true;
    try {
      for (const c of kept.values()) {
        const wiring = c.kind === 'receiver' ? graph.wiring.get(c.id) : undefined;
        if (wiring && c.output) c.output.rewire(wiring.target, wiring.downstream);
      }
    } finally {
      graph.replaying.on = false;
    }
  }

  /**
   * Stops components: receivers one by one (data sources first; on a reload
   * their series are withdrawn from the exporters that stay), then the exporters
   * concurrently (one slow backend does not hold up the others), then the
   * extensions. On a reload, exporters that drain in the background are not
   * waited for. Each component's own metrics go with it.
   */
  private async stopComponents(components: readonly Component[], reason: ShutdownReason): Promise<void> {
    const of = (kind: Component['kind']) => components.filter((c) => c.kind === kind);
    for (const r of of('receiver').reverse()) {
      await this.stopOne([componentKey(r.kind, r.id), r.instance], reason);
      if (reason === 'reload') {
        r.output?.withdraw();
        r.context.selfMetrics.dispose();
      }
    }
    const waited: Promise<void>[] = [];
    for (const e of of('exporter')) {
      const exporter = e.instance as Exporter;
      const background = reason === 'reload' && safely(() => exporter.drainsInBackground?.() === true);
      const done = this.stopOne([componentKey(e.kind, e.id), e.instance], reason);
      // A draining exporter's late writes to its metrics go nowhere (its successor may have the same series).
      if (reason === 'reload') e.context.selfMetrics.dispose();
      if (background) {
        this.draining.add(done);
        void done.finally(() => this.draining.delete(done));
      } else {
        waited.push(done);
      }
    }
    await Promise.all(waited);
    for (const x of of('extension').reverse()) {
      await this.stopOne([componentKey(x.kind, x.id), x.instance], reason);
      if (reason === 'reload') x.context.selfMetrics.dispose();
    }
  }

  /** Stops the whole graph, data sources first. */
  private async stopAll(reason: ShutdownReason): Promise<void> {
    const graph = this.graph;
    this.graph = EMPTY;
    const all = [...graph.components.values()];
    for (const c of all) if (c.kind === 'extension') safely(() => (c.instance as Extension).pipelinesStopping?.(reason));
    const receivers = all.filter((c) => c.kind === 'receiver');
    await this.stopComponents(receivers, reason);
    for (const p of graph.processors) await this.stopOne([`processor/${p.id}@${p.pipeline}`, p.processor], reason);
    await this.stopComponents(all.filter((c) => c.kind !== 'receiver'), reason);
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

function safely(check: () => boolean | void): boolean {
  try {
    return check() === true;
  } catch {
    return false;
  }
}

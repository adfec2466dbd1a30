/**
 * Builds the running pipeline graph from a validated config, as the Collector
 * does: one instance per receiver and exporter id (shared by every pipeline that
 * names it), one processor instance per pipeline, fan-out where a receiver feeds
 * several pipelines or a pipeline feeds several exporters.
 *
 * A graph can be built from a previous one (a config reload): receivers,
 * exporters and extensions whose config is unchanged (deep equality of the
 * validated config) are kept as they are, running; only the others are created.
 * Processors are created afresh for every graph (they are per pipeline and hold
 * no state worth keeping), but keep their own metrics when unchanged.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ComponentContext, ComponentKind, Consumer, Exporter, Lifecycle, Processor } from '../component.js';
import { parseComponentId } from '../component.js';
import type { CollectorConfig } from '../config/load.js';
import type { ComponentRegistry } from '../config/registry-types.js';
import { ComponentFailures } from './component-failures.js';
import { fanout, guard } from './fanout.js';
import { ReceiverOutput } from './receiver-output.js';

/** A receiver, exporter or extension of a graph. */
export interface Component {
  readonly kind: Exclude<ComponentKind, 'processor'>;
  readonly id: string;
  readonly config: unknown;
  readonly instance: Lifecycle;
  /** The component's context: its logger and its scope of the service's own metrics. */
  readonly context: ComponentContext;
  /** Failures of its consume (exporters). */
  readonly failures: ComponentFailures;
  /** What the receiver feeds (receivers). */
  readonly output?: ReceiverOutput;
  /** Tells instances apart across graphs (a replaced exporter is another exporter). */
  readonly serial: number;
}

export interface PipelineProcessor {
  readonly pipeline: string;
  readonly id: string;
  readonly config: unknown;
  readonly processor: Processor;
  readonly context: ComponentContext;
  readonly failures: ComponentFailures;
}

export interface Graph {
  /** By `kind/id`. */
  readonly components: ReadonlyMap<string, Component>;
  readonly processors: readonly PipelineProcessor[];
  /** Per receiver id: the heads of the pipelines it feeds, and a description of them. */
  readonly wiring: ReadonlyMap<string, { readonly target: Consumer; readonly downstream: unknown }>;
  /**
   * Set while kept receivers replay their latest data into the new pipelines:
   * exporters created by this graph do not take it (like any new component they
   * start from the next scrape, and a push exporter does not push again what its
   * predecessor may have pushed); kept exporters do, so they never serve a gap.
   */
  readonly replaying: { on: boolean };
}

export interface GraphHost {
  readonly registry: ComponentRegistry;
  /** A new context for a component, with its own scope of the service's metrics. */
  context(kind: ComponentKind, id: string): ComponentContext;
}

export const componentKey = (kind: ComponentKind, id: string): string => `${kind}/${id}`;

/** The receivers, exporters and extensions a config runs, with their configs, by `kind/id`. */
export function wantedComponents(config: CollectorConfig): Map<string, { kind: Component['kind']; id: string; config: unknown }> {
  const wanted = new Map<string, { kind: Component['kind']; id: string; config: unknown }>();
  const add = (kind: Component['kind'], id: string, c: unknown) => wanted.set(componentKey(kind, id), { kind, id, config: c });
  for (const id of config.service.extensions) add('extension', id, config.extensions[id]);
  for (const pipeline of Object.values(config.service.pipelines)) {
    for (const id of pipeline.exporters) add('exporter', id, config.exporters[id]);
    for (const id of pipeline.receivers) add('receiver', id, config.receivers[id]);
  }
  return wanted;
}

/** Components of `running` that `config` does not run with the same config: to stop before building. */
export function staleComponents(running: ReadonlyMap<string, Component>, config: CollectorConfig): Component[] {
  const wanted = wantedComponents(config);
  return [...running.values()].filter((c) => {
    const w = wanted.get(componentKey(c.kind, c.id));
    return w === undefined || !isDeepStrictEqual(w.config, c.config);
  });
}

let serials = 0;

/**
 * Builds the graph for `config`, reusing the components of `kept` (which must
 * all be wanted by `config` with the same config) and the processors' contexts
 * of `previous`. Nothing is started.
 */
export function buildGraph(config: CollectorConfig, host: GraphHost, kept: ReadonlyMap<string, Component>, previous?: Graph): Graph {
  const factory = <F>(map: ReadonlyMap<string, F>, id: string): F => {
    const f = map.get(parseComponentId(id).type);
    if (!f) throw new Error(`unknown component type in ${id}`);
    return f;
  };
  const { registry } = host;
  const replaying = { on: false };
  const components = new Map<string, Component>();
  const component = (kind: Component['kind'], id: string, create: (context: ComponentContext) => Lifecycle, output?: ReceiverOutput) => {
    const key = componentKey(kind, id);
    const existing = components.get(key) ?? kept.get(key);
    if (existing) {
      components.set(key, existing);
      return existing;
    }
    const context = host.context(kind, id);
    const failures = new ComponentFailures({ component: key }, context.selfMetrics, context.logger);
    const made: Component = { kind, id, config: configOf(config, kind, id), instance: create(context), context, failures, output, serial: ++serials };
    components.set(key, made);
    return made;
  };

  for (const id of config.service.extensions) {
    component('extension', id, (ctx) => factory(registry.extensions, id).createExtension(config.extensions[id], ctx));
  }

  const processors: PipelineProcessor[] = [];
  const heads = new Map<string, Array<{ consumer: Consumer; failures: ComponentFailures | undefined; downstream: unknown }>>();
  for (const [pipelineName, pipeline] of Object.entries(config.service.pipelines)) {
    const sinks = pipeline.exporters.map((id) =>
      component('exporter', id, (ctx) => factory(registry.exporters, id).createExporter(config.exporters[id], ctx)),
    );
    let next: Consumer = fanout(sinks.map((e) => ({ consumer: kept.has(componentKey(e.kind, e.id)) ? (e.instance as Exporter) : unlessReplaying(e.instance as Exporter, replaying), failures: e.failures })));
    let failures: ComponentFailures | undefined;
    const built: PipelineProcessor[] = [];
    for (const id of [...pipeline.processors].reverse()) {
      if (failures) next = guard(next, failures);
      const processorConfig = config.processors[id];
      const reused = previous?.processors.find((p) => p.pipeline === pipelineName && p.id === id && isDeepStrictEqual(p.config, processorConfig));
      const context = reused?.context ?? host.context('processor', id);
      failures = reused?.failures ?? new ComponentFailures({ component: componentKey('processor', id), pipeline: pipelineName }, context.selfMetrics, context.logger);
      const processor = factory(registry.processors, id).createProcessor(processorConfig, context, next);
      built.unshift({ pipeline: pipelineName, id, config: processorConfig, processor, context, failures });
      next = processor;
    }
    processors.push(...built);
    const downstream = {
      pipeline: pipelineName,
      processors: built.map((p) => [p.id, p.config]),
      exporters: sinks.map((e) => [e.id, e.serial]),
    };
    // The first processor's failures guard the head; without processors the head is the guarded fan-out.
    for (const id of pipeline.receivers) {
      const list = heads.get(id) ?? [];
      list.push({ consumer: next, failures, downstream });
      heads.set(id, list);
    }
  }

  const wiring = new Map<string, { target: Consumer; downstream: unknown }>();
  for (const [id, list] of heads) {
    const target = fanout(list);
    const downstream = list.map((h) => h.downstream);
    wiring.set(id, { target, downstream });
    const output = kept.has(componentKey('receiver', id)) ? undefined : new ReceiverOutput(target, downstream);
    component('receiver', id, (ctx) => factory(registry.receivers, id).createReceiver(config.receivers[id], ctx, output!), output);
  }
  return { components, processors, wiring, replaying };
}

function unlessReplaying(consumer: Consumer, replaying: { on: boolean }): Consumer {
  return {
    consume(batch) {
      if (!replaying.on) consumer.consume(batch);
    },
  };
}

function configOf(config: CollectorConfig, kind: Component['kind'], id: string): unknown {
  return kind === 'receiver' ? config.receivers[id] : kind === 'exporter' ? config.exporters[id] : config.extensions[id];
}

/** Start order of what a graph created: extensions, exporters, processors, receivers (data sources last). */
export function startOrder(created: readonly Component[], processors: readonly PipelineProcessor[]): Array<Component | PipelineProcessor> {
  const of = (kind: Component['kind']) => created.filter((c) => c.kind === kind);
  return [...of('extension'), ...of('exporter'), ...processors, ...of('receiver')];
}

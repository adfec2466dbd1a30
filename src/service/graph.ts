/**
 * Builds the running pipeline graph from a validated config, as the Collector
 * does: one instance per receiver and exporter id (shared by every pipeline that
 * names it), one processor instance per pipeline, fan-out where a receiver feeds
 * several pipelines or a pipeline feeds several exporters.
 */
import type { ComponentContext, ComponentKind, Consumer, Exporter, Extension, Lifecycle, Processor, Receiver } from '../component.js';
import { parseComponentId } from '../component.js';
import type { CollectorConfig } from '../config/load.js';
import type { ComponentRegistry } from '../config/registry-types.js';
import type { Logger } from '../telemetry/logger.js';
import type { HealthRegistry } from '../telemetry/health.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { fanout } from './fanout.js';

export interface Graph {
  readonly extensions: ReadonlyMap<string, Extension>;
  readonly exporters: ReadonlyMap<string, Exporter>;
  readonly processors: ReadonlyArray<{ pipeline: string; id: string; processor: Processor }>;
  readonly receivers: ReadonlyMap<string, Receiver>;
}

export function buildGraph(
  config: CollectorConfig,
  registry: ComponentRegistry,
  logger: Logger,
  selfMetrics: SelfMetrics,
  health: HealthRegistry,
): Graph {
  const context = (kind: ComponentKind, id: string): ComponentContext => ({
    id,
    kind,
    logger: logger.child({ component: `${kind}/${id}` }),
    selfMetrics,
    health,
  });
  const factory = <F>(map: ReadonlyMap<string, F>, id: string): F => {
    const f = map.get(parseComponentId(id).type);
    if (!f) throw new Error(`unknown component type in ${id}`);
    return f;
  };

  const extensions = new Map<string, Extension>();
  for (const id of config.service.extensions) {
    extensions.set(id, (factory(registry.extensions, id) as any).createExtension(config.extensions[id], context('extension', id)));
  }

  const exporters = new Map<string, Exporter>();
  const pipelineHeads = new Map<string, Consumer[]>();
  const processors: Array<{ pipeline: string; id: string; processor: Processor }> = [];

  for (const [pipelineName, pipeline] of Object.entries(config.service.pipelines)) {
    const sinks = pipeline.exporters.map((id) => {
      let e = exporters.get(id);
      if (!e) {
        e = factory(registry.exporters, id).createExporter(config.exporters[id], context('exporter', id));
        exporters.set(id, e);
      }
      return e;
    });
    let head: Consumer = fanout(sinks, logger);
    for (const id of [...pipeline.processors].reverse()) {
      const p = factory(registry.processors, id).createProcessor(config.processors[id], context('processor', id), head);
      processors.unshift({ pipeline: pipelineName, id, processor: p });
      head = p;
    }
    for (const id of pipeline.receivers) {
      const heads = pipelineHeads.get(id) ?? [];
      heads.push(head);
      pipelineHeads.set(id, heads);
    }
  }

  const receivers = new Map<string, Receiver>();
  for (const [id, heads] of pipelineHeads) {
    receivers.set(id, factory(registry.receivers, id).createReceiver(config.receivers[id], context('receiver', id), fanout(heads, logger)));
  }
  return { extensions, exporters, processors, receivers };
}

/** Start order: extensions, exporters, processors, receivers (data sources last). */
export function startOrder(g: Graph): Array<[string, Lifecycle]> {
  return [
    ...[...g.extensions].map(([id, c]) => [`extension/${id}`, c] as [string, Lifecycle]),
    ...[...g.exporters].map(([id, c]) => [`exporter/${id}`, c] as [string, Lifecycle]),
    ...g.processors.map((p) => [`processor/${p.id}@${p.pipeline}`, p.processor] as [string, Lifecycle]),
    ...[...g.receivers].map(([id, c]) => [`receiver/${id}`, c] as [string, Lifecycle]),
  ];
}

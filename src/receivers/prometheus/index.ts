/**
 * The `prometheus` receiver: scrapes runners' exposition pages (llama-server
 * `--metrics`, Docker Model Runner, vLLM, TorchServe :8082, …) over HTTP or a Unix
 * socket, one resource per target. Targets are configured (`targets`) or
 * discovered (`file_sd_configs`, `socket_sd_configs`); TargetSet keeps the
 * scrapers in step with the union of both.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Agent } from 'undici';
import type { ComponentContext, Consumer, Receiver, ReceiverFactory } from '../../component.js';
import { DiscoveryTelemetry } from '../../discovery/telemetry.js';
import { prometheusReceiverConfigSchema, type PrometheusReceiverConfig } from './config.js';
import { createDispatcher } from './fetch.js';
import { createDiscoverers } from './discoverers.js';
import { resolveTarget } from './target.js';
import { TargetScraper } from './target-scraper.js';
import { TargetSet, type RunningTarget, type ScrapeTarget } from './target-set.js';

export class PrometheusReceiver implements Receiver {
  private readonly targets: TargetSet;
  private readonly tcpAgent: Agent;

  constructor(config: PrometheusReceiverConfig, context: ComponentContext, next: Consumer) {
    const timeoutMs = Math.min(config.scrape_timeout, config.scrape_interval);
    const tcpAgent = createDispatcher(undefined, timeoutMs);
    this.tcpAgent = tcpAgent;
    const create = (target: ScrapeTarget): RunningTarget => {
      const { address, attributes } = target;
      const socketAgent = address.socketPath ? createDispatcher(address.socketPath, timeoutMs) : undefined;
      const resource = resourceFromAttributes({
        'service.name': context.id,
        'service.instance.id': address.instance,
        'server.address': address.instance,
        ...attributes,
      });
      const healthLabels = { job: context.id, instance: address.instance, ...attributes };
      const scraper = new TargetScraper({
        address,
        resource,
        healthLabels,
        dispatcher: socketAgent ?? tcpAgent,
        intervalMs: config.scrape_interval,
        timeoutMs,
        bodyLimit: config.body_size_limit,
        sampleLimit: config.sample_limit,
        headers: address.authorization ? { authorization: address.authorization, ...config.headers } : config.headers,
        next,
        logger: context.logger,
        selfMetrics: context.selfMetrics,
      });
      return { scraper, resource, healthLabels, close: async () => void (await socketAgent?.close().catch(() => undefined)) };
    };
    const staticTargets = config.targets.map((t) => ({
      address: resolveTarget(t, config.metrics_path),
      attributes: Object.fromEntries(Object.entries(t.attributes).map(([k, v]) => [k, String(v)])),
    }));
    const telemetry = new DiscoveryTelemetry(context.id, context.logger, context.selfMetrics);
    this.targets = new TargetSet({
      staticTargets,
      discoverers: createDiscoverers(config, telemetry),
      metricsPath: config.metrics_path,
      create,
      next,
      logger: context.logger,
      selfMetrics: context.selfMetrics,
      telemetry,
    });
  }

  /** The scrapers of the targets currently scraped, configured ones first. */
  get scrapers(): TargetScraper[] {
    return this.targets.scrapers;
  }

  async start(): Promise<void> {
    this.targets.start();
  }

  async shutdown(): Promise<void> {
    await this.targets.stop();
    await this.tcpAgent.close().catch(() => undefined);
  }
}

export const prometheusReceiverFactory: ReceiverFactory<PrometheusReceiverConfig> = {
  type: 'prometheus',
  configSchema: prometheusReceiverConfigSchema,
  secretKeys: ['headers'],
  createReceiver: (config, context, next) => new PrometheusReceiver(config, context, next),
};

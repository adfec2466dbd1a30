/**
 * The `prometheus` receiver: scrapes runners' exposition pages (llama-server
 * `--metrics`, Docker Model Runner, vLLM, TorchServe :8082, …) over HTTP or a Unix
 * socket, one resource per target.
 */
import type { Agent } from 'undici';
import type { ComponentContext, Consumer, Receiver, ReceiverFactory } from '../../component.js';
import { prometheusReceiverConfigSchema, type PrometheusReceiverConfig } from './config.js';
import { createDispatcher } from './fetch.js';
import { resolveTarget } from './target.js';
import { TargetScraper } from './target-scraper.js';
import { TargetIdentity, withoutEmptyIdentity } from './identity.js';

export class PrometheusReceiver implements Receiver {
  readonly scrapers: TargetScraper[] = [];
  private readonly agents: Agent[] = [];

  constructor(config: PrometheusReceiverConfig, context: ComponentContext, next: Consumer) {
    const timeoutMs = Math.min(config.scrape_timeout, config.scrape_interval);
    const tcpAgent = createDispatcher(undefined, timeoutMs);
    this.agents.push(tcpAgent);
    for (const target of config.targets) {
      const address = resolveTarget(target, config.metrics_path);
      const dispatcher = address.socketPath ? createDispatcher(address.socketPath, timeoutMs) : tcpAgent;
      if (dispatcher !== tcpAgent) this.agents.push(dispatcher);
      const attributes = withoutEmptyIdentity(Object.fromEntries(Object.entries(target.attributes).map(([k, v]) => [k, String(v)])));
      const headers = address.authorization ? { authorization: address.authorization, ...config.headers } : config.headers;
      const identity = new TargetIdentity({
        address,
        runner: target.runner,
        attributes: { 'service.name': context.id, 'service.instance.id': address.instance, 'server.address': address.instance, ...attributes },
        dispatcher,
        timeoutMs,
        headers,
        logger: context.logger,
      });
      this.scrapers.push(
        new TargetScraper({
          address,
          identity,
          healthLabels: { job: context.id, instance: address.instance, ...attributes },
          dispatcher,
          intervalMs: config.scrape_interval,
          timeoutMs,
          bodyLimit: config.body_size_limit,
          sampleLimit: config.sample_limit,
          headers,
          next,
          logger: context.logger,
          selfMetrics: context.selfMetrics,
        }),
      );
    }
  }

  async start(): Promise<void> {
    for (const s of this.scrapers) s.start();
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.scrapers.map((s) => s.stop()));
    await Promise.all(this.agents.splice(0).map((a) => a.close().catch(() => undefined)));
  }
}

export const prometheusReceiverFactory: ReceiverFactory<PrometheusReceiverConfig> = {
  type: 'prometheus',
  configSchema: prometheusReceiverConfigSchema,
  secretKeys: ['headers'],
  createReceiver: (config, context, next) => new PrometheusReceiver(config, context, next),
};

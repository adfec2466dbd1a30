/**
 * The `docker_model_runner` receiver: Docker Model Runner's running runners
 * (`/engines/ps`) as state series, one resource per runner, and its aggregated
 * `/metrics` page verbatim, from a model runner found as its own CLI finds it.
 */
import type { Agent } from 'undici';
import type { ComponentContext, Consumer, Receiver, ReceiverFactory } from '../../component.js';
import type { TargetReporter } from '../../telemetry/health.js';
import { targetReporter } from '../target-health.js';
import { createDispatcher } from '../prometheus/fetch.js';
import { dmrReceiverConfigSchema, type DmrReceiverConfig } from './config.js';
import { DmrScraper } from './scraper.js';
import { resolveDmrTarget } from './target.js';
import { requestHeaders } from '../../net/request-headers.js';

export class DmrReceiver implements Receiver {
  readonly scraper: DmrScraper;
  private readonly agent: Agent;
  private readonly reporter: TargetReporter;

  constructor(config: DmrReceiverConfig, context: ComponentContext, next: Consumer, env: NodeJS.ProcessEnv = process.env) {
    const timeoutMs = Math.min(config.scrape_timeout, config.scrape_interval);
    const address = resolveDmrTarget(config, env);
    this.agent = createDispatcher(address.socketPath, timeoutMs);
    const attributes = Object.fromEntries(Object.entries(config.attributes).map(([k, v]) => [k, String(v)]));
    // A configured Authorization header, in any case, wins over credentials in the URL.
    const headers = requestHeaders(config.headers, address.authorization);
    this.reporter = targetReporter(context, address, attributes, config.url, headers);
    this.scraper = new DmrScraper({
      address,
      receiverId: context.id,
      attributes,
      dispatcher: this.agent,
      intervalMs: config.scrape_interval,
      timeoutMs,
      bodyLimit: config.body_size_limit,
      metrics: config.metrics,
      direct: config.direct,
      headers,
      next,
      logger: context.logger,
      selfMetrics: context.selfMetrics,
      reporter: this.reporter,
    });
  }

  async start(): Promise<void> {
    this.scraper.start();
  }

  async shutdown(): Promise<void> {
    await this.scraper.stop();
    this.reporter.remove();
    await this.agent.close().catch(() => undefined);
  }
}

export const dmrReceiverFactory: ReceiverFactory<DmrReceiverConfig> = {
  type: 'docker_model_runner',
  configSchema: dmrReceiverConfigSchema,
  secretKeys: ['headers'],
  createReceiver: (config, context, next) => new DmrReceiver(config, context, next),
};

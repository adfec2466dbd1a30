/**
 * The `ollama` receiver: Ollama serves no Prometheus page, so its figures are read
 * from its JSON API (`/api/ps`, `/api/tags`, `/api/version`), one resource per
 * loaded model and one per server; an Ollama that does serve `/metrics` has that
 * page scraped too.
 */
import type { Agent } from 'undici';
import type { ComponentContext, Consumer, Receiver, ReceiverFactory } from '../../component.js';
import { requestHeaders } from '../../net/request-headers.js';
import type { TargetReporter } from '../../telemetry/health.js';
import { targetReporter } from '../target-health.js';
import { createDispatcher } from '../prometheus/fetch.js';
import { ollamaReceiverConfigSchema, type OllamaReceiverConfig } from './config.js';
import { OllamaScraper } from './scraper.js';
import { resolveOllamaTarget } from './target.js';

export class OllamaReceiver implements Receiver {
  readonly scrapers: OllamaScraper[] = [];
  private readonly agent: Agent;
  private readonly reporters: TargetReporter[] = [];

  constructor(config: OllamaReceiverConfig, context: ComponentContext, next: Consumer) {
    const timeoutMs = Math.min(config.scrape_timeout, config.scrape_interval);
    this.agent = createDispatcher(undefined, timeoutMs);
    for (const target of config.targets) {
      const address = resolveOllamaTarget(target.url);
      const attributes = Object.fromEntries(Object.entries(target.attributes).map(([k, v]) => [k, String(v)]));
      const sent = requestHeaders(config.headers, address.authorization);
      const reporter = targetReporter(context, address, { backend: 'ollama', ...attributes }, target.url, sent);
      this.reporters.push(reporter);
      this.scrapers.push(
        new OllamaScraper({
          address,
          receiverId: context.id,
          attributes,
          dispatcher: this.agent,
          intervalMs: config.scrape_interval,
          timeoutMs,
          bodyLimit: config.body_size_limit,
          metricsPath: config.metrics_path,
          headers: config.headers,
          next,
          logger: context.logger,
          selfMetrics: context.selfMetrics,
          reporter,
        }),
      );
    }
  }

  async start(): Promise<void> {
    for (const s of this.scrapers) s.start();
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.scrapers.map((s) => s.stop()));
    for (const r of this.reporters) r.remove();
    await this.agent.close().catch(() => undefined);
  }
}

export const ollamaReceiverFactory: ReceiverFactory<OllamaReceiverConfig> = {
  type: 'ollama',
  configSchema: ollamaReceiverConfigSchema,
  secretKeys: ['headers'],
  createReceiver: (config, context, next) => new OllamaReceiver(config, context, next),
};

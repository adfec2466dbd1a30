/**
 * The `prometheus` receiver: scrapes runners' exposition pages (llama-server
 * `--metrics`, Docker Model Runner, vLLM, TorchServe :8082, …) over HTTP or a Unix
 * socket, one resource per target.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Agent } from 'undici';
import type { ComponentContext, ConfigAdvice, Consumer, Receiver, ReceiverFactory } from '../../component.js';
import { formatDuration } from '../../config/duration.js';
import { prometheusReceiverConfigSchema, type PrometheusReceiverConfig } from './config.js';
import { createDispatcher } from './fetch.js';
import { requestHeaders } from '../../net/request-headers.js';
import { resolveTarget } from './target.js';
import { TargetScraper } from './target-scraper.js';

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
      const attributes = Object.fromEntries(Object.entries(target.attributes).map(([k, v]) => [k, String(v)]));
      const resource = resourceFromAttributes({
        'service.name': context.id,
        'service.instance.id': address.instance,
        'server.address': address.instance,
        ...attributes,
      });
      this.scrapers.push(
        new TargetScraper({
          address,
          resource,
          healthLabels: { job: context.id, instance: address.instance, ...attributes },
          dispatcher,
          intervalMs: config.scrape_interval,
          timeoutMs,
          bodyLimit: config.body_size_limit,
          sampleLimit: config.sample_limit,
          // A configured Authorization header, in any case, wins over credentials in the URL.
          headers: requestHeaders(config.headers, address.authorization),
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
  configWarnings: timeoutAdvice,
  createReceiver: (config, context, next) => new PrometheusReceiver(config, context, next),
};

/** A scrape_timeout longer than scrape_interval cannot take effect: a scrape is cut at the interval. */
function timeoutAdvice(config: PrometheusReceiverConfig, input: unknown): ConfigAdvice[] {
  const written = typeof input === 'object' && input !== null && Object.hasOwn(input, 'scrape_timeout');
  if (!written || config.scrape_timeout <= config.scrape_interval) return [];
  const timeout = formatDuration(config.scrape_timeout);
  const interval = formatDuration(config.scrape_interval);
  return [
    {
      path: ['scrape_timeout'],
      message: `scrape_timeout (${timeout}) is longer than scrape_interval (${interval}): a scrape is given up after ${interval}; lower scrape_timeout or raise scrape_interval`,
    },
  ];
}

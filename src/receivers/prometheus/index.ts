/**
 * The `prometheus` receiver: scrapes runners' exposition pages (llama-server
 * `--metrics`, Docker Model Runner, vLLM, TorchServe :8082, …) over HTTP or a Unix
 * socket, one resource per target. Targets are configured (`targets`) or
 * discovered (`file_sd_configs`, `socket_sd_configs`); TargetSet keeps the
 * scrapers in step with the union of both.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Agent } from 'undici';
import type { ComponentContext, ConfigAdvice, Consumer, Receiver, ReceiverFactory } from '../../component.js';
import { formatDuration } from '../../config/duration.js';
import { DiscoveryTelemetry } from '../../discovery/telemetry.js';
import { requestHeaders } from '../../net/request-headers.js';
import { targetReporter } from '../target-health.js';
import { prometheusReceiverConfigSchema, type PrometheusReceiverConfig } from './config.js';
import { createDiscoverers } from './discoverers.js';
import { createDispatcher } from './fetch.js';
import { resolveTarget } from './target.js';
import { TargetScraper } from './target-scraper.js';
import { TargetSet, type RunningTarget, type ScrapeTarget } from './target-set.js';
import { TargetIdentity, withoutEmptyIdentity } from './identity.js';
import { LlamacppInsight } from '../../insight/llamacpp-insight.js';

export class PrometheusReceiver implements Receiver {
  private config: PrometheusReceiverConfig;
  private readonly targets: TargetSet;
  private readonly tcpAgent: Agent;
  private readonly timeoutMs: number;
  private started = false;

  constructor(
    config: PrometheusReceiverConfig,
    private readonly context: ComponentContext,
    private readonly next: Consumer,
  ) {
    this.config = config;
    this.timeoutMs = Math.min(config.scrape_timeout, config.scrape_interval);
    this.tcpAgent = createDispatcher(undefined, this.timeoutMs);
    const telemetry = new DiscoveryTelemetry(context.id, context.logger, context.selfMetrics, context.health);
    this.targets = new TargetSet({
      staticTargets: staticTargets(config),
      discoverers: createDiscoverers(config, telemetry),
      metricsPath: config.metrics_path,
      create: (target) => this.create(target),
      next,
      logger: context.logger,
      telemetry,
    });
  }

  /** The scrapers of the targets currently scraped, configured ones first. */
  get scrapers(): TargetScraper[] {
    return this.targets.scrapers;
  }

  /** Builds (does not start) one target's scraper, with its own health series and status entry. */
  private create(target: ScrapeTarget): RunningTarget {
    const { config, context } = this;
    const { address, runner = 'auto' } = target;
    const socketAgent = address.socketPath ? createDispatcher(address.socketPath, this.timeoutMs) : undefined;
    // An empty backend, model or mode means "ask the runner".
    const attributes = withoutEmptyIdentity(target.attributes);
    // A configured Authorization header, in any case, wins over credentials in the URL.
    // A discovered target's own headers (a router's API key) win over the receiver's.
    const headers = requestHeaders({ ...config.headers, ...target.headers }, address.authorization);
    const identity = new TargetIdentity({
      address,
      runner,
      attributes: { 'service.name': context.id, 'service.instance.id': address.instance, 'server.address': address.instance, ...attributes },
      dispatcher: socketAgent ?? this.tcpAgent,
      timeoutMs: this.timeoutMs,
      headers,
      logger: context.logger,
    });
    const healthLabels = { job: context.id, instance: address.instance, ...attributes };
    const metrics = context.selfMetrics.scope();
    const reporter = targetReporter(context, address, attributes, address.url, headers, target.discovery);
    const scraper = new TargetScraper({
      address,
      identity,
      healthLabels,
      dispatcher: socketAgent ?? this.tcpAgent,
      intervalMs: config.scrape_interval,
      timeoutMs: this.timeoutMs,
      bodyLimit: config.body_size_limit,
      sampleLimit: config.sample_limit,
      labelLimits: {
        labels: config.label_limit,
        nameLength: config.label_name_length_limit,
        valueLength: config.label_value_length_limit,
      },
      headers,
      next: this.next,
      logger: context.logger,
      selfMetrics: metrics,
      reporter,
      // Every target may turn out to be llama.cpp (identity, discovery): the insight checks its backend per scrape.
      augmenter: config.llamacpp_insight.enabled && runner !== 'none'
        ? new LlamacppInsight({
            address,
            dispatcher: socketAgent ?? this.tcpAgent,
            headers,
            timeoutMs: this.timeoutMs,
            config: config.llamacpp_insight,
            logger: context.logger,
            gpuMaxAgeMs: Math.min(Math.max(config.scrape_interval / 2, 1_000), 30_000),
          })
        : undefined,
    });
    const close = async () => {
      metrics.dispose();
      reporter.remove();
      await socketAgent?.close().catch(() => undefined);
    };
    return { scraper, healthLabels, close };
  }

  async start(): Promise<void> {
    this.started = true;
    this.targets.start();
  }

  /**
   * A reload that changes only the static target list, as Prometheus reloads a
   * scrape pool: targets whose config is unchanged keep scraping on their timer
   * with their cached series and start times; removed ones stop, and their series
   * are withdrawn from the pipelines (an empty snapshot) and their health series
   * dropped; new ones start. Any other change needs a new receiver.
   */
  canReconfigure(config: PrometheusReceiverConfig): boolean {
    return this.started && isDeepStrictEqual({ ...config, targets: [] }, { ...this.config, targets: [] });
  }

  async reconfigure(config: PrometheusReceiverConfig): Promise<void> {
    if (!this.canReconfigure(config)) throw new Error('only the targets of a started receiver can change in place');
    this.config = config;
    this.targets.setStaticTargets(staticTargets(config));
  }

  async shutdown(): Promise<void> {
    await this.targets.stop();
    await this.tcpAgent.close().catch(() => undefined);
  }
}

function staticTargets(config: PrometheusReceiverConfig): ScrapeTarget[] {
  return config.targets.map((t) => ({
    address: resolveTarget(t, config.metrics_path),
    attributes: Object.fromEntries(Object.entries(t.attributes).map(([k, v]) => [k, String(v)])),
    runner: t.runner,
  }));
}

export const prometheusReceiverFactory: ReceiverFactory<PrometheusReceiverConfig> = {
  type: 'prometheus',
  configSchema: prometheusReceiverConfigSchema,
  secretKeys: ['headers', 'llamacpp_router_sd_configs.headers'],
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

/**
 * The `prometheus` receiver: scrapes runners' exposition pages (llama-server
 * `--metrics`, Docker Model Runner, vLLM, TorchServe :8082, …) over HTTP or a Unix
 * socket, one resource per target.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Agent } from 'undici';
import type { ComponentContext, ConfigAdvice, Consumer, Receiver, ReceiverFactory } from '../../component.js';
import { formatDuration } from '../../config/duration.js';
import { prometheusReceiverConfigSchema, type PrometheusReceiverConfig, type TargetConfig } from './config.js';
import { createDispatcher } from './fetch.js';
import { requestHeaders } from '../../net/request-headers.js';
import { resolveTarget } from './target.js';
import { TargetScraper } from './target-scraper.js';
import { TargetIdentity, withoutEmptyIdentity } from './identity.js';
import type { SelfMetrics } from '../../telemetry/self-metrics.js';

interface Scraped {
  readonly target: TargetConfig;
  readonly scraper: TargetScraper;
  /** The target's own health series, removed with it. */
  readonly metrics: SelfMetrics;
  /** Its Unix-socket dispatcher (TCP targets share the receiver's). */
  readonly agent: Agent | undefined;
}

export class PrometheusReceiver implements Receiver {
  private config: PrometheusReceiverConfig;
  private targets: Scraped[] = [];
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
    this.targets = config.targets.map((t) => this.scraped(t));
  }

  get scrapers(): readonly TargetScraper[] {
    return this.targets.map((t) => t.scraper);
  }

  private scraped(target: TargetConfig): Scraped {
    const { config, context } = this;
    const address = resolveTarget(target, config.metrics_path);
    const agent = address.socketPath ? createDispatcher(address.socketPath, this.timeoutMs) : undefined;
    const attributes = withoutEmptyIdentity(Object.fromEntries(Object.entries(target.attributes).map(([k, v]) => [k, String(v)])));
    // A configured Authorization header, in any case, wins over credentials in the URL.
    const headers = requestHeaders(config.headers, address.authorization);
    const identity = new TargetIdentity({
      address,
      runner: target.runner,
      attributes: { 'service.name': context.id, 'service.instance.id': address.instance, 'server.address': address.instance, ...attributes },
      dispatcher: agent ?? this.tcpAgent,
      timeoutMs: this.timeoutMs,
      headers,
      logger: context.logger,
    });
    const metrics = context.selfMetrics.scope();
    const scraper = new TargetScraper({
      address,
      identity,
      healthLabels: { job: context.id, instance: address.instance, ...attributes },
      dispatcher: agent ?? this.tcpAgent,
      intervalMs: config.scrape_interval,
      timeoutMs: this.timeoutMs,
      bodyLimit: config.body_size_limit,
      sampleLimit: config.sample_limit,
      headers,
      next: this.next,
      logger: context.logger,
      selfMetrics: metrics,
    });
    return { target, scraper, metrics, agent };
  }

  async start(): Promise<void> {
    this.started = true;
    for (const t of this.targets) t.scraper.start();
  }

  /**
   * A reload that changes only the target list, as Prometheus reloads a scrape
   * pool: targets whose config is unchanged keep scraping on their timer with
   * their cached series and start times; removed ones stop, and their series are
   * withdrawn from the pipelines (an empty snapshot) and their health series
   * dropped; new ones start. Any other change needs a new receiver.
   */
  canReconfigure(config: PrometheusReceiverConfig): boolean {
    return this.started && isDeepStrictEqual({ ...config, targets: [] }, { ...this.config, targets: [] });
  }

  async reconfigure(config: PrometheusReceiverConfig): Promise<void> {
    if (!this.canReconfigure(config)) throw new Error('only the targets of a started receiver can change in place');
    this.config = config;
    const kept: Scraped[] = [];
    const removed = [...this.targets];
    for (const target of config.targets) {
      const i = removed.findIndex((t) => isDeepStrictEqual(t.target, target));
      kept.push(i >= 0 ? removed.splice(i, 1)[0]! : this.scraped(target));
    }
    await Promise.all(removed.map((t) => this.remove(t)));
    const added = kept.filter((t) => !this.targets.includes(t));
    this.targets = kept;
    for (const t of added) t.scraper.start();
  }

  private async remove(t: Scraped): Promise<void> {
    await t.scraper.stop();
    this.next.consume([{ resource: t.scraper.resource, scopeMetrics: [] }]);
    t.metrics.dispose();
    await t.agent?.close().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    const targets = this.targets.splice(0);
    await Promise.all(targets.map((t) => t.scraper.stop()));
    await Promise.all([this.tcpAgent, ...targets.map((t) => t.agent)].map((a) => a?.close().catch(() => undefined)));
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

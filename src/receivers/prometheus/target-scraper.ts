/**
 * Scrapes one target on its own timer. A failing target is marked down with the
 * reason, logged once when it goes down and once when it recovers, and never
 * affects the other targets of the receiver.
 */
import type { Dispatcher } from 'undici';
import type { Consumer } from '../../component.js';
import type { Attributes, Batch, ResourceBatch, ScopeBatch } from '../../model/batch.js';
import type { Logger } from '../../telemetry/logger.js';
import type { TargetReporter } from '../../telemetry/health.js';
import type { SelfMetrics } from '../../telemetry/self-metrics.js';
import { ScrapeError } from './fetch.js';
import { createPageClient, type PageClient } from './page-client.js';
import { asScrapeError, TargetHealth } from '../target-health.js';
import { ScrapeState } from './scrape-state.js';
import type { TargetAddress } from './target.js';
import type { TargetIdentity } from './identity.js';
import type { Resource } from '@opentelemetry/resources';
import type { LabelLimits } from '../../prometheus/parser.js';
import { Cadence } from '../cadence.js';

export interface TargetScraperOptions {
  readonly address: TargetAddress;
  /** The target's resource: configured attributes, plus the runner's identity where they leave it out. */
  readonly identity: TargetIdentity;
  /** Labels of the target's health series: job, instance and the target's attributes. */
  readonly healthLabels: Attributes;
  readonly dispatcher: Dispatcher;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly bodyLimit: number;
  readonly sampleLimit: number;
  readonly labelLimits: LabelLimits;
  readonly headers: Record<string, string>;
  readonly next: Consumer;
  readonly logger: Logger;
  readonly selfMetrics: SelfMetrics;
  /** Where the outcome of every scrape is reported, for the status page. */
  readonly reporter: TargetReporter;
  /** Figures derived per scrape (the llama.cpp insight), added to the batch as scopes of their own. */
  readonly augmenter?: ScrapeAugmenter;
}

/** Derives extra figures from each scrape; never throws, and its time is not the scrape's. */
export interface ScrapeAugmenter {
  augment(batch: ResourceBatch, scrapeTimeMs: number): Promise<ScopeBatch[]>;
  /** The scrape failed (HTTP status if any): scopes to serve while the target is down, usually none. */
  failed(resource: Resource, httpStatus: number | undefined, scrapeTimeMs: number): ScopeBatch[];
  stop(): Promise<void>;
}

const SPREAD_WINDOW_MS = 1000;

export class TargetScraper {
  private readonly state: ScrapeState;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private consumerFailed = false;
  private readonly health: TargetHealth;
  private readonly client: PageClient;

  constructor(private readonly opts: TargetScraperOptions) {
    this.client = createPageClient({
      url: opts.address.url,
      socketPath: opts.address.socketPath,
      dispatcher: opts.dispatcher,
      timeoutMs: opts.timeoutMs,
      bodyLimit: opts.bodyLimit,
      headers: opts.headers,
    });
    this.state = new ScrapeState(opts.identity.resource, opts.sampleLimit, opts.labelLimits);
    this.health = new TargetHealth({
      labels: opts.healthLabels,
      display: opts.address.display,
      logger: opts.logger,
      selfMetrics: opts.selfMetrics,
      reporter: opts.reporter,
      // Series go stale at once, as Prometheus marks a failed target's series stale.
      withdraw: () => {
        if (!this.stopped) this.handOn([{ resource: this.opts.identity.resource, scopeMetrics: [] }]);
      },
      pageSeries: true,
    });
  }

  get address(): TargetAddress {
    return this.opts.address;
  }

  /** The resource its series are handed on under (it follows the runner's identity). */
  get resource(): Resource {
    return this.opts.identity.resource;
  }

  /**
   * Starts the timer. Each target gets a fixed offset (from a hash of its
   * address), so many targets are not all scraped, parsed and converted in the
   * same instant. Unlike Prometheus, which spreads over the whole interval, the
   * offset stays within the first second: a user starting the collector sees
   * every target's state within a second, and the cadence keeps the spread, in
   * steps of 100 ms (cadence.ts: targets in one step share a timer turn).
   */
  start(): void {
    const cadence = new Cadence(this.opts.intervalMs, startOffset(this.opts.address.url + this.opts.address.instance, this.opts.intervalMs));
    this.schedule(cadence, cadence.firstDelay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.client.close();
    await this.opts.augmenter?.stop();
  }

  /** Runs one scrape now; resolves when it is done (used by tests and at start). */
  scrapeOnce(): Promise<void> {
    this.running = this.scrape().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(cadence: Cadence, delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // A slow scrape shortens the wait to the next slot; scrapes never overlap.
      void this.scrapeOnce().then(() => this.schedule(cadence, cadence.next()));
    }, delayMs);
    this.timer.unref?.();
  }

  private async scrape(): Promise<void> {
    const o = this.opts;
    const started = performance.now();
    const scrapeTime = Date.now();
    let identityMs = 0;
    let augmentMs = 0;
    this.health.started(scrapeTime);
    try {
      const page = await this.client.fetch();
      this.health.received(page.wireBytes);
      // In slices: a large page must not hold up the other targets or a /metrics answer.
      const result = await this.state.convertInSlices(page.body, page.contentType, scrapeTime);
      if (this.stopped) return;
      const resource = await this.identify(page.body, page.contentType, result.seriesAdded, (ms) => (identityMs = ms));
      if (this.stopped) return;
      const batch = resource === result.batch.resource ? result.batch : { ...result.batch, resource };
      const augmentStart = performance.now();
      const extra = (await o.augmenter?.augment(batch, scrapeTime)) ?? [];
      augmentMs = performance.now() - augmentStart;
      if (this.stopped) return;
      this.handOn([extra.length === 0 ? batch : { ...batch, scopeMetrics: [...batch.scopeMetrics, ...extra] }]);
      o.logger.debug('scraped', { target: o.address.display, samples: result.samples, series_added: result.seriesAdded, bytes: page.wireBytes });
      this.health.pageRead(result.seriesAdded, result.duplicates);
      this.health.markUp(result.samples);
    } catch (err) {
      this.health.markDown(asScrapeError(err));
      // It may come back serving another model.
      o.identity.forget();
      const extra = o.augmenter?.failed(o.identity.resource, err instanceof ScrapeError ? err.status : undefined, scrapeTime) ?? [];
      if (extra.length > 0 && !this.stopped) this.handOn([{ resource: o.identity.resource, scopeMetrics: extra }]);
    } finally {
      // Asking the runner who it is, or for more figures, is not part of the scrape.
      this.health.ended((performance.now() - started - identityMs - augmentMs) / 1000, this.stopped);
      this.health.seriesCached(this.state.seriesCount);
    }
  }

  /**
   * The resource for this scrape's batch, asking the runner who it is when due
   * (first success, back after down, …). A changed identity makes the old
   * resource's series stale at once, as a target going down does.
   */
  private async identify(body: string, contentType: string, seriesAdded: number, took: (ms: number) => void): Promise<TargetIdentity['resource']> {
    const identity = this.opts.identity;
    if (!identity.due(seriesAdded)) return identity.resource;
    const before = identity.resource;
    const started = performance.now();
    try {
      await identity.refresh(body, contentType);
    } catch (err) {
      // Identity is a side question: whatever goes wrong with it, the scrape stands.
      this.opts.logger.warn('runner identity failed', { target: this.opts.address.display, error: String((err as Error)?.message ?? err) });
    }
    took(performance.now() - started);
    if (identity.resource !== before && this.health.isUp && !this.stopped) this.handOn([{ resource: before, scopeMetrics: [] }]);
    return identity.resource;
  }

  /**
   * Hands data to the next consumer. Its failure is not the target's: it never
   * marks the target down nor escapes the scrape (the service guards every
   * consumer; this covers a receiver used on its own).
   */
  private handOn(batch: Batch): void {
    try {
      this.opts.next.consume(batch);
    } catch (err) {
      if (!this.consumerFailed) this.opts.logger.error('next consumer failed; data dropped', { target: this.opts.address.display, error: err });
      this.consumerFailed = true;
    }
  }
}

/** When a target's first scrape starts: a stable offset within the first second (or the interval, if shorter). */
export function startOffset(key: string, intervalMs: number): number {
  return scrapeOffset(key, Math.min(intervalMs, SPREAD_WINDOW_MS));
}

/** A stable offset in [0, window) for a target (FNV-1a of its address). */
export function scrapeOffset(identity: string, windowMs: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < identity.length; i++) {
    hash ^= identity.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash / 0x1_0000_0000) * windowMs;
}

/**
 * Scrapes one target on its own timer. A failing target is marked down with the
 * reason, logged once when it goes down and once when it recovers, and never
 * affects the other targets of the receiver.
 */
import type { Dispatcher } from 'undici';
import type { Consumer } from '../../component.js';
import type { Attributes, Batch } from '../../model/batch.js';
import type { Logger } from '../../telemetry/logger.js';
import type { TargetReporter } from '../../telemetry/health.js';
import type { SelfMetrics } from '../../telemetry/self-metrics.js';
import { fetchPage, ScrapeError } from './fetch.js';
import { ScrapeState } from './scrape-state.js';
import type { TargetAddress } from './target.js';
import type { TargetIdentity } from './identity.js';
import type { Resource } from '@opentelemetry/resources';
import type { LabelLimits } from '../../prometheus/parser.js';

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
}

const SPREAD_WINDOW_MS = 1000;

export class TargetScraper {
  private readonly state: ScrapeState;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** undefined until the first scrape, then whether the last one succeeded. */
  private healthy: boolean | undefined;
  private lastError = '';
  private consumerFailed = false;
  private readonly health;

  constructor(private readonly opts: TargetScraperOptions) {
    this.state = new ScrapeState(opts.identity.resource, opts.sampleLimit, opts.labelLimits);
    const m = opts.selfMetrics;
    this.health = {
      up: m.gauge('up', 'Whether the last scrape of the target succeeded (1) or failed (0).'),
      duration: m.gauge('scrape_duration_seconds', 'Duration of the last scrape of the target.', 's'),
      samples: m.gauge('scrape_samples_scraped', 'Samples in the last successful scrape of the target.'),
      added: m.gauge('scrape_series_added', 'Series seen for the first time in the last scrape of the target.'),
      duplicates: m.gauge('scrape_samples_duplicate', 'Samples skipped in the last scrape of the target: repeats of a series already on the page.'),
      series: m.gauge('runner_metrics_receiver_series', 'Series currently cached for the target.'),
      scrapes: m.counter('runner_metrics_receiver_scrapes_total', 'Scrapes attempted, per target.'),
      failures: m.counter('runner_metrics_receiver_scrape_failures_total', 'Failed scrapes, per target and reason.'),
      bytes: m.counter('runner_metrics_receiver_scraped_bytes_total', 'Bytes received from the target (as sent on the wire).', 'By'),
    };
    this.health.up.set(opts.healthLabels, 0);
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
   * every target's state within a second, and the cadence keeps the spread.
   */
  start(): void {
    const window = Math.min(this.opts.intervalMs, SPREAD_WINDOW_MS);
    this.schedule(scrapeOffset(this.opts.address.url + this.opts.address.instance, window));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Runs one scrape now; resolves when it is done (used by tests and at start). */
  scrapeOnce(): Promise<void> {
    this.running = this.scrape().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const startedAt = Date.now();
      void this.scrapeOnce().then(() => {
        // Keep the cadence steady: a slow scrape shortens the wait, never overlaps.
        const elapsed = Date.now() - startedAt;
        this.schedule(Math.max(0, this.opts.intervalMs - elapsed));
      });
    }, delayMs);
    this.timer.unref?.();
  }

  private async scrape(): Promise<void> {
    const o = this.opts;
    const started = performance.now();
    const scrapeTime = Date.now();
    let identityMs = 0;
    this.health.scrapes.add(o.healthLabels);
    let samples = 0;
    let failure: ScrapeError | undefined;
    try {
      const page = await fetchPage({
        url: o.address.url,
        dispatcher: o.dispatcher,
        timeoutMs: o.timeoutMs,
        bodyLimit: o.bodyLimit,
        headers: o.headers,
      });
      this.health.bytes.add(o.healthLabels, page.wireBytes);
      // In slices: a large page must not hold up the other targets or a /metrics answer.
      const result = await this.state.convertInSlices(page.body, page.contentType, scrapeTime);
      if (this.stopped) return;
      const resource = await this.identify(page.body, page.contentType, result.seriesAdded, (ms) => (identityMs = ms));
      if (this.stopped) return;
      this.handOn([resource === result.batch.resource ? result.batch : { ...result.batch, resource }]);
      samples = result.samples;
      this.health.samples.set(o.healthLabels, result.samples);
      o.logger.debug('scraped', { target: o.address.display, samples: result.samples, series_added: result.seriesAdded, bytes: page.wireBytes });
      this.health.added.set(o.healthLabels, result.seriesAdded);
      this.health.duplicates.set(o.healthLabels, result.duplicates);
      this.markUp();
    } catch (err) {
      const e = err instanceof ScrapeError ? err : new ScrapeError(String((err as Error)?.message ?? err), 'io');
      failure = e;
      this.health.failures.add({ ...o.healthLabels, reason: e.reason });
      this.markDown(e);
    } finally {
      // Asking the runner who it is is not part of the scrape.
      const seconds = (performance.now() - started - identityMs) / 1000;
      this.health.duration.set(o.healthLabels, seconds);
      if (!this.stopped) {
        if (failure) o.reporter.failed(scrapeTime, seconds, failure.reason, failure.message);
        else o.reporter.succeeded(scrapeTime, seconds, samples);
      }
      this.health.series.set(o.healthLabels, this.state.seriesCount);
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
    if (identity.resource !== before && this.healthy === true && !this.stopped) this.handOn([{ resource: before, scopeMetrics: [] }]);
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

  private markUp(): void {
    this.health.up.set(this.opts.healthLabels, 1);
    if (this.healthy === false) this.opts.logger.info('target is up again', { target: this.opts.address.display });
    this.healthy = true;
    this.lastError = '';
  }

  private markDown(err: ScrapeError): void {
    this.health.up.set(this.opts.healthLabels, 0);
    // As Prometheus marks a failed target's series stale, hand on an empty snapshot
    // once, so exporters stop serving its last values at once, not at expiry.
    if (this.healthy === true && !this.stopped) this.handOn([{ resource: this.opts.identity.resource, scopeMetrics: [] }]);
    // It may come back serving another model.
    this.opts.identity.forget();
    // Log on the transition only (and when the cause changes), not on every scrape.
    if (this.healthy !== false || this.lastError !== err.reason) {
      this.opts.logger.warn('target is down', { target: this.opts.address.display, reason: err.reason, error: err.message });
    }
    this.healthy = false;
    this.lastError = err.reason;
  }
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

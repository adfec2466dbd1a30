/**
 * The health of one scrape target, the same for every receiver that scrapes:
 * its self-metrics (`up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
 * scrapes, failures, bytes, …), its up/down transitions, logged once when it
 * goes down (or the cause changes) and once when it recovers, and its entry on
 * the status page (`/api/targets`).
 *
 * A scraper calls, per round: `started()`, `received()` per answer, then
 * `markUp()` or `markDown()`, and `ended()` once the round is over.
 */
import type { Attributes } from '../model/batch.js';
import type { Logger } from '../telemetry/logger.js';
import type { ComponentContext } from '../component.js';
import { secretsOf, type Discovery, type TargetReporter } from '../telemetry/health.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { RunnerAnswerError } from '../runners/identity.js';
import { ScrapeError } from './prometheus/fetch.js';

export interface TargetHealthOptions {
  /** Labels of the target's health series: job, instance and the target's attributes. */
  readonly labels: Attributes;
  /** The target as logs name it (no credentials). */
  readonly display: string;
  readonly logger: Logger;
  readonly selfMetrics: SelfMetrics;
  /** The target's entry on the status page. */
  readonly reporter: TargetReporter;
  /**
   * Withdraws the target's series (hands on an empty snapshot of each of its
   * resources), so exporters stop serving its last values at once, as
   * Prometheus marks a failed target's series stale. Called once when an up
   * target goes down.
   */
  readonly withdraw: () => void;
  /** Series of a scraped exposition page: added, duplicate and cached series per scrape. */
  readonly pageSeries?: boolean;
  /** Side requests whose failure leaves some series out without failing the scrape. */
  readonly sideRequests?: boolean;
}

/** Any failure as a ScrapeError: an answer not in the documented shape is `parse`, an unexpected failure `io`. */
export function asScrapeError(err: unknown): ScrapeError {
  if (err instanceof ScrapeError) return err;
  if (err instanceof RunnerAnswerError) return new ScrapeError(err.message, 'parse');
  return new ScrapeError(String((err as Error)?.message ?? err), 'io');
}

/**
 * The target's entry on the status page, under the receiver's id; `url` and
 * `headers` (as sent) are what its errors must never show.
 */
export function targetReporter(
  context: ComponentContext,
  address: { readonly instance: string; readonly display: string },
  attributes: Readonly<Record<string, string>>,
  url: string | undefined,
  headers: Readonly<Record<string, string>>,
  discovery?: Discovery,
): TargetReporter {
  return context.health.target({
    job: context.id,
    instance: address.instance,
    endpoint: address.display,
    attributes,
    secrets: secretsOf(url, headers),
    ...(discovery !== undefined && { discovery }),
  });
}

export class TargetHealth {
  private readonly labels: Attributes;
  /** undefined until the first scrape, then whether the last one succeeded. */
  private healthy: boolean | undefined;
  private lastReason = '';
  /** The cause last logged per failing side endpoint. */
  private readonly sideErrors = new Map<string, string>();
  private round: { startedAt: number; samples?: number; failure?: ScrapeError } | undefined;
  private readonly metrics;

  constructor(private readonly opts: TargetHealthOptions) {
    // Frozen: self-metrics then work out its series key once, not on every write.
    this.labels = Object.freeze({ ...opts.labels });
    const m = opts.selfMetrics;
    this.metrics = {
      up: m.gauge('up', 'Whether the last scrape of the target succeeded (1) or failed (0).'),
      duration: m.gauge('scrape_duration_seconds', 'Duration of the last scrape of the target.', 's'),
      samples: m.gauge('scrape_samples_scraped', 'Samples in the last successful scrape of the target.'),
      ...(opts.pageSeries && {
        added: m.gauge('scrape_series_added', 'Series seen for the first time in the last scrape of the target.'),
        duplicates: m.gauge('scrape_samples_duplicate', 'Samples skipped in the last scrape of the target: repeats of a series already on the page.'),
        series: m.gauge('runner_metrics_receiver_series', 'Series currently cached for the target.'),
      }),
      scrapes: m.counter('runner_metrics_receiver_scrapes_total', 'Scrapes attempted, per target.'),
      failures: m.counter('runner_metrics_receiver_scrape_failures_total', 'Failed scrapes, per target and reason.'),
      ...(opts.sideRequests && {
        sideFailures: m.counter(
          'runner_metrics_receiver_request_failures_total',
          'Failed requests to a target endpoint that leave some series out without failing the scrape, per endpoint and reason.',
        ),
      }),
      bytes: m.counter('runner_metrics_receiver_scraped_bytes_total', 'Bytes received from the target (as sent on the wire).', 'By'),
    };
    this.metrics.up.set(this.labels, 0);
  }

  /** Whether the last scrape succeeded. */
  get isUp(): boolean {
    return this.healthy === true;
  }

  /** A scrape round starts at `startedAt` (epoch ms). */
  started(startedAt: number): void {
    this.round = { startedAt };
    this.metrics.scrapes.add(this.labels);
  }

  /** An answer of `wireBytes` bytes came from the target. */
  received(wireBytes: number): void {
    this.metrics.bytes.add(this.labels, wireBytes);
  }

  /** What a scraped page added: new and duplicate series. */
  pageRead(seriesAdded: number, duplicates: number): void {
    this.metrics.added?.set(this.labels, seriesAdded);
    this.metrics.duplicates?.set(this.labels, duplicates);
  }

  /** Series currently cached for the target. */
  seriesCached(count: number): void {
    this.metrics.series?.set(this.labels, count);
  }

  markUp(samples: number): void {
    if (this.round) this.round.samples = samples;
    this.metrics.samples.set(this.labels, samples);
    this.metrics.up.set(this.labels, 1);
    if (this.healthy === false) this.opts.logger.info('target is up again', { target: this.opts.display });
    this.healthy = true;
    this.lastReason = '';
  }

  markDown(err: ScrapeError): void {
    if (this.round) this.round.failure = err;
    this.metrics.failures.add({ ...this.labels, reason: err.reason });
    this.metrics.up.set(this.labels, 0);
    if (this.healthy === true) this.opts.withdraw();
    // Side endpoints are asked afresh when the target is back.
    this.sideErrors.clear();
    // Log on the transition only (and when the cause changes), not on every scrape.
    if (this.healthy !== false || this.lastReason !== err.reason) {
      this.opts.logger.warn('target is down', { target: this.opts.display, reason: err.reason, error: err.message });
    }
    this.healthy = false;
    this.lastReason = err.reason;
  }

  /**
   * The round is over after `seconds`: its duration is recorded and its outcome
   * shown on the status page, unless the scraper stopped during it.
   */
  ended(seconds: number, stopped: boolean): void {
    this.metrics.duration.set(this.labels, seconds);
    const round = this.round;
    this.round = undefined;
    if (stopped || !round) return;
    if (round.failure) this.opts.reporter.failed(round.startedAt, seconds, round.failure.reason, round.failure.message);
    else if (round.samples !== undefined) this.opts.reporter.succeeded(round.startedAt, seconds, round.samples);
  }

  /** A side endpoint answered: logged when it had failed. */
  sideOk(endpoint: string): void {
    if (!this.sideErrors.has(endpoint)) return;
    this.sideErrors.delete(endpoint);
    this.opts.logger.info('target endpoint answers again', { target: this.opts.display, endpoint });
  }

  /** A side endpoint failed: counted every time, logged once per cause. */
  sideFailed(endpoint: string, err: unknown): void {
    const e = asScrapeError(err);
    this.metrics.sideFailures?.add({ ...this.labels, endpoint, reason: e.reason });
    if (this.sideErrors.get(endpoint) === e.reason) return;
    this.sideErrors.set(endpoint, e.reason);
    this.opts.logger.warn('target endpoint fails; its series are left out', { target: this.opts.display, endpoint, reason: e.reason, error: e.message });
  }
}

/**
 * What the scrapers of a runner's own HTTP API (ollama, docker_model_runner)
 * share: their options, a round on a steady timer that starts at a stable
 * offset, and the target's health, whose going down withdraws every resource
 * the runner served.
 */
import type { Dispatcher } from 'undici';
import type { Resource } from '@opentelemetry/resources';
import type { Consumer } from '../component.js';
import type { Attributes } from '../model/batch.js';
import type { Logger } from '../telemetry/logger.js';
import type { TargetReporter } from '../telemetry/health.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { Periodic } from './periodic.js';
import { startOffset } from './prometheus/target-scraper.js';
import { TargetHealth } from './target-health.js';

export interface RunnerApiAddress {
  /** Base URL every endpoint path is put after. */
  readonly base: string;
  /** `host:port` or the socket path. */
  readonly instance: string;
  /** The target as logs and the status page name it (no credentials). */
  readonly display: string;
}

export interface RunnerApiScraperOptions<A extends RunnerApiAddress> {
  readonly address: A;
  /** The receiver's config id: `service.name` and the health series' `job`. */
  readonly receiverId: string;
  /** Configured resource attributes. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly dispatcher: Dispatcher;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly bodyLimit: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly next: Consumer;
  readonly logger: Logger;
  readonly selfMetrics: SelfMetrics;
  /** Where the outcome of every round is reported, for the status page. */
  readonly reporter: TargetReporter;
}

export abstract class RunnerApiScraper<A extends RunnerApiAddress, O extends RunnerApiScraperOptions<A>> {
  protected readonly periodic: Periodic;
  protected readonly health: TargetHealth;

  /** `healthLabels`: job, instance and attributes of the health series; `offsetKey`: what the start offset is drawn from. */
  constructor(
    protected readonly opts: O,
    healthLabels: Attributes,
    private readonly offsetKey: string,
  ) {
    this.periodic = new Periodic(opts.intervalMs, () => this.scrape());
    this.health = new TargetHealth({
      labels: healthLabels,
      display: opts.address.display,
      logger: opts.logger,
      selfMetrics: opts.selfMetrics,
      reporter: opts.reporter,
      withdraw: () => {
        if (!this.periodic.isStopped) opts.next.consume(this.resources().map((resource) => ({ resource, scopeMetrics: [] })));
      },
      sideRequests: true,
    });
  }

  get address(): A {
    return this.opts.address;
  }

  /** Starts the timer, at a stable offset within the first second (as the prometheus receiver does). */
  start(): void {
    this.periodic.start(startOffset(this.offsetKey, this.opts.intervalMs));
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** Runs one round now; resolves when it is done (tests). */
  scrapeOnce(): Promise<void> {
    return this.periodic.runOnce();
  }

  /** One round: the target is marked up or down through `health`. */
  protected abstract scrape(): Promise<void>;

  /** Every resource the runner serves now: handed on empty when it goes down. */
  protected abstract resources(): Resource[];
}

/**
 * The typed health of the running components, for the status page and
 * `/api/targets`: each scrape target reports how its last scrape went, each
 * exporter its queue, last push and drops. One registry per service; a
 * component registers what it reports on when created and removes it when shut
 * down. Readers get plain, JSON-ready snapshots.
 *
 * Error texts are redacted on the way in: URLs lose their user info and query
 * values, and every secret the reporter was given (header values, passwords,
 * query values) is replaced wherever it appears, so nothing read from here can
 * leak a credential.
 */
import { MIN_SECRET_LENGTH, REDACTED, scrubSecrets, secretsOfHeaderValue, secretsOfUrl } from './secrets.js';

export type TargetState = 'unknown' | 'up' | 'down';

export interface TargetHealth {
  /** The receiver's id, also the `job` label. */
  readonly job: string;
  /** `host:port` or the socket path. */
  readonly instance: string;
  /** Where it is scraped, without credentials or query. */
  readonly endpoint: string;
  /** The target's configured attributes (backend, model, mode, …). */
  readonly attributes: Readonly<Record<string, string>>;
  /** `unknown` until the first scrape has ended. */
  readonly state: TargetState;
  /** Why the last scrape failed, as a short stable word (`connect`, `timeout`, `http_status`, …). */
  readonly reason?: string;
  /** The last scrape's error, redacted. */
  readonly lastError?: string;
  /** When the last scrape started (ISO 8601). */
  readonly lastScrape?: string;
  readonly lastScrapeDurationSeconds?: number;
  /** Samples read by the last successful scrape. */
  readonly samples?: number;
  /** How the target was found, when it was not configured: the mechanism and what it looked at. */
  readonly discovery?: Discovery;
}

/** How a target or a runner was found: `file_sd` and the file, `local` and the port, … */
export interface Discovery {
  readonly mechanism: string;
  readonly source: string;
}

/** A runner found by discovery (a llama.cpp router, a local port's runner), whatever targets it gives. */
export interface RunnerHealth {
  /** The receiver that found it. */
  readonly receiver: string;
  /** `llamacpp`, `llamacpp_router`, `ollama`, `docker_model_runner`, `vllm`, … */
  readonly kind: string;
  /** `host:port` or the socket path. */
  readonly address: string;
  readonly discovery: Discovery;
  /** When it was found (ISO 8601). */
  readonly since: string;
}

export interface PushResult {
  /** When the push attempt ended (ISO 8601). */
  readonly time: string;
  readonly ok: boolean;
  /** What went wrong, redacted; absent when ok. */
  readonly error?: string;
}

export interface ExporterHealth {
  readonly exporter: string;
  readonly type: string;
  /** Where it pushes or listens, without credentials or query. */
  readonly endpoint?: string;
  /** Requests waiting to be sent (the one in flight included), and how many may wait. */
  readonly queue?: { readonly size: number; readonly capacity: number };
  readonly lastPush?: PushResult;
  /** When a push was last accepted (ISO 8601). */
  readonly lastSuccess?: string;
  /** Data points given up on, by reason. */
  readonly dropped: Readonly<Record<string, number>>;
  /** Scrapes answered, for a pull exporter. */
  readonly scrapesServed?: number;
  readonly lastScrapeServed?: string;
}

export interface HealthSnapshot {
  readonly time: string;
  readonly targets: readonly TargetHealth[];
  readonly exporters: readonly ExporterHealth[];
  /** Runners found by discovery, by receiver then address. */
  readonly runners: readonly RunnerHealth[];
}

export interface TargetIdentity {
  readonly job: string;
  readonly instance: string;
  readonly endpoint: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Values that must never appear in an error shown (header values, passwords, query values). */
  readonly secrets?: readonly string[];
  readonly discovery?: Discovery;
}

export class TargetReporter {
  private state: TargetState = 'unknown';
  private reason: string | undefined;
  private lastError: string | undefined;
  private lastScrape: number | undefined;
  private duration: number | undefined;
  private samples: number | undefined;

  constructor(
    private readonly identity: TargetIdentity,
    private readonly unregister: (r: TargetReporter) => void,
    /** Made for a runner local discovery found. */
    private readonly local = false,
  ) {}

  /** A scrape that started at `startedAt` (epoch ms) succeeded. */
  succeeded(startedAt: number, durationSeconds: number, samples: number): void {
    this.state = 'up';
    this.reason = undefined;
    this.lastError = undefined;
    this.lastScrape = startedAt;
    this.duration = durationSeconds;
    this.samples = samples;
  }

  failed(startedAt: number, durationSeconds: number, reason: string, error: string): void {
    this.state = 'down';
    this.reason = reason;
    this.lastError = redactMessage(error, this.identity.secrets);
    this.lastScrape = startedAt;
    this.duration = durationSeconds;
    this.samples = undefined;
  }

  remove(): void {
    this.unregister(this);
  }

  /** The address it scrapes (`instance`), and whether local discovery made it (it then claims nothing). */
  get claim(): { readonly instance: string; readonly local: boolean } {
    return { instance: this.identity.instance, local: this.local };
  }

  snapshot(): TargetHealth {
    const { job, instance, endpoint, attributes, discovery } = this.identity;
    return {
      job,
      instance,
      endpoint,
      attributes: { ...attributes },
      ...(discovery !== undefined && { discovery: { ...discovery } }),
      state: this.state,
      ...(this.reason !== undefined && { reason: this.reason }),
      ...(this.lastError !== undefined && { lastError: this.lastError }),
      ...(this.lastScrape !== undefined && { lastScrape: new Date(this.lastScrape).toISOString() }),
      ...(this.duration !== undefined && { lastScrapeDurationSeconds: this.duration }),
      ...(this.samples !== undefined && { samples: this.samples }),
    };
  }
}

export interface ExporterIdentity {
  readonly exporter: string;
  readonly type: string;
  readonly endpoint?: string;
  readonly secrets?: readonly string[];
}

export class ExporterReporter {
  private queue: { size: number; capacity: number } | undefined;
  private lastPush: PushResult | undefined;
  private lastSuccess: number | undefined;
  private readonly dropped = new Map<string, number>();
  private served = 0;
  private lastServed: number | undefined;

  constructor(
    private readonly identity: ExporterIdentity,
    private readonly unregister: (r: ExporterReporter) => void,
  ) {}

  queueLength(size: number, capacity: number): void {
    this.queue = { size, capacity };
  }

  pushed(ok: boolean, error?: string): void {
    const now = Date.now();
    this.lastPush = ok
      ? { time: new Date(now).toISOString(), ok }
      : { time: new Date(now).toISOString(), ok, error: redactMessage(error ?? 'failed', this.identity.secrets) };
    if (ok) this.lastSuccess = now;
  }

  droppedPoints(reason: string, points: number): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + points);
  }

  scrapeServed(): void {
    this.served++;
    this.lastServed = Date.now();
  }

  remove(): void {
    this.unregister(this);
  }

  snapshot(): ExporterHealth {
    const { exporter, type, endpoint } = this.identity;
    return {
      exporter,
      type,
      ...(endpoint !== undefined && { endpoint }),
      ...(this.queue && { queue: { ...this.queue } }),
      ...(this.lastPush && { lastPush: { ...this.lastPush } }),
      ...(this.lastSuccess !== undefined && { lastSuccess: new Date(this.lastSuccess).toISOString() }),
      dropped: Object.fromEntries(this.dropped),
      ...(this.identity.type === 'prometheus' && { scrapesServed: this.served }),
      ...(this.lastServed !== undefined && { lastScrapeServed: new Date(this.lastServed).toISOString() }),
    };
  }
}

/** A discovered runner's entry; `remove()` when it is gone. */
export interface RunnerReporter {
  remove(): void;
}

/** What every view of one registry shares. */
class Entries {
  readonly targets = new Set<TargetReporter>();
  /** By exporter id: an exporter replaced on reload may still be draining; the newest one is shown. */
  readonly exporters = new Map<string, ExporterReporter>();
  readonly runners = new Set<{ readonly health: RunnerHealth; readonly local: boolean }>();
}

export class HealthRegistry {
  constructor(
    private readonly entries: Entries = new Entries(),
    /** Set on the view given to the components local discovery starts: what they report is found by it. */
    private readonly localDiscovery?: Discovery,
  ) {}

  /**
   * A view of this registry for the components local discovery starts for one
   * runner: their targets are shown as found by `discovery` (unless found by a
   * mechanism of their own) and claim no address.
   */
  foundLocally(discovery: Discovery): HealthRegistry {
    return new HealthRegistry(this.entries, discovery);
  }

  target(identity: TargetIdentity): TargetReporter {
    const reporter = new TargetReporter(
      this.localDiscovery && !identity.discovery ? { ...identity, discovery: this.localDiscovery } : identity,
      (r) => this.entries.targets.delete(r),
      this.localDiscovery !== undefined,
    );
    this.entries.targets.add(reporter);
    return reporter;
  }

  /** A runner found by discovery, listed on the status page until removed. */
  runner(entry: Omit<RunnerHealth, 'since'>): RunnerReporter {
    // Found within what local discovery found (a router's own discovery): shown as local discovery found it.
    const discovery = this.localDiscovery ?? entry.discovery;
    const item = { health: { ...entry, discovery, since: new Date().toISOString() }, local: this.localDiscovery !== undefined || entry.discovery.mechanism === 'local' };
    this.entries.runners.add(item);
    return { remove: () => void this.entries.runners.delete(item) };
  }

  /**
   * Addresses (`host:port` or socket paths) that a configured target, or a
   * runner found by a configured mechanism, already scrapes: local discovery
   * leaves them alone, so a runner is scraped once and the configured way wins.
   */
  claimedAddresses(): Set<string> {
    const out = new Set<string>();
    for (const t of this.entries.targets) if (!t.claim.local) out.add(t.claim.instance);
    for (const r of this.entries.runners) if (!r.local) out.add(r.health.address);
    return out;
  }

  exporter(identity: ExporterIdentity): ExporterReporter {
    const exporters = this.entries.exporters;
    const reporter = new ExporterReporter(identity, (r) => {
      if (exporters.get(identity.exporter) === r) exporters.delete(identity.exporter);
    });
    exporters.set(identity.exporter, reporter);
    return reporter;
  }

  /** Targets by job then instance, exporters by id, runners by receiver then address. */
  snapshot(now: number = Date.now()): HealthSnapshot {
    const targets = [...this.entries.targets].map((t) => t.snapshot());
    targets.sort((a, b) => compare(a.job, b.job) || compare(a.instance, b.instance));
    const exporters = [...this.entries.exporters.values()].map((e) => e.snapshot());
    exporters.sort((a, b) => compare(a.exporter, b.exporter));
    const runners = [...this.entries.runners].map((r) => ({ ...r.health, discovery: { ...r.health.discovery } }));
    runners.sort((a, b) => compare(a.receiver, b.receiver) || compare(a.address, b.address) || compare(a.kind, b.kind));
    return { time: new Date(now).toISOString(), targets, exporters, runners };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * An error text safe to show: the process-wide scrubber (every registered
 * secret, URL credentials and query values, credential shapes), plus this
 * component's own secrets, which may not have come from a config file.
 */
export function redactMessage(message: string, secrets: readonly string[] = []): string {
  let out = message;
  const own = [...new Set(secrets.flatMap((s) => [s, encodeURIComponent(s)]))].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  for (const secret of own) out = out.split(secret).join(REDACTED);
  return scrubSecrets(out);
}

/** The values of a target's URL and headers that an error must not show. */
export function secretsOf(url: string | undefined, headers: Readonly<Record<string, string>>): string[] {
  const secrets = Object.values(headers).flatMap(secretsOfHeaderValue);
  if (url) secrets.push(...secretsOfUrl(url));
  return secrets;
}

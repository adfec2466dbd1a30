/**
 * The scrape side of Prometheus' split: the set of targets a receiver scrapes is
 * the union of its static `targets` and every discoverer's current set. On each
 * update the set is diffed by target identity (where it is scraped: socket and
 * URL): new targets get a TargetScraper, removed ones are stopped and handed on
 * as an empty snapshot, so their series leave `/metrics` (and OTLP) at once, as
 * a down target's do. A target given by two mechanisms, or configured and
 * discovered, is scraped once: static targets first, then discoverers in config
 * order. A target whose labels change is restarted under its new resource.
 */
import type { RunnerSetting } from './identity.js';
import type { Consumer } from '../../component.js';
import type { Attributes } from '../../model/batch.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Discovery } from '../../telemetry/health.js';
import { countTargets, type Discoverer, type TargetGroup } from '../../discovery/target-group.js';
import type { DiscoveryTelemetry } from '../../discovery/telemetry.js';
import { resolveTarget, type TargetAddress } from './target.js';
import type { TargetScraper } from './target-scraper.js';

/** One target to scrape: where, and its resource attributes. */
export interface ScrapeTarget {
  readonly address: TargetAddress;
  readonly attributes: Readonly<Record<string, string>>;
  /** Which runner to ask for its identity; discovered targets leave it to `auto`. */
  readonly runner?: RunnerSetting;
  /** Request headers of this target alone (a discovered router's), over the receiver's. */
  readonly headers?: Readonly<Record<string, string>>;
  /** How a discovered target was found (for the status page); absent for a configured one. */
  readonly discovery?: Discovery;
}

/** A started target as the receiver built it: its scraper, resource and health labels. */
export interface RunningTarget {
  readonly scraper: TargetScraper;
  readonly healthLabels: Attributes;
  /** Releases what the target alone used: its health series, status entry and socket's connection pool. */
  close(): Promise<void>;
}

export interface TargetSetOptions {
  readonly staticTargets: readonly ScrapeTarget[];
  readonly discoverers: readonly Discoverer[];
  readonly metricsPath: string;
  /** Builds (but does not start) the scraper of a target. */
  readonly create: (target: ScrapeTarget) => RunningTarget;
  readonly next: Consumer;
  readonly logger: Logger;
  readonly telemetry: DiscoveryTelemetry;
}

interface Entry {
  /** Identity plus attributes: a change restarts the target under its new resource. */
  readonly key: string;
  readonly running: RunningTarget;
}

export class TargetSet {
  private readonly entries = new Map<string, Entry>();
  private readonly current: TargetGroup[][];
  private staticTargets: readonly ScrapeTarget[];
  private started = false;
  private stopped = false;
  /** Stops of removed targets still in progress, awaited by stop(). */
  private readonly stopping = new Set<Promise<void>>();

  constructor(private readonly opts: TargetSetOptions) {
    this.current = opts.discoverers.map(() => []);
    this.staticTargets = opts.staticTargets;
    // Static targets exist from construction on, so `scrapers` is complete before start().
    this.apply();
  }

  /** Scrapers currently running, static targets first. */
  get scrapers(): TargetScraper[] {
    return [...this.entries.values()].map((e) => e.running.scraper);
  }

  start(): void {
    this.started = true;
    for (const e of this.entries.values()) e.running.scraper.start();
    for (const mechanism of new Set(this.opts.discoverers.map((d) => d.mechanism))) this.opts.telemetry.register(mechanism);
    this.opts.discoverers.forEach((d, i) =>
      d.run((groups) => {
        if (this.stopped) return;
        this.current[i] = groups;
        this.countByMechanism();
        this.apply();
      }),
    );
  }

  /** A new static target list (a config reload): unchanged targets keep running, with their state. */
  setStaticTargets(targets: readonly ScrapeTarget[]): void {
    this.staticTargets = targets;
    if (!this.stopped) this.apply();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.opts.discoverers.map((d) => d.stop()));
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all([...this.stopping]);
    await Promise.all(
      all.map(async (e) => {
        await e.running.scraper.stop();
        await e.running.close();
      }),
    );
  }

  /** Diffs the wanted set against the running one. */
  private apply(): void {
    const wanted = this.wanted();
    for (const [id, entry] of this.entries) {
      const target = wanted.get(id);
      if (target && target.key === entry.key) continue;
      this.entries.delete(id);
      this.retire(entry);
    }
    for (const [id, target] of wanted) {
      if (this.entries.has(id)) continue;
      const running = this.opts.create(target.target);
      this.entries.set(id, { key: target.key, running });
      if (this.started) running.scraper.start();
      if (this.started) this.opts.logger.info('target added', { target: target.target.address.display, source: target.source });
    }
  }

  private wanted(): Map<string, { key: string; target: ScrapeTarget; source: string }> {
    const wanted = new Map<string, { key: string; target: ScrapeTarget; source: string }>();
    const identities = new Set<string>();
    // Static targets keep today's rule: two may share an address if their attributes differ.
    // Keyed by address and attributes, so a reload that moves a target in the list keeps it running.
    for (const target of this.staticTargets) {
      identities.add(identityOf(target.address));
      const key = keyOf(target);
      wanted.set(`static ${key}`, { key, target, source: 'targets' });
    }
    this.opts.discoverers.forEach((d, i) => {
      for (const group of this.current[i]!) {
        for (const address of group.targets) {
          let target: ScrapeTarget;
          try {
            target = discoveredTarget(address, group.labels, this.opts.metricsPath);
            if (group.headers !== undefined) target = { ...target, headers: group.headers };
          } catch (err) {
            this.opts.telemetry.error(d.mechanism, 'invalid_target', `target:${group.source}:${address}`, (err as Error).message, { source: group.source });
            continue;
          }
          const identity = identityOf(target.address);
          if (identities.has(identity)) continue; // scraped once, by whoever named it first
          identities.add(identity);
          target = { ...target, discovery: { mechanism: d.mechanism, source: group.source } };
          wanted.set(identity, { key: keyOf(target), target, source: `${d.mechanism}:${group.source}` });
        }
      }
    });
    return wanted;
  }

  /** Stops a removed target, then hands on its empty snapshot and releases it (its health series go too). */
  private retire(entry: Entry): void {
    const { running } = entry;
    this.opts.logger.info('target removed', { target: running.scraper.address.display });
    const done = (async () => {
      await running.scraper.stop();
      this.opts.next.consume([{ resource: running.scraper.resource, scopeMetrics: [] }]);
      await running.close();
    })().catch((err) => this.opts.logger.error('stopping a removed target failed', { error: String(err) }));
    this.stopping.add(done);
    void done.finally(() => this.stopping.delete(done));
  }

  private countByMechanism(): void {
    const counts = new Map<string, number>();
    this.opts.discoverers.forEach((d, i) => counts.set(d.mechanism, (counts.get(d.mechanism) ?? 0) + countTargets(this.current[i]!)));
    for (const [mechanism, n] of counts) this.opts.telemetry.setTargets(mechanism, n);
  }
}

/** Where a target is scraped: two targets with one identity are one target. */
function identityOf(address: TargetAddress): string {
  return `${address.socketPath ?? ''} ${address.url}`;
}

function keyOf(target: ScrapeTarget): string {
  const sorted = (r: Readonly<Record<string, string>>) => Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Headers are part of the key: a new API key restarts the target with it. The key is never logged.
  return `${identityOf(target.address)} ${JSON.stringify(sorted(target.attributes))} ${JSON.stringify(sorted(target.headers ?? {}))}`;
}

/**
 * A discovered address plus its group's labels, as Prometheus reads them:
 * `__scheme__` (http or https) and `__metrics_path__` shape the URL, other
 * `__`-prefixed labels are dropped, the rest become resource attributes. A Unix
 * socket is written `unix:/path.sock` or as an absolute path.
 */
export function discoveredTarget(address: string, labels: Readonly<Record<string, string>>, metricsPath: string): ScrapeTarget {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) if (!name.startsWith('__')) attributes[name] = value;
  const path = labels['__metrics_path__'] || metricsPath;
  if (!path.startsWith('/')) throw new Error(`__metrics_path__ "${path}" of target ${address} must start with /`);
  const socket = address.startsWith('unix:') ? address.slice('unix:'.length) : address.startsWith('/') ? address : undefined;
  if (socket !== undefined) {
    if (!socket.startsWith('/')) throw new Error(`socket target ${address} needs an absolute path`);
    return { address: resolveTarget({ unix_socket: socket, path, attributes: {} }, metricsPath), attributes };
  }
  if (address.includes('/') || address.trim() === '') throw new Error(`target "${address}" must be host:port (scheme and path come from __scheme__ and __metrics_path__)`);
  const scheme = labels['__scheme__'] || 'http';
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`__scheme__ "${scheme}" of target ${address} must be http or https`);
  return { address: resolveTarget({ url: `${scheme}://${address}${path}`, attributes: {} }, metricsPath), attributes };
}

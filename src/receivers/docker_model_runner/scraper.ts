/**
 * Watches one Docker Model Runner on its own timer. Each round asks, in
 * parallel, `/engines/ps` (which runners run: the target is up when it answers)
 * and the aggregated `/metrics` (every runner's llama.cpp page, already labelled
 * backend/model/mode by the model runner).
 *
 * Out of it come one resource per runner (attributes backend, model, mode: its
 * state series) and one for the model runner (its runner counts and the
 * aggregated page, kept verbatim: the page's own backend/model/mode labels stay
 * on its series, and the resource carries none, so nothing is added or renamed
 * `exported_`). A runner that goes away, or everything when the model runner
 * does, is handed on once as an empty snapshot, so exporters stop serving it at
 * once. Runners that /engines/ps lists but /metrics lacks (some versions answer
 * `# No active runners` while runners are loaded; TCP runners are never on it)
 * are counted and logged once, and scraped on their own address when they can
 * be found there (direct.ts), onto their own resource.
 */
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { millisToHrTime, type Attributes, type HrTime, type ResourceBatch, type ScopeBatch } from '../../model/batch.js';
import { VERSION } from '../../version.js';
import {
  DMR_ENDPOINTS,
  canonicalRunnerLabels,
  isNoActiveRunners,
  parseRunningBackends,
  runnerKey,
  type RunningBackend,
} from '../../runners/docker-model-runner.js';
import { fetchPage, SCRAPE_ACCEPT, type FetchedPage } from '../prometheus/fetch.js';
import { ScrapeState } from '../prometheus/scrape-state.js';
import { RunnerApiScraper, type RunnerApiScraperOptions } from '../runner-api-scraper.js';
import { asScrapeError } from '../target-health.js';
import { endpointUrl, type DmrAddress } from './target.js';
import { runnerMetrics, serverMetrics } from './series.js';
import { DirectRunners, type DirectPage } from './direct.js';
import { dmrDirectConfigSchema, type DmrDirectConfig } from './config.js';

export const DMR_SCOPE = { name: 'runner-metrics/receiver/docker_model_runner', version: VERSION };

const JSON_ACCEPT = 'application/json';

export interface DmrScraperOptions extends RunnerApiScraperOptions<DmrAddress> {
  /** Whether to scrape the aggregated /metrics. */
  readonly metrics: boolean;
  /** Runners that /metrics lacks, scraped on their own address; unset: the defaults. */
  readonly direct?: DmrDirectConfig | undefined;
}

interface LiveRunner {
  readonly resource: Resource;
  readonly since: HrTime;
}

/** What the aggregated page gave this round. */
interface PageResult {
  readonly scopes: ScopeBatch[];
  /** runnerKey of every runner with series on the page; undefined when the page was not read. */
  readonly present: Set<string> | undefined;
  readonly noActiveRunners: boolean;
  readonly samples: number;
}

/** Up when /engines/ps answers. */
export class DmrScraper extends RunnerApiScraper<DmrAddress, DmrScraperOptions> {
  private readonly baseAttributes: Attributes;
  private readonly serverResource: Resource;
  private readonly runners = new Map<string, LiveRunner>();
  private readonly pageState: ScrapeState;
  private serverSince: HrTime | undefined;
  /** Runners last reported as missing from /metrics (logged when new ones join). */
  private missing = new Set<string>();
  private readonly direct: DirectRunners;

  constructor(opts: DmrScraperOptions) {
    super(opts, { job: opts.receiverId, instance: opts.address.instance, ...opts.attributes }, opts.address.base + opts.address.instance);
    const instance = opts.address.instance;
    this.baseAttributes = { 'service.name': opts.receiverId, 'service.instance.id': instance, 'server.address': instance, ...opts.attributes };
    this.serverResource = resourceFromAttributes(this.baseAttributes);
    this.pageState = new ScrapeState(this.serverResource);
    this.direct = new DirectRunners({
      config: opts.direct ?? dmrDirectConfigSchema.parse({}),
      modelRunner: opts.address,
      timeoutMs: opts.timeoutMs,
      bodyLimit: opts.bodyLimit,
      logger: opts.logger,
      askModelRunner: (path) => this.get(path, JSON_ACCEPT),
      received: (bytes) => this.health.received(bytes),
    });
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.direct.close();
  }

  protected async scrape(): Promise<void> {
    const o = this.opts;
    const started = performance.now();
    const nowMs = Date.now();
    this.health.started(nowMs);
    const [ps, metrics] = await Promise.allSettled([
      this.get(DMR_ENDPOINTS.ps, JSON_ACCEPT),
      o.metrics ? this.get(DMR_ENDPOINTS.metrics, SCRAPE_ACCEPT) : undefined,
    ]);
    try {
      if (ps.status === 'rejected') throw ps.reason;
      const running = parseRunningBackends(ps.value.body);
      if (this.periodic.isStopped) return;
      const page = this.page(metrics, nowMs);
      const direct = await this.scrapeDirect(running, page, nowMs);
      if (this.periodic.isStopped) return;
      const resources = this.snapshot(running, page, direct, nowMs);
      o.next.consume(resources.batch);
      o.logger.debug('scraped', { target: o.address.display, runners: running.length, samples: resources.samples });
      this.health.markUp(resources.samples);
    } catch (err) {
      this.health.markDown(asScrapeError(err));
      this.runners.clear();
      this.serverSince = undefined;
      this.missing.clear();
      this.direct.reset();
    } finally {
      this.health.ended((performance.now() - started) / 1000, this.periodic.isStopped);
    }
  }

  private async get(path: string, accept: string): Promise<FetchedPage> {
    const o = this.opts;
    const headers = { accept, ...o.headers };
    const page = await fetchPage({ url: endpointUrl(o.address, path), dispatcher: o.dispatcher, timeoutMs: o.timeoutMs, bodyLimit: o.bodyLimit, headers });
    this.health.received(page.wireBytes);
    return page;
  }

  /** The aggregated page, kept verbatim on the model runner's resource; a failure leaves it out (the target stays up). */
  private page(metrics: PromiseSettledResult<FetchedPage | undefined>, nowMs: number): PageResult {
    if (metrics.status === 'fulfilled' && metrics.value === undefined) return { scopes: [], present: undefined, noActiveRunners: false, samples: 0 };
    try {
      if (metrics.status === 'rejected') throw metrics.reason;
      const body = canonicalRunnerLabels(metrics.value!.body);
      const converted = this.pageState.convert(body, metrics.value!.contentType, nowMs);
      const present = new Set<string>();
      for (const scope of converted.batch.scopeMetrics) {
        for (const metric of scope.metrics) {
          for (const p of metric.dataPoints) {
            const a = p.attributes;
            present.add(runnerKey(String(a['backend'] ?? ''), String(a['model'] ?? ''), String(a['mode'] ?? '')));
          }
        }
      }
      this.health.sideOk(DMR_ENDPOINTS.metrics);
      return { scopes: converted.batch.scopeMetrics, present, noActiveRunners: isNoActiveRunners(body), samples: converted.samples };
    } catch (err) {
      this.health.sideFailed(DMR_ENDPOINTS.metrics, err);
      return { scopes: [], present: undefined, noActiveRunners: false, samples: 0 };
    }
  }

  /**
   * The runners the aggregated page lacks (listed and ready, but without series
   * there, or all of them when the page failed), scraped on their own address
   * when found there. Never with `metrics: false`: then no page is wanted.
   */
  private async scrapeDirect(running: RunningBackend[], page: PageResult, nowMs: number): Promise<Map<string, DirectPage> | undefined> {
    if (!this.opts.metrics || !this.direct.enabled) return undefined;
    const listed = new Set(running.map((r) => runnerKey(r.backend, r.model, r.mode)));
    const lacking = running.filter((r) => !r.loading && !(page.present?.has(runnerKey(r.backend, r.model, r.mode)) ?? false));
    // A runner's page goes on its resource: made now for a runner listed for the first time.
    const now = millisToHrTime(nowMs);
    for (const r of lacking) this.liveRunner(r, now);
    return this.direct.scrape(lacking, listed, (key) => this.runners.get(key)!.resource, nowMs);
  }

  /** The runner's resource, made when it is first listed. */
  private liveRunner(runner: RunningBackend, now: HrTime): LiveRunner {
    const key = runnerKey(runner.backend, runner.model, runner.mode);
    let live = this.runners.get(key);
    if (live === undefined) {
      const attributes: Attributes = { ...this.baseAttributes, backend: runner.backend, model: runner.model };
      if (runner.mode !== '') attributes['mode'] = runner.mode;
      live = { resource: resourceFromAttributes(attributes), since: now };
      this.runners.set(key, live);
    }
    return live;
  }

  private snapshot(running: RunningBackend[], page: PageResult, direct: Map<string, DirectPage> | undefined, nowMs: number): { batch: ResourceBatch[]; samples: number } {
    const now = millisToHrTime(nowMs);
    this.serverSince ??= now;
    const batch: ResourceBatch[] = [];
    const current = new Set<string>();
    const missing: RunningBackend[] = [];
    let samples = page.samples;
    let scrapedDirectly = 0;
    for (const runner of running) {
      const key = runnerKey(runner.backend, runner.model, runner.mode);
      current.add(key);
      const live = this.liveRunner(runner, now);
      const served = page.present === undefined ? undefined : page.present.has(key);
      if (served === false && !runner.loading) missing.push(runner);
      const own = direct?.get(key);
      // Said for a runner whose page is wanted elsewhere than the aggregated one: found directly (1) or not (0).
      const directly = direct === undefined || runner.loading || served === true ? undefined : own !== undefined;
      if (own !== undefined) scrapedDirectly++;
      const metrics = runnerMetrics(runner, served, directly, live.since, now, nowMs);
      samples += metrics.length + (own?.samples ?? 0);
      batch.push({ resource: live.resource, scopeMetrics: [{ scope: DMR_SCOPE, metrics }, ...(own?.scopes ?? [])] });
    }
    for (const [key, live] of this.runners) {
      if (current.has(key)) continue;
      batch.push({ resource: live.resource, scopeMetrics: [] });
      this.runners.delete(key);
    }
    const server = serverMetrics(running.length, page.present === undefined ? undefined : missing.length, direct === undefined ? undefined : scrapedDirectly, this.serverSince, now);
    samples += server.length;
    batch.unshift({ resource: this.serverResource, scopeMetrics: [{ scope: DMR_SCOPE, metrics: server }, ...page.scopes] });
    if (page.present !== undefined) this.reportMissing(missing, page.noActiveRunners);
    return { batch, samples };
  }

  /** One log line when runners join the set that /metrics lacks; one when it empties. */
  private reportMissing(missing: RunningBackend[], noActiveRunners: boolean): void {
    const keys = new Set(missing.map((r) => runnerKey(r.backend, r.model, r.mode)));
    const added = missing.filter((r) => !this.missing.has(runnerKey(r.backend, r.model, r.mode)));
    if (added.length > 0) {
      this.opts.logger.warn('runners listed by /engines/ps have no series in /metrics', {
        target: this.opts.address.display,
        runners: added.map((r) => `${r.backend} ${r.model}${r.mode ? ` (${r.mode})` : ''}`).join(', '),
        metrics_page: noActiveRunners ? 'says "# No active runners"' : 'lacks them',
      });
    } else if (keys.size === 0 && this.missing.size > 0) {
      this.opts.logger.info('/metrics has series of every runner again', { target: this.opts.address.display });
    }
    this.missing = keys;
  }

  protected resources(): Resource[] {
    return [this.serverResource, ...[...this.runners.values()].map((live) => live.resource)];
  }
}

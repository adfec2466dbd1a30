/**
 * Watches one Ollama server on its own timer. Each round asks, in parallel and
 * with the same short timeout, `/api/ps` (which models are loaded: the target is
 * up when it answers), `/api/tags` (how many are available), `/api/version` (until
 * it has answered once since the server appeared) and the server's own `/metrics`
 * page (while it has not answered 404 since the server appeared).
 *
 * Out of it comes one resource for the server and one per loaded model. A model
 * that unloads, or every resource of a server that goes down, is handed on once
 * as an empty snapshot, so exporters stop serving it at once. A failing side
 * endpoint (tags, version, metrics) leaves its series out and is logged once per
 * cause; the target stays up.
 */
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { millisToHrTime, type Attributes, type HrTime, type ResourceBatch, type ScopeBatch } from '../../model/batch.js';
import { VERSION } from '../../version.js';
import {
  OLLAMA_ENDPOINTS,
  parseLocalModels,
  parseRunningModels,
  parseVersion,
  type LoadedModel,
} from '../../runners/ollama.js';
import { fetchPage, SCRAPE_ACCEPT, ScrapeError, type FetchedPage } from '../prometheus/fetch.js';
import { ScrapeState } from '../prometheus/scrape-state.js';
import { RunnerApiScraper, type RunnerApiScraperOptions } from '../runner-api-scraper.js';
import { asScrapeError } from '../target-health.js';
import { endpointUrl, type OllamaAddress } from './target.js';
import { requestHeaders } from '../../net/request-headers.js';
import { modelMetrics, serverMetrics } from './series.js';

export const OLLAMA_SCOPE = { name: 'runner-metrics/receiver/ollama', version: VERSION };

const JSON_ACCEPT = 'application/json';

/** `attributes`: `backend` defaults to `ollama`. */
export interface OllamaScraperOptions extends RunnerApiScraperOptions<OllamaAddress> {
  /** Path of Ollama's own Prometheus page; '' = never ask. */
  readonly metricsPath: string;
}

/** Endpoints whose failure leaves some series out but not the target down. */
type SideEndpoint = 'tags' | 'version' | 'metrics';

interface LiveModel {
  readonly resource: Resource;
  /** When it was first seen loaded: the start time of its points. */
  readonly since: HrTime;
}

/** Up when /api/ps answers. */
export class OllamaScraper extends RunnerApiScraper<OllamaAddress, OllamaScraperOptions> {
  private readonly baseAttributes: Attributes;
  private readonly serverResource: Resource;
  private readonly models = new Map<string, LiveModel>();
  private serverSince: HrTime | undefined;
  private versionAttributes: Attributes | undefined;
  /** undefined: not asked since the server appeared; false: it answered 404. */
  private metricsServed: boolean | undefined;
  private metricsState: ScrapeState | undefined;

  constructor(opts: OllamaScraperOptions) {
    super(opts, { job: opts.receiverId, instance: opts.address.instance, backend: 'ollama', ...opts.attributes }, opts.address.base);
    const instance = opts.address.instance;
    this.baseAttributes = {
      'service.name': opts.receiverId,
      'service.instance.id': instance,
      'server.address': instance,
      backend: 'ollama',
      ...opts.attributes,
    };
    this.serverResource = resourceFromAttributes(this.baseAttributes);
  }

  protected async scrape(): Promise<void> {
    const o = this.opts;
    const started = performance.now();
    const nowMs = Date.now();
    this.health.started(nowMs);
    const askMetrics = o.metricsPath !== '' && this.metricsServed !== false;
    const [ps, tags, version, metrics] = await Promise.allSettled([
      this.get(OLLAMA_ENDPOINTS.ps, JSON_ACCEPT),
      this.get(OLLAMA_ENDPOINTS.tags, JSON_ACCEPT),
      this.versionAttributes === undefined ? this.get(OLLAMA_ENDPOINTS.version, JSON_ACCEPT) : undefined,
      askMetrics ? this.get(o.metricsPath, SCRAPE_ACCEPT) : undefined,
    ]);
    try {
      if (ps.status === 'rejected') throw ps.reason;
      const loaded = parseRunningModels(ps.value.body);
      if (this.periodic.isStopped) return;
      const available = this.localModels(tags);
      this.readVersion(version);
      const ownPage = this.ownMetrics(metrics, nowMs);
      const batch = this.snapshot(loaded, available, ownPage, nowMs);
      o.next.consume(batch.resources);
      o.logger.debug('scraped', { target: o.address.display, models_loaded: loaded.length, samples: batch.samples });
      this.health.markUp(batch.samples);
    } catch (err) {
      this.health.markDown(asScrapeError(err));
      this.forgetServer();
    } finally {
      this.health.ended((performance.now() - started) / 1000, this.periodic.isStopped);
    }
  }

  /** One GET under the server's base URL, counted in the target's bytes. */
  private async get(path: string, accept: string): Promise<FetchedPage> {
    const o = this.opts;
    // A configured Authorization header, in any case, wins over credentials in the URL.
    const headers = { accept, ...requestHeaders(o.headers, o.address.authorization) };
    const page = await fetchPage({
      url: endpointUrl(o.address, path),
      dispatcher: o.dispatcher,
      timeoutMs: o.timeoutMs,
      bodyLimit: o.bodyLimit,
      headers,
    });
    this.health.received(page.wireBytes);
    return page;
  }

  private localModels(tags: PromiseSettledResult<FetchedPage>): number | undefined {
    try {
      if (tags.status === 'rejected') throw tags.reason;
      const count = parseLocalModels(tags.value.body).length;
      this.sideOk('tags');
      return count;
    } catch (err) {
      this.sideFailed('tags', err);
      return undefined;
    }
  }

  /** Identity is asked until it has answered once, then kept until the server goes away. */
  private readVersion(version: PromiseSettledResult<FetchedPage | undefined>): void {
    if (this.versionAttributes !== undefined) return;
    try {
      if (version.status === 'rejected') throw version.reason;
      const text = parseVersion(version.value!.body);
      this.versionAttributes = { version: text };
      this.sideOk('version');
    } catch (err) {
      this.sideFailed('version', err);
    }
  }

  /** Ollama's own Prometheus page, when it serves one: its families kept verbatim, on the server's resource. */
  private ownMetrics(metrics: PromiseSettledResult<FetchedPage | undefined>, nowMs: number): ScopeBatch[] {
    if (metrics.status === 'fulfilled' && metrics.value === undefined) return [];
    try {
      if (metrics.status === 'rejected') throw metrics.reason;
      const page = metrics.value!;
      this.metricsState ??= new ScrapeState(this.serverResource);
      const converted = this.metricsState.convert(page.body, page.contentType, nowMs);
      if (this.metricsServed !== true) this.opts.logger.info('target serves its own metrics page', { target: this.opts.address.display, path: this.opts.metricsPath });
      this.metricsServed = true;
      this.sideOk('metrics');
      return converted.batch.scopeMetrics;
    } catch (err) {
      if (err instanceof ScrapeError && err.status === 404) {
        // Not a failure: this build has no /metrics (or OLLAMA_METRICS is off). Ask again when the server comes back.
        this.opts.logger.debug('target serves no metrics page', { target: this.opts.address.display, path: this.opts.metricsPath });
        this.metricsServed = false;
        this.metricsState = undefined;
        this.sideOk('metrics');
        return [];
      }
      this.sideFailed('metrics', err);
      return [];
    }
  }

  private snapshot(loaded: LoadedModel[], available: number | undefined, ownPage: ScopeBatch[], nowMs: number) {
    const now = millisToHrTime(nowMs);
    this.serverSince ??= now;
    const resources: ResourceBatch[] = [];
    const server = serverMetrics({ loaded: loaded.length, available, versionAttributes: this.versionAttributes }, this.serverSince, now);
    resources.push({ resource: this.serverResource, scopeMetrics: [{ scope: OLLAMA_SCOPE, metrics: server }, ...ownPage] });
    let samples = server.length + countPoints(ownPage);
    const current = new Set<string>();
    for (const model of loaded) {
      current.add(model.name);
      let live = this.models.get(model.name);
      if (live === undefined) {
        live = { resource: resourceFromAttributes({ ...this.baseAttributes, model: model.name }), since: now };
        this.models.set(model.name, live);
      }
      const metrics = modelMetrics(model, live.since, now, nowMs);
      samples += metrics.length;
      resources.push({ resource: live.resource, scopeMetrics: [{ scope: OLLAMA_SCOPE, metrics }] });
    }
    // A model that unloaded stops being served at once, as a failed target's series go stale.
    for (const [name, live] of this.models) {
      if (current.has(name)) continue;
      resources.push({ resource: live.resource, scopeMetrics: [] });
      this.models.delete(name);
    }
    return { resources, samples };
  }

  protected resources(): Resource[] {
    return [this.serverResource, ...[...this.models.values()].map((live) => live.resource)];
  }

  /** Who the server is may change while it is away (an upgrade, OLLAMA_METRICS turned on): ask again when it is back. */
  private forgetServer(): void {
    this.models.clear();
    this.serverSince = undefined;
    this.versionAttributes = undefined;
    this.metricsServed = undefined;
    this.metricsState = undefined;
  }

  private sideOk(endpoint: SideEndpoint): void {
    this.health.sideOk(pathOf(endpoint, this.opts.metricsPath));
  }

  private sideFailed(endpoint: SideEndpoint, err: unknown): void {
    this.health.sideFailed(pathOf(endpoint, this.opts.metricsPath), err);
  }
}

function pathOf(endpoint: SideEndpoint, metricsPath: string): string {
  return endpoint === 'metrics' ? metricsPath : OLLAMA_ENDPOINTS[endpoint];
}

function countPoints(scopes: ScopeBatch[]): number {
  let n = 0;
  for (const s of scopes) for (const m of s.metrics) n += m.dataPoints.length;
  return n;
}

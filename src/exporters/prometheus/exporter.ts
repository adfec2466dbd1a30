/**
 * The `prometheus` exporter: keeps the latest snapshot of every resource fed to
 * it and serves them all as one scrape endpoint, the way the Collector's
 * prometheus exporter aggregates every pipeline behind one `/metrics`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { statusPage } from './status-page.js';
import type { ComponentContext, Exporter } from '../../component.js';
import type { Batch } from '../../model/batch.js';
import { resourceKey } from '../../model/resource-key.js';
import { contentType, type EscapingScheme } from '../../prometheus/writer.js';
import type { ExporterReporter } from '../../telemetry/health.js';
import type { Counter, Gauge } from '../../telemetry/self-metrics.js';
import { BodyCache, CachedBody } from './body-cache.js';
import type { PrometheusExporterConfig } from './config.js';
import { writeExposition, type ExpositionSource } from './exposition.js';
import { RenderCache } from './family-plan.js';
import type { ExpositionFormat } from './family-naming.js';
import { HttpListener } from '../../net/http-listener.js';
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../../net/listen-address.js';
import { acceptsGzip, negotiate, requestedNames } from './negotiation.js';
import { SeriesLabels, type AddedLabelsConfig } from './series-labels.js';
import { SnapshotStore } from './snapshot-store.js';

/**
 * The collector's own metrics change with every render (scrape count, render
 * time, process memory). A cached body keeps the ones it was rendered with for
 * at most this long; the runners' data is always as fresh as the last batch.
 */
export const OWN_METRICS_MAX_AGE_MS = 1_000;
/** Bodies kept at once (formats × `name[]` filters); all are dropped when the data changes. */
const MAX_CACHED_BODIES = 8;

/** Test and benchmark hooks; the factory passes none. */
export interface PrometheusExporterOptions {
  /** Clock for metric expiry, epoch milliseconds. */
  readonly now?: () => number;
  /** Environment read for DISABLE_METRICS; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** false renders every scrape afresh (the benchmark's baseline); defaults to true. */
  readonly cacheBodies?: boolean;
}

export interface RenderOptions {
  readonly format?: ExpositionFormat;
  /** How names outside the legacy charsets are written; `underscores` by default. */
  readonly escaping?: EscapingScheme;
  readonly names?: ReadonlySet<string> | undefined;
}

/** Families whose clash was already logged; bounded, so odd runners cannot grow it without limit. */
const MAX_LOGGED_CLASHES = 1000;

interface OwnMetrics {
  readonly attributes: { readonly exporter: string };
  readonly series: Gauge;
  readonly resources: Gauge;
  readonly scrapes: Counter;
  readonly renders: Counter;
  readonly renderSeconds: Gauge;
}

export class PrometheusExporter implements Exporter {
  private readonly store: SnapshotStore;
  private readonly labelsConfig: AddedLabelsConfig;
  private readonly listener: HttpListener;
  private readonly own: OwnMetrics;
  private readonly disabled: boolean;
  private readonly now: () => number;
  private readonly bodies: BodyCache | undefined;
  private readonly health: ExporterReporter;
  /** Label cache for the collector's own resource, which never expires. */
  private ownLabels: SeriesLabels | undefined;
  private readonly loggedClashes = new Set<string>();
  /** What renders remember between scrapes: which series each family writes, and body sizes. */
  private readonly renderCache = new RenderCache();

  constructor(
    private readonly config: PrometheusExporterConfig,
    private readonly context: ComponentContext,
    options: PrometheusExporterOptions = {},
  ) {
    this.labelsConfig = {
      resourceAttributes: config.resource_attributes_as_labels,
      constLabels: config.const_labels,
      honorLabels: config.honor_labels,
    };
    this.now = options.now ?? Date.now;
    this.store = new SnapshotStore({
      labels: this.labelsConfig,
      expirationMs: config.metric_expiration,
      now: this.now,
    });
    this.bodies = options.cacheBodies === false ? undefined : new BodyCache(MAX_CACHED_BODIES);
    this.listener = new HttpListener((req, res) => this.handle(req, res), {
      maxConnections: config.max_connections,
      headersTimeoutMs: config.read_header_timeout,
      keepAliveTimeoutMs: config.read_header_timeout,
      unixSocketMode: config.unix_socket_mode,
    });
    this.health = context.health.exporter({ exporter: context.id, type: 'prometheus', endpoint: config.endpoint });
    // Same switch as Docker Model Runner, so one environment turns both off.
    this.disabled = (options.env ?? process.env).DISABLE_METRICS === '1';
    const self = context.selfMetrics;
    this.own = {
      attributes: { exporter: context.id },
      series: self.gauge('runner_metrics_exporter_prometheus_series', 'Data points currently served by the prometheus exporter.'),
      resources: self.gauge('runner_metrics_exporter_prometheus_resources', 'Resources currently served by the prometheus exporter.'),
      scrapes: self.counter('runner_metrics_exporter_prometheus_scrapes_total', 'Scrapes answered by the prometheus exporter.'),
      renders: self.counter(
        'runner_metrics_exporter_prometheus_renders_total',
        'Bodies rendered by the prometheus exporter; scrapes of unchanged data are served a cached body.',
      ),
      renderSeconds: self.gauge('runner_metrics_exporter_prometheus_render_seconds', 'Time taken by the last render of the prometheus exporter.', 's'),
    };
    this.own.scrapes.touch(this.own.attributes);
    this.own.renders.touch(this.own.attributes);
  }

  /** The address the endpoint is bound to, with the real port when 0 was configured; undefined when not listening. */
  address(): ListenAddress | undefined {
    return this.listener.address;
  }

  consume(batch: Batch): void {
    if (this.disabled) return; // nothing will ever be served
    for (const resourceBatch of batch) this.store.put(resourceBatch);
  }

  async start(): Promise<void> {
    if (this.disabled) {
      this.context.logger.info('metrics endpoint disabled by DISABLE_METRICS=1');
      return;
    }
    const parsed = parseListenAddress(this.config.endpoint);
    if (!parsed.ok) throw new Error(`${this.context.id}: endpoint: ${parsed.message}`);
    try {
      const bound = await this.listener.listen(parsed.address);
      this.context.logger.info('metrics endpoint listening', { endpoint: formatListenAddress(bound), path: this.config.path });
    } catch (error) {
      throw new Error(`${this.context.id}: cannot listen on ${this.config.endpoint}: ${(error as Error).message}`);
    }
  }

  async shutdown(): Promise<void> {
    await this.listener.close();
    this.health.remove();
  }

  /** The exposition body a scrape would get, rendered now (scrapes over HTTP may get a cached one). */
  render(options: RenderOptions = {}): string {
    return this.renderBytes(options).toString('utf8');
  }

  /** render() as the UTF-8 bytes a scrape is served. */
  renderBytes(options: RenderOptions = {}): Buffer {
    this.own.scrapes.add(this.own.attributes);
    return this.renderNow(options);
  }

  private renderNow(options: RenderOptions): Buffer {
    const started = performance.now();
    const { attributes } = this.own;
    this.own.renders.add(attributes);
    this.own.series.set(attributes, this.store.points);
    this.own.resources.set(attributes, this.store.size);
    const body = writeExposition(this.sources(), {
      format: options.format ?? 'text',
      escaping: options.escaping,
      names: options.names,
      onLeftOut: (name, reason) => this.logClash(name, reason),
      cache: this.renderCache,
    });
    this.own.renderSeconds.set(attributes, (performance.now() - started) / 1000);
    return body;
  }

  /** A family left out of the body for a name clash: said once per family, not on every scrape. */
  private logClash(family: string, reason: string): void {
    if (this.loggedClashes.has(family) || this.loggedClashes.size >= MAX_LOGGED_CLASHES) return;
    this.loggedClashes.add(family);
    this.context.logger.warn('family left out of /metrics: its names clash with another family', { family, reason });
  }

  /** Stored snapshots in resource-key order, with the collector's own metrics in their place. */
  private sources(): readonly ExpositionSource[] {
    const stored = this.store.sources();
    if (!this.config.include_own_metrics) return stored;
    const batch = this.context.selfMetrics.collect();
    this.ownLabels ??= new SeriesLabels(batch.resource, this.labelsConfig);
    const key = resourceKey(batch.resource);
    let at = 0;
    while (at < stored.length && resourceKey(stored[at]!.batch.resource) < key) at++;
    return [...stored.slice(0, at), { batch, labels: this.ownLabels }, ...stored.slice(at)];
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === this.config.path) {
      this.serveMetrics(req, res, url);
    } else if (url.pathname === '/') {
      send(req, res, 200, 'text/html; charset=utf-8', statusPage(this.config.path, this.context.health.snapshot()), NO_STORE);
    } else if (url.pathname === '/api/targets') {
      send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(this.context.health.snapshot()) + '\n', NO_STORE);
    } else {
      send(req, res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  private serveMetrics(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const { format, escaping } = negotiate(req.headers.accept);
    const names = requestedNames(url.searchParams);
    this.own.scrapes.add(this.own.attributes);
    this.health.scrapeServed();
    let body: CachedBody;
    try {
      body = this.body(format, escaping, names);
    } catch (error) {
      this.context.logger.error('render failed', { error });
      send(req, res, 500, 'text/plain; charset=utf-8', 'render failed\n');
      return;
    }
    const type = contentType(format === 'openmetrics', escaping);
    res.setHeader('Vary', 'Accept, Accept-Encoding');
    if (!acceptsGzip(req.headers['accept-encoding'])) {
      send(req, res, 200, type, body.bytes);
      return;
    }
    body.gzipped().then(
      (compressed) => {
        res.setHeader('Content-Encoding', 'gzip');
        send(req, res, 200, type, compressed);
      },
      (error: unknown) => {
        this.context.logger.error('gzip failed', { error });
        send(req, res, 500, 'text/plain; charset=utf-8', 'compression failed\n');
      },
    );
  }

  /** The body for this format and filter: cached while the data is unchanged (see OWN_METRICS_MAX_AGE_MS). */
  private body(format: ExpositionFormat, escaping: EscapingScheme, names: ReadonlySet<string> | undefined): CachedBody {
    const render = () => this.renderNow({ format, escaping, names });
    if (!this.bodies) return new CachedBody(render());
    let version: string | number = this.store.version;
    if (this.config.include_own_metrics) version = `${version}/${Math.floor(this.now() / OWN_METRICS_MAX_AGE_MS)}`;
    // Names sorted, so the same filter in another order shares the body.
    const shape = `${format}\u0000${escaping}`;
    const key = names === undefined ? shape : `${shape}\u0000${[...names].sort().join('\u0000')}`;
    return this.bodies.get(key, version, render);
  }
}

/** The status page and its JSON change with every scrape of a target: never cached by a browser or proxy. */
const NO_STORE = { 'Cache-Control': 'no-store' };

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * `llamacpp_router_sd`: a llama.cpp router (`llama-server --models-preset …` or
 * `--models-dir …`) runs one child per loaded model. Its `GET /models` lists
 * every model with its state; each loaded or sleeping model is a target scraped
 * through the router as `/metrics?model=ID&autoload=false` (or, when asked, on
 * the child's own port, read from `--port` in the entry's command line),
 * labelled `model=ID` and its `mode`. Only `/models` is asked here, with GET,
 * and the router's headers (its API key): it never touches a child,
 * so it neither loads nor wakes a model. An unloaded or loading model has no
 * target: one that unloads leaves the set (its series go stale at once), and
 * one that loads again is a new target with new start times.
 *
 * Each model's state is told as a stateset, `llamacpp_router_model_state`
 * {model, state} 1 for the current state and 0 for the others, and its series
 * are removed when the model leaves the list.
 */
import { redactUrl } from '../telemetry/logger.js';
import { requestHeaders } from '../net/request-headers.js';
import {
  LLAMACPP_BACKEND,
  LLAMACPP_ENDPOINTS,
  LLAMACPP_ROUTER_MODELS_PATH,
  parseRouterModels,
  routerMetricsPath,
  routerModelRunning,
  type LlamacppRouterModel,
} from '../runners/llamacpp.js';
import type { RunnerReporter } from '../telemetry/health.js';
import type { Discoverer, TargetGroup } from './target-group.js';
import type { DiscoveryTelemetry } from './telemetry.js';

export interface LlamacppRouterSdOptions {
  /** The router's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly refreshMs: number;
  /** Give up on one `/models` request after this long. */
  readonly timeoutMs?: number;
  /** Sent with `/models` and every model's scrape (e.g. the router's API key). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Scrape each model through the router (default), or on its child's own port. */
  readonly scrapeVia?: 'router' | 'child';
}

const MECHANISM = 'llamacpp_router_sd';
const DEFAULT_TIMEOUT_MS = 2_000;

export class LlamacppRouterDiscoverer implements Discoverer {
  readonly mechanism = MECHANISM;
  private readonly base: URL;
  private readonly display: string;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private onUpdate: ((groups: TargetGroup[]) => void) | undefined;
  private last: string | undefined;
  /** Models whose state series exist, to remove those that leave the list. */
  private stated = new Set<string>();
  /** The router's entry on the status page, from construction on: its address is claimed even while no model runs. */
  private readonly listed: RunnerReporter;

  constructor(
    private readonly opts: LlamacppRouterSdOptions,
    private readonly telemetry: DiscoveryTelemetry,
  ) {
    this.base = new URL(opts.url);
    this.display = redactUrl(this.base.toString());
    const port = this.base.port || (this.base.protocol === 'https:' ? '443' : '80');
    this.listed = telemetry.runner('llamacpp_router', `${this.base.hostname}:${port}`, { mechanism: MECHANISM, source: this.display });
  }

  run(onUpdate: (groups: TargetGroup[]) => void): void {
    this.onUpdate = onUpdate;
    const tick = (): void => {
      this.inFlight = this.refresh().finally(() => {
        this.inFlight = undefined;
        if (this.onUpdate) this.timer = setTimeout(tick, this.opts.refreshMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.onUpdate = undefined;
    clearTimeout(this.timer);
    this.abort?.abort();
    await this.inFlight;
    this.listed.remove();
    for (const model of this.stated) this.telemetry.setRouterModelState(this.display, model, undefined);
    this.stated.clear();
  }

  private async refresh(): Promise<void> {
    const models = await this.look();
    if (models === undefined || !this.onUpdate) return; // keep the last set while the router does not answer
    this.setStates(models);
    const groups = this.groups(models);
    const text = JSON.stringify(groups);
    if (text === this.last) return;
    this.last = text;
    this.onUpdate(groups);
  }

  private async look(): Promise<LlamacppRouterModel[] | undefined> {
    const url = new URL(LLAMACPP_ROUTER_MODELS_PATH.slice(1), withSlash(this.base));
    this.abort = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)]);
    let body: string;
    try {
      const headers = { ...requestHeaders(this.opts.headers ?? {}), accept: 'application/json' };
      const res = await fetch(url, { method: 'GET', signal, headers });
      body = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      if (this.onUpdate) this.telemetry.error(MECHANISM, 'request', this.display, `${this.display}: ${(err as Error).message}`, { router: this.display });
      return undefined;
    }
    try {
      const models = parseRouterModels(body);
      this.telemetry.clear(this.display, MECHANISM, { router: this.display });
      return models;
    } catch (err) {
      this.telemetry.error(MECHANISM, 'parse', this.display, `${this.display}: ${(err as Error).message}`, { router: this.display });
      return undefined;
    }
  }

  private setStates(models: readonly LlamacppRouterModel[]): void {
    const now = new Set<string>();
    for (const m of models) {
      now.add(m.id);
      this.telemetry.setRouterModelState(this.display, m.id, m.state);
    }
    for (const gone of this.stated) if (!now.has(gone)) this.telemetry.setRouterModelState(this.display, gone, undefined);
    this.stated = now;
  }

  /** One group per running model: through the router (its own metrics path) or on its child's port; `model` and `mode` labels. */
  private groups(models: readonly LlamacppRouterModel[]): TargetGroup[] {
    const headers = this.opts.headers !== undefined && Object.keys(this.opts.headers).length > 0 ? { headers: this.opts.headers } : {};
    return models
      .filter((m) => routerModelRunning(m.state))
      .map((m) => {
        const labels = { backend: LLAMACPP_BACKEND, model: m.id, mode: m.mode };
        // A child whose port is not in its command line is still scraped, through the router.
        if (this.opts.scrapeVia === 'child' && m.child !== undefined) {
          const host = m.child.host.includes(':') ? `[${m.child.host}]` : m.child.host;
          return {
            targets: [`${host}:${m.child.port}`],
            labels: { __scheme__: 'http', __metrics_path__: LLAMACPP_ENDPOINTS.metrics, ...labels },
            source: `${this.display} model=${m.id} child port ${m.child.port}`,
            ...headers,
          };
        }
        return {
          targets: [this.base.host],
          labels: { __scheme__: this.base.protocol.slice(0, -1), __metrics_path__: routerMetricsPath(this.base.pathname, m.id), ...labels },
          source: `${this.display} model=${m.id}`,
          ...headers,
        };
      });
  }
}

function withSlash(url: URL): URL {
  const u = new URL(url.toString());
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  u.search = '';
  return u;
}

/**
 * Runners scraped on their own address. The aggregated /metrics lacks a runner
 * when the model runner cannot reach it (TCP runners: SGLang, vllm-metal), when
 * its version answers `# No active runners` while runners are loaded, or when a
 * runner's page failed. Such a runner is then looked for where the model runner
 * starts its runners (`127.0.0.1:30000+slot`, `inference-runner-<slot>.sock`)
 * and in the configured targets, recognised by the model its own `/v1/models`
 * names, and its `/metrics` read as it is, for the runner's own resource
 * (backend, model, mode): labelled as the aggregated page would label it.
 *
 * Nothing is duplicated: only runners the aggregated page lacks this round are
 * scraped here. Looking costs at most one `/v1/models` per candidate address
 * per round, and only while some runner is lacking and not yet found. A runner
 * that leaves /engines/ps, or whose address stops answering, is forgotten: its
 * address may be another runner's next time, and its series start anew.
 */
import { dirname, basename } from 'node:path';
import type { Agent } from 'undici';
import type { Resource } from '@opentelemetry/resources';
import type { ScopeBatch } from '../../model/batch.js';
import type { Logger } from '../../telemetry/logger.js';
import { expandGlob, parseGlob, type PathGlob } from '../../discovery/glob.js';
import {
  DMR_ENDPOINTS,
  DMR_RUNNER_SOCKET_GLOB,
  RUNNER_MODELS_ENDPOINT,
  parseLocalModels,
  parseServedModels,
  runnerKey,
  servesModel,
  type LocalModel,
  type RunningBackend,
} from '../../runners/docker-model-runner.js';
import { createDispatcher, fetchPage, SCRAPE_ACCEPT, type FetchedPage } from '../prometheus/fetch.js';
import { resolveTarget } from '../prometheus/target.js';
import { ScrapeState } from '../prometheus/scrape-state.js';
import type { DmrDirectConfig } from './config.js';
import type { DmrAddress } from './target.js';

/** Where a runner may listen. */
export interface DirectEndpoint {
  /** `host:port` or the socket path: one address, one runner. */
  readonly key: string;
  /** Base URL (for a socket, only the Host header's). */
  readonly base: string;
  readonly socketPath: string | undefined;
  /** A configured target: the runner it is. */
  readonly runner?: { readonly model: string; readonly backend?: string | undefined; readonly mode?: string | undefined };
}

/** What a direct scrape gave a runner this round. */
export interface DirectPage {
  readonly scopes: ScopeBatch[];
  readonly samples: number;
}

export interface DirectOptions {
  readonly config: DmrDirectConfig;
  /** The model runner's address: decides whether runners on this machine can be reached, and where their sockets are. */
  readonly modelRunner: DmrAddress;
  readonly timeoutMs: number;
  readonly bodyLimit: number;
  readonly logger: Logger;
  /** GETs a path of the model runner (its `/models`). */
  readonly askModelRunner: (path: string) => Promise<FetchedPage>;
  /** Every answer's wire size, counted in the model runner's bytes. */
  readonly received: (wireBytes: number) => void;
}

interface Found {
  readonly endpoint: DirectEndpoint;
  readonly state: ScrapeState;
}

const JSON_ACCEPT = 'application/json';

export class DirectRunners {
  private readonly fixed: DirectEndpoint[];
  private readonly globs: PathGlob[];
  /** runnerKey → where it was found. */
  private readonly found = new Map<string, Found>();
  /** One agent per socket, one for every TCP address. */
  private readonly agents = new Map<string, Agent>();
  /** Runners logged as not found, so each is said once until found or gone. */
  private readonly unfound = new Set<string>();
  /** Runners whose address stopped answering, said once until it answers again (a configured one is tried every round). */
  private readonly failing = new Set<string>();

  constructor(private readonly opts: DirectOptions) {
    const c = opts.config;
    const local = isLocal(opts.modelRunner);
    const targets: DirectEndpoint[] = c.targets.map((t) => {
      const address = resolveTarget({ url: t.url, unix_socket: t.unix_socket, path: '/', attributes: {} }, '/');
      const base = address.socketPath ? 'http://localhost' : new URL(address.url).origin;
      return { key: address.instance, base, socketPath: address.socketPath, runner: { model: t.model, backend: t.backend, mode: t.mode } };
    });
    const tcp: DirectEndpoint[] = local
      ? c.tcp_ports.map((port) => {
          const host = c.tcp_host.includes(':') ? `[${c.tcp_host}]` : c.tcp_host;
          return { key: `${host}:${port}`, base: `http://${host}:${port}`, socketPath: undefined };
        })
      : [];
    this.fixed = [...targets, ...tcp];
    this.globs = (c.sockets ?? defaultSocketGlobs(opts.modelRunner)).map(parseGlob);
  }

  /** Whether anything can be looked for at all. */
  get enabled(): boolean {
    return this.opts.config.enabled && (this.fixed.length > 0 || this.globs.length > 0);
  }

  /**
   * The pages of the `lacking` runners (listed, not loading, not on the
   * aggregated page) that can be reached, by runnerKey. `listed`: the runnerKey
   * of every runner /engines/ps lists now; any other is forgotten.
   */
  async scrape(lacking: readonly RunningBackend[], listed: ReadonlySet<string>, resourceOf: (key: string) => Resource, nowMs: number): Promise<Map<string, DirectPage>> {
    for (const key of [...this.found.keys()]) if (!listed.has(key)) this.forget(key);
    for (const set of [this.unfound, this.failing]) for (const key of [...set]) if (!listed.has(key)) set.delete(key);
    const out = new Map<string, DirectPage>();
    if (!this.enabled || lacking.length === 0) return out;
    const missing = lacking.filter((r) => !this.found.has(runnerKey(r.backend, r.model, r.mode)));
    if (missing.length > 0) await this.look(missing, resourceOf);
    await Promise.all(
      lacking.map(async (r) => {
        const key = runnerKey(r.backend, r.model, r.mode);
        const found = this.found.get(key);
        if (found === undefined) return;
        try {
          const page = await this.get(found.endpoint, DMR_ENDPOINTS.metrics, SCRAPE_ACCEPT);
          const converted = found.state.convert(page.body, page.contentType, nowMs);
          out.set(key, { scopes: converted.batch.scopeMetrics, samples: converted.samples });
          this.failing.delete(key);
        } catch (err) {
          if (!this.failing.has(key)) {
            this.failing.add(key);
            this.opts.logger.warn('runner scraped directly stopped answering; looking for it again', { runner: describeRunner(r), address: found.endpoint.key, error: (err as Error).message });
          }
          this.forget(key);
        }
      }),
    );
    return out;
  }

  /** Finds where each `missing` runner listens: a configured target, else the address whose /v1/models names its model. */
  private async look(missing: readonly RunningBackend[], resourceOf: (key: string) => Resource): Promise<void> {
    const taken = new Set([...this.found.values()].map((f) => f.endpoint.key));
    const candidates = [...this.fixed, ...(await this.sockets())].filter((e) => !taken.has(e.key));
    const answers = await Promise.all(
      candidates.map(async (endpoint) => {
        if (endpoint.runner !== undefined) return { endpoint, served: [] as string[] };
        try {
          return { endpoint, served: parseServedModels((await this.get(endpoint, RUNNER_MODELS_ENDPOINT, JSON_ACCEPT)).body) };
        } catch {
          return { endpoint, served: [] as string[] };
        }
      }),
    );
    let localModels: LocalModel[] | undefined;
    let askedModels = false;
    for (const runner of missing) {
      const key = runnerKey(runner.backend, runner.model, runner.mode);
      // A model running in two modes (or on two backends) cannot be told apart by its name: only a configured target can.
      const twins = missing.filter((r) => r.model === runner.model).length > 1;
      let match = answers.find((a) => !taken.has(a.endpoint.key) && a.endpoint.runner !== undefined && configuredFor(a.endpoint, runner));
      if (match === undefined && !twins) {
        match = answers.find((a) => !taken.has(a.endpoint.key) && a.endpoint.runner === undefined && servesModel(a.served, runner.model, undefined));
        if (match === undefined && answers.some((a) => a.served.length > 0)) {
          if (!askedModels) {
            askedModels = true;
            localModels = await this.localModels();
          }
          if (localModels !== undefined) {
            match = answers.find((a) => !taken.has(a.endpoint.key) && a.endpoint.runner === undefined && servesModel(a.served, runner.model, localModels));
          }
        }
      }
      if (match === undefined) {
        if (!this.unfound.has(key)) {
          this.unfound.add(key);
          this.opts.logger.info('runner lacking from /metrics not found on its own address', {
            runner: describeRunner(runner),
            looked_at: candidates.map((c) => c.key).join(', ') || 'nowhere',
            ...(twins ? { reason: 'its model runs in several modes: configure direct.targets' } : {}),
          });
        }
        continue;
      }
      taken.add(match.endpoint.key);
      this.unfound.delete(key);
      this.found.set(key, { endpoint: match.endpoint, state: new ScrapeState(resourceOf(key)) });
      this.opts.logger.info('runner lacking from /metrics scraped on its own address', { runner: describeRunner(runner), address: match.endpoint.key });
    }
  }

  private async localModels(): Promise<LocalModel[] | undefined> {
    try {
      return parseLocalModels((await this.opts.askModelRunner(DMR_ENDPOINTS.models)).body);
    } catch {
      return undefined;
    }
  }

  /** Sockets matching the globs now (a missing directory matches nothing). */
  private async sockets(): Promise<DirectEndpoint[]> {
    const out: DirectEndpoint[] = [];
    for (const glob of this.globs) {
      const paths = await expandGlob(glob).catch(() => [] as string[]);
      for (const path of paths) out.push({ key: path, base: 'http://localhost', socketPath: path });
    }
    return out;
  }

  private async get(endpoint: DirectEndpoint, path: string, accept: string): Promise<FetchedPage> {
    const page = await fetchPage({ url: endpoint.base + path, dispatcher: this.agent(endpoint), timeoutMs: this.opts.timeoutMs, bodyLimit: this.opts.bodyLimit, headers: { accept } });
    this.opts.received(page.wireBytes);
    return page;
  }

  private agent(endpoint: DirectEndpoint): Agent {
    const key = endpoint.socketPath ?? 'tcp';
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = createDispatcher(endpoint.socketPath, this.opts.timeoutMs);
      this.agents.set(key, agent);
    }
    return agent;
  }

  private forget(key: string): void {
    const found = this.found.get(key);
    if (found === undefined) return;
    this.found.delete(key);
    const socket = found.endpoint.socketPath;
    if (socket !== undefined) {
      void this.agents.get(socket)?.close().catch(() => undefined);
      this.agents.delete(socket);
    }
  }

  /** Forgets every runner (the model runner went away). */
  reset(): void {
    for (const key of [...this.found.keys()]) this.forget(key);
    this.unfound.clear();
    this.failing.clear();
  }

  async close(): Promise<void> {
    this.found.clear();
    await Promise.all([...this.agents.values()].map((a) => a.close().catch(() => undefined)));
    this.agents.clear();
  }
}

function configuredFor(endpoint: DirectEndpoint, runner: RunningBackend): boolean {
  const want = endpoint.runner!;
  return want.model === runner.model && (want.backend === undefined || want.backend === runner.backend) && (want.mode === undefined || want.mode === runner.mode);
}

function describeRunner(r: RunningBackend): string {
  return `${r.backend} ${r.model}${r.mode ? ` (${r.mode})` : ''}`;
}

/** A model runner on its own socket, or on a loopback address, runs its runners on this machine. */
function isLocal(address: DmrAddress): boolean {
  if (address.socketPath !== undefined) return true;
  const host = new URL(address.base).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}

/**
 * The standalone model runner puts its runners' sockets beside its own
 * (both in its working directory). Docker's own socket (Docker Desktop) says
 * nothing about where they are.
 */
function defaultSocketGlobs(address: DmrAddress): string[] {
  const socket = address.socketPath;
  // Docker's API socket (or pipe), reached with a path prefix, is not the model runner's own.
  if (socket === undefined || !socket.endsWith('.sock') || basename(socket) === 'docker.sock' || new URL(address.base).pathname !== '/') return [];
  return [`${dirname(socket)}/${DMR_RUNNER_SOCKET_GLOB}`];
}

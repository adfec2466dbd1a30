/**
 * The llama.cpp insight of one prometheus-receiver target: after every good
 * scrape of a llama.cpp target (resource `backend` llama.cpp: configured, told by
 * identity, or set by discovery, router models included) it derives the
 * `llamacpp_*` figures and hands them on as a scope of their own beside the
 * page's verbatim `llamacpp:` families.
 *
 * Per scrape it asks only what keeps a sleeping model asleep: `/props` (with
 * `model=ID&autoload=false` for a router's model) and `/v1/models`, never
 * `/slots`. The rest comes from the page just scraped, from /proc for a server
 * on this host, and from the model's GGUF header when its file is readable here.
 * Every source is optional: what one does not give is left out.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Dispatcher } from 'undici';
import { millisToHrTime, type HrTime, type Metric, type ResourceBatch, type ScopeBatch } from '../model/batch.js';
import type { Logger } from '../telemetry/logger.js';
import { fetchPage } from '../receivers/prometheus/fetch.js';
import type { TargetAddress } from '../receivers/prometheus/target.js';
import { ggufNumber, ggufPerLayer, ggufString, readGgufHeader, type GgufHeader } from '../runners/gguf.js';
import {
  childPort,
  isLlamaServerCommandLine,
  kvBytesPerToken,
  kvShape,
  LLAMACPP_BACKEND,
  LLAMACPP_ENDPOINTS,
  LLAMACPP_FAMILIES,
  LLAMACPP_LOADING_STATUS,
  llamacppEndpoint,
  llamacppStatus,
  maxContextTokens,
  parseCommandLine,
  parseModels,
  parseProps,
  requestedModel,
  type KvShape,
  type LlamacppCommandLine,
  type LlamacppModel,
  type LlamacppProps,
} from '../runners/llamacpp.js';
import type { LlamacppInsightConfig } from './config.js';
import { counterRates, type CounterSample } from './counter-rates.js';
import { FirstTokenProbe } from './first-token-probe.js';
import { ProcessFinder, type ListenAddress } from './process-finder.js';
import { cpuPercent, readCommandLine, readProcessSample, readTotalMemory, readWorkingDirectory, type ProcessSample } from './process-stats.js';
import { insightScope, type InsightFigures } from './series.js';
import { gpusOfProcess } from './gpu.js';

/** The most scrapes an endpoint that keeps failing is skipped for, before it is asked again. */
const MAX_SKIPPED_SCRAPES = 32;

/** JSON answers are small; a larger one is not an answer. */
const ANSWER_LIMIT = 4 * 1024 * 1024;
const MAX_ANSWER_TIMEOUT_MS = 2000;

export interface LlamacppInsightOptions {
  readonly address: TargetAddress;
  readonly dispatcher: Dispatcher;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly config: LlamacppInsightConfig;
  readonly logger: Logger;
  /** Where /proc is (tests point it elsewhere). */
  readonly procRoot?: string;
  /** How long one GPU tool reading serves every target (about half the scrape interval). */
  readonly gpuMaxAgeMs?: number;
}

/** The process behind the target, as last read. */
interface ProcessView {
  readonly sample: ProcessSample;
  readonly commandLine: LlamacppCommandLine | undefined;
  readonly cwd: string | undefined;
}

export function isLlamacppBackend(value: unknown): boolean {
  return typeof value === 'string' && (value.toLowerCase() === LLAMACPP_BACKEND || value.toLowerCase() === 'llamacpp');
}

export class LlamacppInsight {
  private previousCounters: CounterSample | undefined;
  private previousProcess: ProcessSample | undefined;
  private readonly finder: ProcessFinder;
  private readonly probe: FirstTokenProbe | undefined;
  private since: HrTime | undefined;
  /** Whether the last good scrape was of a llama.cpp target (decides the loading status of a failed one). */
  private llamacpp = false;
  private gguf: { key: string; shape: KvShape | string } | undefined;
  /** Causes already logged, each once until it clears. */
  private readonly logged = new Set<string>();
  /** Endpoints that keep failing (not a llama-server there, or a broken one), and how many scrapes to skip them. */
  private readonly failing = new Map<string, { failures: number; skip: number }>();

  constructor(private readonly opts: LlamacppInsightOptions) {
    this.finder = new ProcessFinder(opts.procRoot);
    const probe = opts.config.first_token_probe;
    this.probe = probe.enabled
      ? new FirstTokenProbe({
          metricsUrl: opts.address.url,
          dispatcher: opts.dispatcher,
          headers: opts.headers,
          intervalMs: probe.interval,
          timeoutMs: probe.timeout,
          prompt: probe.prompt,
          logger: opts.logger,
          display: opts.address.display,
        })
      : undefined;
  }

  /** The extra scopes for a good scrape's batch (none for a target that is not llama.cpp). Never throws. */
  async augment(batch: ResourceBatch, scrapeTimeMs: number): Promise<ScopeBatch[]> {
    if (!isLlamacppBackend(batch.resource.attributes['backend'])) {
      this.llamacpp = false;
      return [];
    }
    this.llamacpp = true;
    this.probe?.start();
    try {
      const figures = await this.figures(batch, scrapeTimeMs);
      this.since ??= millisToHrTime(scrapeTimeMs);
      return [insightScope(figures, this.since, millisToHrTime(scrapeTimeMs))];
    } catch (err) {
      this.once('insight', 'warn', 'llama.cpp insight failed; its figures are left out', { error: String((err as Error)?.message ?? err) });
      return [];
    }
  }

  /**
   * The scrape failed: rates start again from the next good one. A llama.cpp
   * server answers 503 while its model loads: that is told as status `loading`.
   */
  failed(resource: ResourceBatch['resource'], status: number | undefined, scrapeTimeMs: number): ScopeBatch[] {
    this.previousCounters = undefined;
    this.previousProcess = undefined;
    const llamacpp = this.llamacpp || isLlamacppBackend(resource.attributes['backend']);
    if (!llamacpp || status !== LLAMACPP_LOADING_STATUS) return [];
    const now = millisToHrTime(scrapeTimeMs);
    return [insightScope({ status: 'loading' }, this.since ?? now, now)];
  }

  async stop(): Promise<void> {
    await this.probe?.stop();
  }

  private async figures(batch: ResourceBatch, scrapeTimeMs: number): Promise<InsightFigures> {
    const page = pageValues(batch);
    const counters: CounterSample = {
      atMs: scrapeTimeMs,
      promptTokens: page.get(LLAMACPP_FAMILIES.promptTokens),
      promptSeconds: page.get(LLAMACPP_FAMILIES.promptSeconds),
      predictedTokens: page.get(LLAMACPP_FAMILIES.predictedTokens),
      predictedSeconds: page.get(LLAMACPP_FAMILIES.predictedSeconds),
      decodeCalls: page.get(LLAMACPP_FAMILIES.decodeCalls),
    };
    const rates = counterRates(this.previousCounters, counters);
    this.previousCounters = counters;

    const url = this.opts.address.url;
    const requested = requestedModel(url);
    const [props, models] = await Promise.all([
      this.answer(llamacppEndpoint(url, LLAMACPP_ENDPOINTS.props), parseProps),
      this.answer(llamacppEndpoint(url, LLAMACPP_ENDPOINTS.models), parseModels),
    ]);
    const model = modelEntry(models, requested);
    const proc = this.opts.config.process ? await this.process(requested !== undefined ? model : undefined) : undefined;
    const commandLine = proc?.commandLine ?? (model && model.args.length > 0 ? parseCommandLine(model.args) : undefined);

    const requestsProcessing = page.get(LLAMACPP_FAMILIES.requestsProcessing);
    // b4748 tells the KV cells in use; v0.5.0 only the longest sequence seen (a high-water mark).
    const contextTokens = page.get(LLAMACPP_FAMILIES.kvCacheTokens) ?? page.get(LLAMACPP_FAMILIES.tokensMax);
    const maxContext = props ? maxContextTokens(props, commandLine) : undefined;
    const perToken = await this.kvBytesPerToken(props, proc, commandLine);

    return {
      ...rates,
      firstTokenLatencySeconds: this.probe?.latestSeconds,
      contextSizeTokens: contextTokens,
      maxContextSizeTokens: maxContext,
      kvCacheUsageBytes: perToken !== undefined && contextTokens !== undefined ? contextTokens * perToken : undefined,
      kvCacheLimitBytes: perToken !== undefined && maxContext !== undefined ? maxContext * perToken : undefined,
      modelSizeBytes: model?.sizeBytes,
      modelParameters: model?.params,
      status: llamacppStatus(props, requestsProcessing),
      batchSize: commandLine?.batchSize,
      optimalBatchSize: commandLine?.ubatchSize,
      slotsBusy: requestsProcessing,
      slotsCapacity: props?.totalSlots,
      memoryUsageBytes: proc?.sample.rssBytes,
      totalMemoryBytes: proc ? await readTotalMemory(this.opts.procRoot) : undefined,
      cpuUtilizationPercent: proc ? cpuPercent(this.previousProcessFor(proc), proc.sample) : undefined,
      threadCount: proc?.sample.threads,
      gpus: proc && this.opts.config.gpu ? await this.gpus(proc.sample.pid) : undefined,
    };
  }

  /** The GPUs the server process holds a context on (none without nvidia-smi / rocm-smi on PATH). */
  private async gpus(pid: number): Promise<InsightFigures['gpus']> {
    const gpus = await gpusOfProcess(pid, { maxAgeMs: this.opts.gpuMaxAgeMs ?? 5_000, timeoutMs: this.opts.config.gpu_tool_timeout });
    return gpus.map((g) => ({ attributes: { gpu: String(g.index), vendor: g.vendor }, utilizationPercent: g.utilizationPercent, temperatureCelsius: g.temperatureCelsius }));
  }

  private previousProcessFor(proc: ProcessView): ProcessSample | undefined {
    const before = this.previousProcess;
    this.previousProcess = proc.sample;
    return before;
  }

  /**
   * The llama-server process behind the target, when it runs on this host: the
   * one listening on the target's socket or port, or for a router's model the
   * child process on the port its `status.args` name.
   */
  private async process(routerModel: LlamacppModel | undefined): Promise<ProcessView | undefined> {
    const listen = this.listenAddress(routerModel);
    if (listen === undefined) {
      this.previousProcess = undefined;
      return undefined;
    }
    const procRoot = this.opts.procRoot;
    const pid = await this.finder.find(listen);
    if (pid === undefined) {
      this.previousProcess = undefined;
      this.once('process', 'debug', 'llama.cpp insight: no process of this host listens for the target (or it is not readable)', {});
      return undefined;
    }
    this.logged.delete('process');
    const sample = await readProcessSample(pid, performance.now(), procRoot);
    if (sample === undefined) return undefined;
    const [args, cwd] = await Promise.all([readCommandLine(pid, procRoot), readWorkingDirectory(pid, procRoot)]);
    return { sample, commandLine: args && isLlamaServerCommandLine(args) ? parseCommandLine(args) : undefined, cwd };
  }

  private listenAddress(routerModel: LlamacppModel | undefined): ListenAddress | undefined {
    const a = this.opts.address;
    if (a.socketPath !== undefined) return routerModel ? undefined : { socketPath: a.socketPath };
    const url = new URL(a.url);
    if (!isLocalHost(url.hostname)) return undefined;
    if (routerModel !== undefined) {
      const port = childPort(routerModel);
      return port === undefined || (routerModel.status !== 'loaded' && routerModel.status !== 'sleeping') ? undefined : { port };
    }
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return { port };
  }

  /** KV bytes per token from the GGUF header of the model file `/props` names, if this host can read it. */
  private async kvBytesPerToken(props: LlamacppProps | undefined, proc: ProcessView | undefined, commandLine: LlamacppCommandLine | undefined): Promise<number | undefined> {
    if (!this.opts.config.gguf || props?.modelPath === undefined) return undefined;
    const path = isAbsolute(props.modelPath) ? props.modelPath : proc?.cwd !== undefined ? join(proc.cwd, props.modelPath) : undefined;
    if (path === undefined) return undefined;
    const shape = await this.ggufShape(path);
    if (typeof shape === 'string') return undefined;
    const configured = this.opts.config.kv_cache_type;
    return kvBytesPerToken(shape, commandLine?.cacheTypeK ?? configured, commandLine?.cacheTypeV ?? configured);
  }

  /** The KV shape of a model file, read once per file version (path, size, mtime). */
  private async ggufShape(path: string): Promise<KvShape | string> {
    let key: string;
    try {
      const s = await stat(path);
      key = `${path}\0${s.size}\0${s.mtimeMs}`;
    } catch (err) {
      this.once('gguf', 'debug', 'llama.cpp insight: the model file is not readable on this host', { path, error: (err as NodeJS.ErrnoException).code ?? String(err) });
      return 'not readable';
    }
    if (this.gguf?.key === key) return this.gguf.shape;
    let shape: KvShape | string;
    try {
      shape = kvShape(ggufLookup(await readGgufHeader(path, { maxHeadBytes: this.opts.config.gguf_max_header_bytes })));
    } catch (err) {
      shape = String((err as Error)?.message ?? err);
    }
    if (typeof shape === 'string') this.once('gguf', 'info', 'llama.cpp insight: no KV bytes per token from the GGUF header', { path, reason: shape });
    else this.logged.delete('gguf');
    this.gguf = { key, shape };
    return shape;
  }

  /**
   * One JSON answer, or undefined. An endpoint that fails twice running is
   * skipped for 1, 2, 4 … up to 32 scrapes, then asked again: a target that is
   * no llama-server (or answers those paths with something else) costs a
   * request now and then, not two on every scrape.
   */
  private async answer<T>(url: string, parse: (body: string) => T): Promise<T | undefined> {
    const o = this.opts;
    const failing = this.failing.get(url);
    if (failing !== undefined && failing.skip > 0) {
      failing.skip--;
      return undefined;
    }
    try {
      const page = await fetchPage({
        url,
        dispatcher: o.dispatcher,
        timeoutMs: Math.min(o.timeoutMs, MAX_ANSWER_TIMEOUT_MS),
        bodyLimit: ANSWER_LIMIT,
        headers: { ...o.headers, accept: 'application/json' },
      });
      const answer = parse(page.body);
      this.failing.delete(url);
      return answer;
    } catch {
      // Left out; identity logs what these endpoints answer wrong.
      const failures = (failing?.failures ?? 0) + 1;
      this.failing.set(url, { failures, skip: failures < 2 ? 0 : Math.min(2 ** (failures - 2), MAX_SKIPPED_SCRAPES) });
      return undefined;
    }
  }

  private once(cause: string, level: 'debug' | 'info' | 'warn', msg: string, fields: Record<string, unknown>): void {
    if (this.logged.has(cause)) return;
    this.logged.add(cause);
    this.opts.logger[level](msg, { target: this.opts.address.display, ...fields });
  }
}

/** The router entry of the requested model, or a single server's one entry. */
function modelEntry(models: readonly LlamacppModel[] | undefined, requested: string | undefined): LlamacppModel | undefined {
  if (models === undefined) return undefined;
  if (requested === undefined) return models.length === 1 ? models[0] : undefined;
  return models.find((m) => m.id === requested || m.aliases.includes(requested));
}

/** The value of each unlabelled series of the page (llama-server labels none but one speculative-decoding family). */
export function pageValues(batch: ResourceBatch): Map<string, number> {
  const out = new Map<string, number>();
  for (const sm of batch.scopeMetrics) {
    for (const m of sm.metrics as Metric[]) {
      if (!m.descriptor.name.startsWith('llamacpp:')) continue;
      const point = m.dataPoints[0];
      if (point !== undefined && typeof point.value === 'number' && Object.keys(point.attributes).length === 0) out.set(m.descriptor.name, point.value);
    }
  }
  return out;
}

function ggufLookup(header: GgufHeader) {
  return {
    number: (key: string) => ggufNumber(header, key),
    string: (key: string) => ggufString(header, key),
    perLayer: (key: string, layers: number) => ggufPerLayer(header, key, layers),
    has: (key: string) => header.kv.has(key),
  };
}

/** Whether a target host is this machine: loopback, a wildcard, or one of its interfaces' addresses. */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 0) return false;
  if (host.startsWith('127.') || host === '::1' || host === '0.0.0.0' || host === '::') return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address.toLowerCase() === host));
}

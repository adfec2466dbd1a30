/**
 * What llama.cpp's `llama-server` says about itself, and where: the one place
 * that knows its endpoints and the shape of their answers, for identity today
 * and for discovery and insight later. Checked against real answers of b4748
 * (test/fixtures/llamacpp-real) and v0.5.0, single and router mode
 * (test/fixtures/llamacpp-router).
 *
 * Observing never changes the server's state. `/props`, `/v1/models` and
 * `/metrics` do not wake a sleeping model; `GET /slots` is a task like a
 * completion: it wakes a sleeping model and keeps it awake, so it is never
 * asked. In router mode, `?model=ID` must go with `autoload=false`, or the
 * router loads the model to answer.
 */
import {
  isModelFile,
  isObject,
  modelNameFromPath,
  nameOf,
  parseJsonObject,
  RunnerAnswerError,
  describe,
  type RunnerIdentity,
} from './identity.js';

export const LLAMACPP_BACKEND = 'llama.cpp';

/** Prefix of every family on llama-server's `/metrics`. */
export const LLAMACPP_FAMILY_PREFIX = 'llamacpp:';

export const LLAMACPP_ENDPOINTS = {
  /**
   * Server properties: `model_path` (both versions), `model_alias` (v0.5.0),
   * `build_info`, `is_sleeping` (v0.5.0). A router answers its own:
   * `role: "router"`, `model_alias: "llama-server"`, `model_path: "none"`.
   */
  props: '/props',
  /**
   * OpenAI-style model list: `data[].id` (the `--alias`, else the model path in
   * b4748), `aliases` (v0.5.0), `meta.vocab_type`. A router lists every model it
   * knows, with `status.value`, `status.args` (the child's command line) and
   * `status.preset`.
   */
  models: '/v1/models',
  metrics: '/metrics',
} as const;

/** Never asked: it wakes a sleeping model (v0.5.0 captures, `router-max1…3-bert-sleeping`). */
export const LLAMACPP_WAKING_ENDPOINTS = ['/slots'] as const;

/** llama.cpp's `LLAMA_VOCAB_TYPE_WPM`: WordPiece, the vocabulary of BERT-family encoders. */
const VOCAB_TYPE_WPM = 3;

/** A non-negative whole number, or undefined. */
function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** `GET /props`, as far as identity and insight need it. */
export interface LlamacppProps {
  /** A router answers for itself, not for any one model. */
  readonly router: boolean;
  /** `model_alias` (v0.5.0); absent in b4748. */
  readonly alias: string | undefined;
  /** `model_path`, e.g. `models/tiny-llama-rand.gguf`; `none` on a router. */
  readonly modelPath: string | undefined;
  readonly buildInfo: string | undefined;
  /** `total_slots`: the server's parallel slots (`-np`), both versions. */
  readonly totalSlots: number | undefined;
  /** `default_generation_settings.n_ctx`: the context of one slot, both versions. */
  readonly slotContext: number | undefined;
  /** `is_sleeping` (v0.5.0; b4748 has no idle sleep and no field). */
  readonly sleeping: boolean | undefined;
}

export function parseProps(body: string): LlamacppProps {
  const answer = parseJsonObject(body, LLAMACPP_ENDPOINTS.props);
  // An error answer (b4748 crashes the handler for a vocabulary without BOS: HTTP 500
  // `{"error":{…}}`) is not props, whatever its status.
  if (isObject(answer['error'])) throw new RunnerAnswerError(`${LLAMACPP_ENDPOINTS.props} answered an error object`);
  const router = answer['role'] === 'router';
  const modelPath = nameOf(answer['model_path']);
  const props: LlamacppProps = {
    router,
    alias: router ? undefined : nameOf(answer['model_alias']),
    modelPath: router || modelPath === 'none' ? undefined : modelPath,
    buildInfo: nameOf(answer['build_info']),
    totalSlots: router ? undefined : count(answer['total_slots']),
    slotContext: router ? undefined : count(isObject(answer['default_generation_settings']) ? answer['default_generation_settings']['n_ctx'] : undefined),
    sleeping: typeof answer['is_sleeping'] === 'boolean' ? answer['is_sleeping'] : undefined,
  };
  if (!router && props.alias === undefined && props.modelPath === undefined) {
    throw new RunnerAnswerError(`${LLAMACPP_ENDPOINTS.props} answered neither "model_alias" nor "model_path"`);
  }
  return props;
}

/** One entry of `GET /v1/models`. */
export interface LlamacppModel {
  readonly id: string;
  readonly aliases: readonly string[];
  /** `meta.vocab_type` (llama.cpp's enum): 3 is WordPiece. */
  readonly vocabType: number | undefined;
  /** Router only: `unloaded`, `loading`, `loaded`, `sleeping`. */
  readonly status: string | undefined;
  /** Router only: the child's command line (`status.args`). */
  readonly args: readonly string[];
  /** Router only: the effective preset as INI text (`status.preset`). */
  readonly preset: string | undefined;
  /** `meta.n_params`: the model's parameters (both versions; a router's entry has it while the model runs). */
  readonly params: number | undefined;
  /** `meta.size`: bytes of the model's tensors (both versions; the file is a little larger). */
  readonly sizeBytes: number | undefined;
}

export function parseModels(body: string): LlamacppModel[] {
  const answer = parseJsonObject(body, LLAMACPP_ENDPOINTS.models);
  const data = answer['data'];
  if (!Array.isArray(data)) throw new RunnerAnswerError(`${LLAMACPP_ENDPOINTS.models} answered "data" as ${describe(data)}, not a list`);
  const out: LlamacppModel[] = [];
  for (const entry of data) {
    if (!isObject(entry)) continue;
    const id = nameOf(entry['id']);
    if (id === undefined) continue;
    const meta = isObject(entry['meta']) ? entry['meta'] : {};
    const status = isObject(entry['status']) ? entry['status'] : {};
    const vocab = meta['vocab_type'];
    out.push({
      id,
      aliases: Array.isArray(entry['aliases']) ? entry['aliases'].map(nameOf).filter((a): a is string => a !== undefined) : [],
      vocabType: typeof vocab === 'number' && Number.isInteger(vocab) ? vocab : undefined,
      status: nameOf(status['value']),
      args: Array.isArray(status['args']) ? status['args'].filter((a): a is string => typeof a === 'string') : [],
      preset: typeof status['preset'] === 'string' ? status['preset'] : undefined,
      params: count(meta['n_params']),
      sizeBytes: count(meta['size']),
    });
  }
  if (out.length === 0) throw new RunnerAnswerError(`${LLAMACPP_ENDPOINTS.models} answered no model with an "id"`);
  return out;
}

/**
 * Whether the server (or a router's child) serves embeddings. Neither version's
 * `/props` nor `/v1/models` has a flag for it (b4748 and v0.5.0 answer the same
 * fields, `capabilities: ["completion"]` even for an `--embeddings` server), so
 * it is read from what is there:
 *  - a router entry's child command line (`--embedding`/`--embeddings`) or
 *    preset (`embeddings = true`);
 *  - a WordPiece vocabulary (`meta.vocab_type` 3): BERT-family encoders, which
 *    llama.cpp runs only to embed.
 * An embedding model with another vocabulary (e.g. a Qwen3 embedding model)
 * reads as `completion`: configure `mode` for it.
 */
export function servesEmbeddings(model: LlamacppModel): boolean {
  if (model.args.some((a) => a === '--embedding' || a === '--embeddings')) return true;
  if (model.preset !== undefined && /^\s*embeddings?\s*=\s*(true|1|on)\s*$/im.test(model.preset)) return true;
  return model.vocabType === VOCAB_TYPE_WPM;
}

/** The name a listed model is known by: its id, unless that is a file path (b4748 without `--alias`). */
function listedName(model: LlamacppModel): string | undefined {
  if (!isModelFile(model.id)) return model.id;
  return model.aliases.find((a) => !isModelFile(a)) ?? modelNameFromPath(model.id);
}

/**
 * Identity from the answers that came (either may be missing). `requested` is
 * the `model` a router target's URL names (`/metrics?model=ID&autoload=false`).
 * A router asked for no model answers for itself: it is no one model, so no
 * model or mode is told.
 */
export function llamacppIdentity(
  props: LlamacppProps | undefined,
  models: readonly LlamacppModel[] | undefined,
  requested?: string,
): RunnerIdentity {
  const router = props?.router === true || (models?.some((m) => m.status !== undefined) ?? false);
  if (router) {
    if (requested === undefined) return { backend: LLAMACPP_BACKEND };
    const entry = models?.find((m) => m.id === requested || m.aliases.includes(requested));
    return { backend: LLAMACPP_BACKEND, model: requested, mode: entry ? (servesEmbeddings(entry) ? 'embedding' : 'completion') : undefined };
  }
  const first = models?.[0];
  const model =
    (first && listedName(first)) ??
    (props?.alias !== undefined && !isModelFile(props.alias) ? props.alias : undefined) ??
    (props?.modelPath !== undefined ? modelNameFromPath(props.modelPath) : undefined);
  if (model === undefined) return { backend: LLAMACPP_BACKEND };
  // The signs of embeddings are all in /v1/models: without its answer the mode is not known.
  return { backend: LLAMACPP_BACKEND, model, mode: first === undefined ? undefined : servesEmbeddings(first) ? 'embedding' : 'completion' };
}

/** The endpoint URL for a target whose metrics are at `metricsUrl`: same origin, and a router target's `model` kept. */
export function llamacppEndpoint(metricsUrl: string, path: string): string {
  const base = new URL(metricsUrl);
  const url = new URL(path, base);
  const requested = base.searchParams.get('model');
  // Only /props is per model; /v1/models on a router lists every model without touching any.
  if (requested !== null && path === LLAMACPP_ENDPOINTS.props) {
    url.searchParams.set('model', requested);
    url.searchParams.set('autoload', 'false');
  }
  return url.toString();
}

/** The model a router target's URL names, if any. */
export function requestedModel(metricsUrl: string): string | undefined {
  return nameOf(new URL(metricsUrl).searchParams.get('model') ?? undefined);
}

/** `GET /models` on a router: the same handler as `/v1/models`, one entry per model it knows. */
export const LLAMACPP_ROUTER_MODELS_PATH = '/models';

/** The states a router's `status.value` takes (v0.5.0 captures of every one). */
export const LLAMACPP_ROUTER_STATES = ['unloaded', 'loading', 'loaded', 'sleeping'] as const;
export type LlamacppRouterState = (typeof LLAMACPP_ROUTER_STATES)[number];

export interface LlamacppRouterModel {
  readonly id: string;
  readonly state: LlamacppRouterState;
  /** From the entry's command line, preset or vocabulary (see servesEmbeddings). */
  readonly mode: 'completion' | 'embedding';
  /**
   * The child's own address, from its command line (`--host`, `--port`). The
   * port is only meaningful while the child runs: before the first load it is
   * 0, and after an unload the entry keeps a port nothing listens on.
   */
  readonly child: { readonly host: string; readonly port: number } | undefined;
}

/**
 * A router's `GET /models` answer: each model's id and state. A single-mode
 * server answers the same path without `status`: that is not a router, and
 * neither is an entry whose state this version does not know (it is skipped,
 * so an unknown state never leads to a scrape).
 */
export function parseRouterModels(body: string): LlamacppRouterModel[] {
  const models = parseModels(body);
  if (!models.some((m) => m.status !== undefined)) {
    throw new RunnerAnswerError(`${LLAMACPP_ROUTER_MODELS_PATH} answered no "status": not a router`);
  }
  const out: LlamacppRouterModel[] = [];
  for (const m of models) {
    const state = LLAMACPP_ROUTER_STATES.find((s) => s === m.status);
    if (state !== undefined) out.push({ id: m.id, state, mode: servesEmbeddings(m) ? 'embedding' : 'completion', child: childAddress(m.args) });
  }
  return out;
}

/** Where a child listens, from its command line; llama-server's default host is 127.0.0.1. */
export function childAddress(args: readonly string[]): { host: string; port: number } | undefined {
  const value = (flag: string): string | undefined => {
    for (let i = 1; i < args.length; i++) {
      const a = args[i]!;
      if (a === flag) return args[i + 1];
      if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
    }
    return undefined;
  };
  const portText = value('--port');
  if (portText === undefined || !/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port <= 0 || port > 65535) return undefined;
  let host = value('--host') ?? '127.0.0.1';
  // A child listening on every address is reached on loopback; a socket path is no TCP address.
  if (host === '0.0.0.0' || host === '::' || host === '') host = '127.0.0.1';
  if (host.endsWith('.sock') || host.includes('/')) return undefined;
  return { host, port };
}

/** Whether a model in this state can be scraped without loading it: a child process is running. */
export function routerModelRunning(state: LlamacppRouterState): boolean {
  return state === 'loaded' || state === 'sleeping';
}

/** A router model's metrics path: `autoload=false`, so a scrape never loads it. */
export function routerMetricsPath(basePath: string, model: string): string {
  const prefix = basePath.replace(/\/+$/, '');
  return `${prefix}${LLAMACPP_ENDPOINTS.metrics}?model=${encodeURIComponent(model)}&autoload=false`;
}

/**
 * Whether a `GET /v1/models` answer is llama-server's, and in which mode: its
 * entries are `owned_by: "llamacpp"` and carry `meta` (b4748 and v0.5.0); a
 * router's entries carry `status`. Another server's OpenAI-style list (vLLM,
 * SGLang, Ollama, …) is neither: undefined.
 */
export function llamacppServerMode(body: string): 'single' | 'router' | undefined {
  let models: LlamacppModel[];
  let raw: unknown;
  try {
    models = parseModels(body);
    raw = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (models.some((m) => m.status !== undefined)) return 'router';
  const data = (raw as { data: unknown[] }).data;
  const own = data.some((e) => isObject(e) && (e['owned_by'] === 'llamacpp' || isObject(e['meta'])));
  return own ? 'single' : undefined;
}

// ---------------------------------------------------------------------------
// Insight: what the derived llamacpp_* figures are read from.

/** The `/metrics` families insight reads, by version (b4748 and v0.5.0 unless said). */
export const LLAMACPP_FAMILIES = {
  promptTokens: 'llamacpp:prompt_tokens_total',
  promptSeconds: 'llamacpp:prompt_seconds_total',
  predictedTokens: 'llamacpp:tokens_predicted_total',
  predictedSeconds: 'llamacpp:tokens_predicted_seconds_total',
  decodeCalls: 'llamacpp:n_decode_total',
  requestsProcessing: 'llamacpp:requests_processing',
  /** b4748 only: KV cells in use across all slots, right now. */
  kvCacheTokens: 'llamacpp:kv_cache_tokens',
  /** v0.5.0 only: the longest sequence (prompt + generation) any slot has held since the start. */
  tokensMax: 'llamacpp:n_tokens_max',
} as const;

/** Where the opt-in first-token probe sends its one-token streamed completion (both versions). */
export const LLAMACPP_PROBE_PATH = '/v1/completions';

/** The probe's request body: one token, streamed; a router needs the model named. */
export function probeRequestBody(prompt: string, model: string | undefined): string {
  return JSON.stringify({ ...(model !== undefined ? { model } : {}), prompt, max_tokens: 1, stream: true, temperature: 0 });
}

/** What llama-server's command line says (a local process's /proc/PID/cmdline, or a router entry's `status.args`). */
export interface LlamacppCommandLine {
  readonly port: number | undefined;
  /** `-c`/`--ctx-size`: the whole KV pool (0 = the model's training context). */
  readonly ctxSize: number | undefined;
  /** `-np`/`--parallel`; -1 (v0.5.0's default, "auto") makes 4 slots sharing one unified KV pool. */
  readonly parallel: number | undefined;
  /** `-kvu`/`--kv-unified` (true), `-no-kvu`/`--no-kv-unified` (false). */
  readonly kvUnified: boolean | undefined;
  readonly cacheTypeK: string | undefined;
  readonly cacheTypeV: string | undefined;
  /** `-b`/`--batch-size`: the logical batch, the most tokens one decode call is given. */
  readonly batchSize: number | undefined;
  /** `-ub`/`--ubatch-size`: the physical micro-batch computed in one pass. */
  readonly ubatchSize: number | undefined;
}

const OPTION_NAMES: Record<string, keyof LlamacppCommandLine> = {
  '--port': 'port',
  '-c': 'ctxSize',
  '--ctx-size': 'ctxSize',
  '-np': 'parallel',
  '--parallel': 'parallel',
  '-ctk': 'cacheTypeK',
  '--cache-type-k': 'cacheTypeK',
  '-ctv': 'cacheTypeV',
  '--cache-type-v': 'cacheTypeV',
  '-b': 'batchSize',
  '--batch-size': 'batchSize',
  '-ub': 'ubatchSize',
  '--ubatch-size': 'ubatchSize',
};

/** Reads the options insight needs; `--opt value` and `--opt=value` both count, the last one wins. */
export function parseCommandLine(args: readonly string[]): LlamacppCommandLine {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-kvu' || arg === '--kv-unified') out['kvUnified'] = true;
    else if (arg === '-no-kvu' || arg === '--no-kv-unified') out['kvUnified'] = false;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = OPTION_NAMES[name];
    if (key === undefined) continue;
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) break;
    if (key === 'cacheTypeK' || key === 'cacheTypeV') out[key] = value.toLowerCase();
    else {
      const n = Number(value);
      out[key] = Number.isInteger(n) ? n : undefined;
    }
  }
  return out as unknown as LlamacppCommandLine;
}

/**
 * Whether a process's command line is llama-server's: its program is
 * `llama-server` (or the older `server`), or it names a model (`-m`, `--model`,
 * `-hf`, `--hf-repo`, `--models-dir`, `--models-preset`). Another program
 * listening on the port (a proxy, a wrapper) says nothing about the server's settings.
 */
export function isLlamaServerCommandLine(args: readonly string[]): boolean {
  const program = (args[0] ?? '').split('/').pop() ?? '';
  if (/^llama-server\b|^server$/.test(program)) return true;
  return args.some((a) => ['-m', '--model', '-hf', '--hf-repo', '--models-dir', '--models-preset'].includes(a.split('=')[0]!));
}

/** The port a router child listens on, from its entry's `status.args` (only meaningful while loaded or sleeping). */
export function childPort(model: LlamacppModel): number | undefined {
  const port = parseCommandLine(model.args).port;
  return port !== undefined && port > 0 && port < 65536 ? port : undefined;
}

/**
 * Bytes per element of llama.cpp's KV cache types (`--cache-type-k/-v`; f16 by
 * default). Block-quantised types store 32 elements in a block: q8_0 34 bytes,
 * q4_0 18, q4_1 20, q5_0 22, q5_1 24, iq4_nl 18.
 */
export const KV_CACHE_TYPE_BYTES: Readonly<Record<string, number>> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  q8_0: 34 / 32,
  q4_0: 18 / 32,
  q4_1: 20 / 32,
  q5_0: 22 / 32,
  q5_1: 24 / 32,
  iq4_nl: 18 / 32,
};
export const DEFAULT_KV_CACHE_TYPE = 'f16';

/**
 * Architectures llama.cpp runs without a KV cache (encoders and diffusion
 * models: `llama_model::create_memory` answers none for them in v0.5.0).
 */
export const NO_KV_CACHE_ARCHITECTURES: ReadonlySet<string> = new Set([
  'bert',
  'jina-bert-v2',
  'jina-bert-v3',
  'nomic-bert',
  'nomic-bert-moe',
  'neo-bert',
  'eurobert',
  'modern-bert',
  'gemma-embedding',
  'wavtokenizer-dec',
  'dream',
  'llada',
  'llada-moe',
  'rnd1',
]);

/** What the GGUF header says about a model's KV cache. */
export interface KvShape {
  readonly architecture: string;
  readonly layers: number;
  /** KV heads of each layer. */
  readonly kvHeads: readonly number[];
  readonly keyLength: number;
  readonly valueLength: number;
}

/** Numbers and strings from a GGUF header, as the insight reads them. */
export interface GgufLookup {
  number(key: string): number | undefined;
  string(key: string): string | undefined;
  perLayer(key: string, layers: number): number[] | undefined;
  has(key: string): boolean;
}

/**
 * The KV shape of a model with a plain attention KV cache, or undefined with the
 * reason: no KV cache at all (encoders), a cache that does not grow per token
 * (recurrent/SSM layers) or one stored another way (MLA's compressed latent).
 */
export function kvShape(gguf: GgufLookup): KvShape | string {
  const arch = gguf.string('general.architecture');
  if (arch === undefined) return 'general.architecture is missing';
  if (NO_KV_CACHE_ARCHITECTURES.has(arch)) return `${arch} models have no KV cache`;
  if (gguf.has(`${arch}.ssm.state_size`)) return `${arch} has recurrent (SSM) layers`;
  if (gguf.has(`${arch}.attention.kv_lora_rank`)) return `${arch} stores a compressed (MLA) KV cache`;
  const layers = gguf.number(`${arch}.block_count`);
  const embedding = gguf.number(`${arch}.embedding_length`);
  if (layers === undefined || !(layers > 0)) return `${arch}.block_count is missing`;
  const heads = gguf.perLayer(`${arch}.attention.head_count`, layers);
  if (heads === undefined || heads.some((h) => !(h > 0))) return `${arch}.attention.head_count is missing`;
  const kvHeads = gguf.perLayer(`${arch}.attention.head_count_kv`, layers) ?? heads;
  const headSize = embedding !== undefined ? embedding / heads[0]! : undefined;
  const keyLength = gguf.number(`${arch}.attention.key_length`) ?? headSize;
  const valueLength = gguf.number(`${arch}.attention.value_length`) ?? headSize;
  if (keyLength === undefined || valueLength === undefined) return `${arch}.embedding_length is missing`;
  return { architecture: arch, layers, kvHeads, keyLength, valueLength };
}

/**
 * KV-cache bytes one token (one cell) takes: for every layer a K row of
 * `kvHeads × key_length` elements and a V row of `kvHeads × value_length`,
 * each element the size of its cache type.
 */
export function kvBytesPerToken(shape: KvShape, cacheTypeK = DEFAULT_KV_CACHE_TYPE, cacheTypeV = DEFAULT_KV_CACHE_TYPE): number | undefined {
  const k = KV_CACHE_TYPE_BYTES[cacheTypeK];
  const v = KV_CACHE_TYPE_BYTES[cacheTypeV];
  if (k === undefined || v === undefined) return undefined;
  let bytes = 0;
  for (const heads of shape.kvHeads) bytes += heads * (shape.keyLength * k + shape.valueLength * v);
  return bytes;
}

/**
 * The KV cells the server has across all its slots. Each slot has
 * `default_generation_settings.n_ctx` cells of its own, unless the slots share
 * one unified pool (`--kv-unified`, or v0.5.0's default `-np` auto): then every
 * slot may grow to the whole pool, which is one slot's n_ctx.
 */
export function maxContextTokens(props: LlamacppProps, commandLine: LlamacppCommandLine | undefined): number | undefined {
  if (props.slotContext === undefined || props.totalSlots === undefined) return undefined;
  const unified = commandLine?.kvUnified ?? (commandLine !== undefined && (commandLine.parallel === undefined || commandLine.parallel < 0) && props.totalSlots > 1);
  return unified ? props.slotContext : props.slotContext * props.totalSlots;
}

/** The states of `llamacpp_status`, a stateset. */
export const LLAMACPP_STATUSES = ['idle', 'loading', 'running', 'sleeping'] as const;
export type LlamacppStatus = (typeof LLAMACPP_STATUSES)[number];

/**
 * The server's state: sleeping (`/props` `is_sleeping`, v0.5.0), running (a
 * request in a slot: `requests_processing` > 0) or idle. Without an answer from
 * `/props` a sleeping v0.5.0 server (whose `/metrics` is a cached copy) cannot be
 * told from an idle one: no status then. Loading is told by the failed scrape
 * (HTTP 503 while the model loads), not here.
 */
export function llamacppStatus(props: LlamacppProps | undefined, requestsProcessing: number | undefined): LlamacppStatus | undefined {
  if (props === undefined) return undefined;
  if (props.sleeping === true) return 'sleeping';
  if (requestsProcessing === undefined) return undefined;
  return requestsProcessing > 0 ? 'running' : 'idle';
}

/** llama-server answers HTTP 503 (`Loading model`) on every endpoint while its model loads (both versions). */
export const LLAMACPP_LOADING_STATUS = 503;

/**
 * What Docker Model Runner (DMR) says about itself, and where: the one place
 * that knows its endpoints, where each install listens, and the shape of its
 * answers, for the `docker_model_runner` receiver and for discovery.
 *
 * Where it listens (found the way `docker model` and the model runner find it):
 *  - `MODEL_RUNNER_HOST` set: that base URL (the CLI's "manual" engine).
 *  - `MODEL_RUNNER_PORT` set: TCP `127.0.0.1:$MODEL_RUNNER_PORT` (the standalone
 *    model-runner; Docker Engine's model runner container publishes 12434).
 *  - otherwise the Unix socket `$MODEL_RUNNER_SOCK`, default `model-runner.sock`
 *    in the model runner's working directory (standalone model-runner).
 *  - Docker Desktop: through the Docker socket (`/var/run/docker.sock` on Linux
 *    and WSL, `~/.docker/run/docker.sock` on macOS) with every path under
 *    `/exp/vDD4.40`; or TCP 12434 when "host-side TCP support" is enabled.
 *
 * Where its runners listen (docker/model-runner pkg/inference/scheduling):
 * each runner has a slot, 0 to min(CPUs, 8) − 1. Backends on TCP (SGLang,
 * vllm-metal, diffusers) listen on `127.0.0.1:30000+slot`; the others
 * (llama.cpp, vLLM, MLX) on the Unix socket `inference-runner-<slot>.sock` in
 * the model runner's working directory (the standalone model-runner; Docker
 * Desktop and Docker Engine's container keep it where the host cannot always
 * reach it). /engines/ps does not say which slot a runner has, so a runner
 * found there is recognised by the model it says it serves (`/v1/models`).
 * The aggregated /metrics only ever dials Unix sockets: TCP runners are never
 * on it.
 *
 * Only read-only GETs are listed: asking never loads a model or wakes a runner.
 * Answers seen: test/fixtures/runners/dmr-*.json and dmr-aggregated.prom.
 */

import { describe, isObject, nameOf, parseJson, RunnerAnswerError } from './identity.js';

export const DMR_DEFAULT_SOCKET = 'model-runner.sock';
/** TCP port of Docker Engine's model runner and of Docker Desktop's host-side TCP support. */
export const DMR_DEFAULT_TCP_PORT = 12434;
/** Prefix of every model-runner path on Docker Desktop's Docker socket (`inference.ExperimentalEndpointsPrefix`). */
export const DOCKER_DESKTOP_PREFIX = '/exp/vDD4.40';

export const DMR_ENDPOINTS = {
  /** Runners running now: backend, model, mode, loading, in use, keep-alive, last use. */
  ps: '/engines/ps',
  /** Every runner's llama.cpp page, merged, each series labelled backend, model, mode. */
  metrics: '/metrics',
  /** Backend name → status text ("Running: llama.cpp …", "Not Installed: …"). */
  status: '/engines/status',
  /** Models available locally. */
  models: '/models',
} as const;

/** TCP runners listen on this port plus their slot. */
export const DMR_TCP_RUNNER_BASE_PORT = 30000;
/** Most runner slots a model runner has (`maximumRunnerSlots`). */
export const DMR_MAX_RUNNER_SLOTS = 8;
/** Socket runners' sockets, in the model runner's working directory (`inference-runner-<slot>.sock`). */
export const DMR_RUNNER_SOCKET_GLOB = 'inference-runner-*.sock';
/** What a runner's own server answers with the model names it serves (llama-server, vLLM, SGLang alike). */
export const RUNNER_MODELS_ENDPOINT = '/v1/models';

/** The labels the model runner adds to every series of its aggregated /metrics. */
export const DMR_RUNNER_LABELS = ['backend', 'model', 'mode'] as const;

/** What `/metrics` answers in some versions while no runner is active (and, in some, while runners are loaded). */
export const NO_ACTIVE_RUNNERS = '# No active runners';

/**
 * Where to reach the model runner, from the environment: `MODEL_RUNNER_HOST`
 * (a base URL: what the `docker model` CLI is pointed at by hand), else where
 * the model runner itself listens: TCP `127.0.0.1:$MODEL_RUNNER_PORT` when set,
 * else the Unix socket `$MODEL_RUNNER_SOCK` (default `model-runner.sock`).
 */
export function modelRunnerFromEnv(env: NodeJS.ProcessEnv): { url: string } | { unixSocket: string } {
  const host = env['MODEL_RUNNER_HOST']?.trim();
  if (host) return { url: host };
  const port = env['MODEL_RUNNER_PORT']?.trim();
  if (port) return { url: `http://127.0.0.1:${port}` };
  return { unixSocket: env['MODEL_RUNNER_SOCK']?.trim() || DMR_DEFAULT_SOCKET };
}

/** One entry of `GET /engines/ps`. */
export interface RunningBackend {
  readonly backend: string;
  readonly model: string;
  /** `completion`, `embedding`, `reranking`, …; '' when not given. */
  readonly mode: string;
  readonly loading: boolean;
  readonly inUse: boolean;
  /** `keep_alive` in seconds; undefined when not given or negative (never unloaded). */
  readonly keepAliveSeconds: number | undefined;
  /** `last_used` as epoch ms; undefined for Go's zero time (in use, or never used). */
  readonly lastUsedMs: number | undefined;
}

/** `backend model mode`: identifies a runner in /engines/ps and in /metrics' labels alike. */
export function runnerKey(backend: string, model: string, mode: string): string {
  return JSON.stringify([backend, model, mode]);
}

/** Parses `GET /engines/ps`. Entries without a backend or model are skipped: they cannot be told apart. */
export function parseRunningBackends(body: string): RunningBackend[] {
  const answer = parseJson(body, DMR_ENDPOINTS.ps);
  // Go writes a nil slice as null: no runners.
  if (answer === null) return [];
  if (!Array.isArray(answer)) throw new RunnerAnswerError(`${DMR_ENDPOINTS.ps} answered ${describe(answer)}, not a list`);
  const out: RunningBackend[] = [];
  const seen = new Set<string>();
  for (const entry of answer) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const backend = str(e['backend_name']);
    const model = str(e['model_name']);
    if (!backend || !model) continue;
    const mode = str(e['mode']) ?? '';
    const key = runnerKey(backend, model, mode);
    if (seen.has(key)) continue;
    seen.add(key);
    const keepAlive = typeof e['keep_alive'] === 'string' ? parseGoDuration(e['keep_alive']) : typeof e['keep_alive'] === 'number' ? e['keep_alive'] / 1e9 : undefined;
    out.push({
      backend,
      model,
      mode,
      loading: e['loading'] === true,
      inUse: e['in_use'] === true,
      keepAliveSeconds: keepAlive !== undefined && keepAlive >= 0 ? keepAlive : undefined,
      lastUsedMs: goTime(e['last_used']),
    });
  }
  return out;
}

/** Whether a /metrics body is the model runner's "no runners" answer rather than a page. */
export function isNoActiveRunners(body: string): boolean {
  return body.trimStart().startsWith(NO_ACTIVE_RUNNERS);
}

/** Go's `time.Duration.String()`: `10m0s`, `1h30m`, `500ms`, `-1ns`; undefined when not one. */
export function parseGoDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0' || t === '0s') return 0;
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(t);
  if (!m) return undefined;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let seconds = 0;
  for (const part of t.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) seconds += Number(part[1]) * unit[part[2]!]!;
  return m[1] === '-' ? -seconds : seconds;
}

/** An RFC 3339 time; Go's zero time (`0001-01-01T00:00:00Z`) is absent. */
function goTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

const RUNNER_LABEL_ORDER: ReadonlyMap<string, number> = new Map(DMR_RUNNER_LABELS.map((name, i) => [name, i]));

/**
 * The aggregated /metrics appends backend, model and mode to each series in Go
 * map order, which changes from one scrape to the next. The receiver's series
 * cache is keyed by a series' raw text, so a reordered series would be taken for
 * a new one, its counters' start time moved to every such scrape (a false reset
 * in OTLP). This puts those three labels in one fixed order, after the runner's
 * own labels, whose order is kept; values are copied as written. A line that
 * does not scan is left for the parser to report.
 */
export function canonicalRunnerLabels(body: string): string {
  if (!body.includes('{')) return body;
  const lines = body.split('\n');
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#') || !line.includes('{')) continue;
    const fixed = reorderLine(line);
    if (fixed !== line) {
      lines[i] = fixed;
      changed = true;
    }
  }
  return changed ? lines.join('\n') : body;
}

function reorderLine(line: string): string {
  const open = line.indexOf('{');
  if (open <= 0) return line;
  const pairs: Array<{ name: string; text: string }> = [];
  let i = open + 1;
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') break;
    const eq = line.indexOf('=', i);
    if (eq < 0 || line[eq + 1] !== '"') return line;
    const name = line.slice(i, eq).trim();
    let j = eq + 2;
    while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
    if (j >= line.length) return line;
    pairs.push({ name, text: line.slice(i, j + 1) });
    i = j + 1;
  }
  const close = i;
  let last = -1;
  let inOrder = true;
  let seenRunnerLabel = false;
  for (const p of pairs) {
    const rank = RUNNER_LABEL_ORDER.get(p.name);
    if (rank === undefined) {
      if (seenRunnerLabel) inOrder = false; // a runner's own label after the added ones
      continue;
    }
    seenRunnerLabel = true;
    if (rank < last) inOrder = false;
    last = rank;
  }
  if (inOrder) return line;
  const own = pairs.filter((p) => !RUNNER_LABEL_ORDER.has(p.name));
  const added = pairs.filter((p) => RUNNER_LABEL_ORDER.has(p.name)).sort((a, b) => RUNNER_LABEL_ORDER.get(a.name)! - RUNNER_LABEL_ORDER.get(b.name)!);
  return line.slice(0, open + 1) + [...own, ...added].map((p) => p.text).join(',') + line.slice(close);
}

/** One entry of the model runner's `GET /models`: a local model's ID and its tags. */
export interface LocalModel {
  /** `sha256:<hex>`. */
  readonly id: string;
  readonly tags: readonly string[];
}

/** Parses `GET /models`; entries without an id are skipped. */
export function parseLocalModels(body: string): LocalModel[] {
  const answer = parseJson(body, DMR_ENDPOINTS.models);
  if (answer === null) return [];
  if (!Array.isArray(answer)) throw new RunnerAnswerError(`${DMR_ENDPOINTS.models} answered ${describe(answer)}, not a list`);
  const out: LocalModel[] = [];
  for (const e of answer) {
    if (!isObject(e)) continue;
    const id = nameOf(e['id']);
    if (id === undefined) continue;
    const tags = Array.isArray(e['tags']) ? e['tags'].map(nameOf).filter((t): t is string => t !== undefined) : [];
    out.push({ id, tags });
  }
  return out;
}

/**
 * The names a runner's own server gives for what it serves, from its
 * `/v1/models`: OpenAI's `data[].id` (plus vLLM's `root`, the model path) and
 * llama-server's `models[].model`/`name`. A body that is not such an answer
 * serves nothing.
 */
export function parseServedModels(body: string): string[] {
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return [];
  }
  if (!isObject(answer)) return [];
  const out = new Set<string>();
  const take = (list: unknown, keys: readonly string[]) => {
    if (!Array.isArray(list)) return;
    for (const e of list) {
      if (!isObject(e)) continue;
      for (const k of keys) {
        const v = nameOf(e[k]);
        if (v !== undefined) out.add(v);
      }
    }
  };
  take(answer['data'], ['id', 'root']);
  take(answer['models'], ['model', 'name']);
  return [...out];
}

/** `docker.io/ai/smollm2` and `ai/smollm2:latest` are one reference. */
export function normalizeModelRef(ref: string): string {
  let r = ref.trim().toLowerCase().replace(/^(?:index\.docker\.io|registry-1\.docker\.io|docker\.io)\//, '');
  const last = r.slice(r.lastIndexOf('/') + 1);
  if (!last.includes(':') && !last.includes('@')) r += ':latest';
  return r;
}

const DIGEST = /^sha256:([0-9a-f]{12,64})$/i;

/**
 * Whether a runner's own server (its `/v1/models` names) serves the model
 * /engines/ps lists: by reference (vllm-metal serves the reference as a model
 * name), or by the model's ID digest found in a served name or path (a model
 * started from its bundle). `localModels`, from `GET /models`, maps a reference
 * to its ID; without it only references are compared.
 */
export function servesModel(served: readonly string[], model: string, localModels: readonly LocalModel[] | undefined): boolean {
  const want = normalizeModelRef(model);
  if (served.some((name) => name === model || normalizeModelRef(name) === want)) return true;
  const digests = new Set<string>();
  const own = DIGEST.exec(model);
  if (own) digests.add(own[1]!.toLowerCase());
  for (const m of localModels ?? []) {
    const d = DIGEST.exec(m.id);
    if (d && (m.id === model || m.tags.some((t) => normalizeModelRef(t) === want))) digests.add(d[1]!.toLowerCase());
  }
  if (digests.size === 0) return false;
  return served.some((name) => {
    const lower = name.toLowerCase();
    for (const d of digests) if (lower.includes(d)) return true;
    return false;
  });
}

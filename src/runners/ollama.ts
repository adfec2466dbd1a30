/**
 * What Ollama says about itself, and where: the one place that knows Ollama's
 * endpoints and the shape of their answers, for the `ollama` receiver today and
 * for discovery and identity later.
 *
 * Only read-only GETs are listed: asking Ollama never loads or unloads a model
 * (POST /api/show, /api/generate or /api/chat with no messages would).
 * Shapes: ollama/ollama docs/api.md ("List Running Models", "List Local Models",
 * "Version"). Every field may be missing in some version: a missing or invalid
 * figure is left out (absent, never zero); only an answer that is not the
 * documented object at all is garbage.
 */

import { describe, isObject, parseJson, RunnerAnswerError } from './identity.js';

/** Ollama's default listen address (`OLLAMA_HOST`). */
export const OLLAMA_DEFAULT_URL = 'http://127.0.0.1:11434';

export const OLLAMA_ENDPOINTS = {
  /** Models loaded in memory, with their sizes and expiry. */
  ps: '/api/ps',
  /** Models available locally (pulled). */
  tags: '/api/tags',
  /** `{"version":"0.5.1"}`. */
  version: '/api/version',
  /** Prometheus exposition, only on builds that serve it (`OLLAMA_METRICS=1`); 404 otherwise. */
  metrics: '/metrics',
} as const;

export type OllamaEndpoint = keyof typeof OLLAMA_ENDPOINTS;


/** One entry of `GET /api/ps`. */
export interface LoadedModel {
  /** `name` (or `model`), e.g. `llama3.2:latest`. */
  readonly name: string;
  /** `size`: bytes the loaded model takes in memory, GPU and CPU together. */
  readonly sizeBytes: number | undefined;
  /** `size_vram`: bytes of it in GPU memory. */
  readonly vramBytes: number | undefined;
  /** `context_length`: the context the model was loaded with, in tokens (newer Ollama only). */
  readonly contextLength: number | undefined;
  /** `expires_at` as epoch milliseconds: when Ollama unloads the model if it stays idle. */
  readonly expiresAtMs: number | undefined;
}

/** Parses `GET /api/ps`. Entries without a name are skipped: they cannot be told apart. */
export function parseRunningModels(body: string): LoadedModel[] {
  const models = modelsArray(body, OLLAMA_ENDPOINTS.ps);
  const out: LoadedModel[] = [];
  const seen = new Set<string>();
  for (const entry of models) {
    if (!isObject(entry)) continue;
    const name = modelName(entry);
    if (name === undefined || seen.has(name)) continue;
    seen.add(name);
    out.push({
      name,
      sizeBytes: count(entry['size']),
      vramBytes: count(entry['size_vram']),
      contextLength: positive(entry['context_length']),
      expiresAtMs: timestamp(entry['expires_at']),
    });
  }
  return out;
}

/** Parses `GET /api/tags`: the names of the models available locally. */
export function parseLocalModels(body: string): string[] {
  const names = new Set<string>();
  for (const entry of modelsArray(body, OLLAMA_ENDPOINTS.tags)) {
    const name = isObject(entry) ? modelName(entry) : undefined;
    if (name !== undefined) names.add(name);
  }
  return [...names];
}

/** Parses `GET /api/version`. */
export function parseVersion(body: string): string {
  const answer = parseJson(body, OLLAMA_ENDPOINTS.version);
  const version = isObject(answer) ? answer['version'] : undefined;
  if (typeof version !== 'string' || version.trim() === '') {
    throw new RunnerAnswerError(`${OLLAMA_ENDPOINTS.version} answered without a "version" string`);
  }
  // A version is a short token; anything longer is not one, and would become a label value.
  const trimmed = version.trim();
  if (trimmed.length > 128) throw new RunnerAnswerError(`${OLLAMA_ENDPOINTS.version} answered a "version" of ${trimmed.length} characters`);
  return trimmed;
}

function modelsArray(body: string, endpoint: string): unknown[] {
  const answer = parseJson(body, endpoint);
  if (!isObject(answer)) throw new RunnerAnswerError(`${endpoint} answered ${describe(answer)}, not an object`);
  const models = answer['models'];
  // Go writes an empty slice as `null` when the server never initialised it.
  if (models === null || models === undefined) return [];
  if (!Array.isArray(models)) throw new RunnerAnswerError(`${endpoint} answered "models" as ${describe(models)}, not a list`);
  return models;
}

function modelName(entry: Record<string, unknown>): string | undefined {
  for (const key of ['name', 'model']) {
    const v = entry[key];
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/** A byte count: a finite number ≥ 0. */
function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** A context length: 0 means "not reported" (older Ollama leaves the field at Go's zero value). */
function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * An RFC 3339 time. Go's zero time (`0001-01-01T00:00:00Z`, a model still loading
 * on older Ollama) is no expiry at all, so it counts as absent.
 */
function timestamp(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

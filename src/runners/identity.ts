/**
 * What a runner says about itself: the shared shape of identity answers, and
 * the small helpers every runner kind's parsers use (ollama.ts and
 * docker-model-runner.ts too). Which endpoint says what is kept per runner
 * kind, in llamacpp.ts, vllm.ts, tgi.ts and sglang.ts.
 */

/** The runner kinds whose identity can be asked. */
export const RUNNER_KINDS = ['llamacpp', 'vllm', 'tgi', 'sglang'] as const;
export type RunnerKind = (typeof RUNNER_KINDS)[number];

/** Who a runner is, as far as its answers tell; a field it does not tell is left out. */
export interface RunnerIdentity {
  /** The `backend` attribute value for this kind (`llama.cpp`, `vllm`, …). */
  readonly backend?: string;
  readonly model?: string;
  /** `completion` or `embedding`. */
  readonly mode?: string;
}

/** An answer that is not the documented JSON shape. */
export class RunnerAnswerError extends Error {}

/** A label value is short: a longer "model name" is not one, and would bloat every series. */
const MAX_NAME = 256;

export function parseJson(body: string, endpoint: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new RunnerAnswerError(`${endpoint} answered invalid JSON: ${(err as Error).message}`);
  }
}

export function parseJsonObject(body: string, endpoint: string): Record<string, unknown> {
  const answer = parseJson(body, endpoint);
  if (!isObject(answer)) throw new RunnerAnswerError(`${endpoint} answered ${describe(answer)}, not an object`);
  return answer;
}

/** A usable name: a non-empty string of reasonable length, trimmed. */
export function nameOf(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t !== '' && t.length <= MAX_NAME && !/[\u0000-\u001f]/.test(t) ? t : undefined;
}

/** `models/Qwen2.5-0.5B-Q4_K_M.gguf` → `Qwen2.5-0.5B-Q4_K_M`: the file name a model path is known by. */
export function modelNameFromPath(path: string): string | undefined {
  const base = path.split(/[\\/]/).filter((p) => p !== '').pop();
  if (base === undefined) return undefined;
  return nameOf(base.replace(/\.gguf$/i, ''));
}

/**
 * A name that is really a model file (`models/x.gguf`): what llama-server reports
 * as the model id when started without `--alias`. A Hugging Face repo id
 * (`org/name`) is a name, not a path, and is kept whole.
 */
export function isModelFile(name: string): boolean {
  return /\.gguf$/i.test(name);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

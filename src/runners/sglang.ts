/**
 * What SGLang says about itself, and where. `GET /get_model_info` answers
 * `model_path`, `tokenizer_path`, `is_generation` (false for an embedding or
 * reward model), `preferred_sampling_params`, and in newer versions
 * `weight_version`, `has_image_understanding`, `has_audio_understanding`,
 * `model_type`, `architectures` (sgl-project/sglang
 * `python/sglang/srt/entrypoints/http_server.py`, docs "Native APIs"). Its
 * `/metrics` (with `--enable-metrics`) labels `sglang:` series with
 * `model_name` (the served model name), which is the name the runner itself
 * reports, so it is preferred; `model_path` is the fallback.
 */
import { nameOf, parseJsonObject, RunnerAnswerError, type RunnerIdentity } from './identity.js';

export const SGLANG_BACKEND = 'sglang';
export const SGLANG_FAMILY_PREFIX = 'sglang:';
export const SGLANG_MODEL_LABEL = 'model_name';

export const SGLANG_ENDPOINTS = {
  modelInfo: '/get_model_info',
  metrics: '/metrics',
} as const;

export interface SglangModelInfo {
  readonly modelPath: string | undefined;
  /** False for an embedding (or reward) model. */
  readonly isGeneration: boolean | undefined;
}

export function parseModelInfo(body: string): SglangModelInfo {
  const answer = parseJsonObject(body, SGLANG_ENDPOINTS.modelInfo);
  const modelPath = nameOf(answer['model_path']);
  const g = answer['is_generation'];
  const isGeneration = typeof g === 'boolean' ? g : undefined;
  if (modelPath === undefined && isGeneration === undefined) {
    throw new RunnerAnswerError(`${SGLANG_ENDPOINTS.modelInfo} answered neither "model_path" nor "is_generation"`);
  }
  return { modelPath, isGeneration };
}

export function sglangIdentity(modelNames: readonly string[], info: SglangModelInfo | undefined): RunnerIdentity {
  const model = modelNames.map(nameOf).find((n) => n !== undefined) ?? info?.modelPath;
  const mode = info?.isGeneration === undefined ? undefined : info.isGeneration ? 'completion' : 'embedding';
  return { backend: SGLANG_BACKEND, ...(model !== undefined && { model }), ...(mode !== undefined && { mode }) };
}

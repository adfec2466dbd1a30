/**
 * What vLLM says about itself, and where. Its `/metrics` labels every `vllm:`
 * series with `model_name` (the served model name, `--served-model-name`, else
 * the model path or repo id) and `engine`; nothing on the page or in its JSON API
 * tells a generating model from a pooling one, so vLLM's identity has no mode.
 */
import { nameOf, type RunnerIdentity } from './identity.js';

export const VLLM_BACKEND = 'vllm';
export const VLLM_FAMILY_PREFIX = 'vllm:';
export const VLLM_MODEL_LABEL = 'model_name';

export const VLLM_ENDPOINTS = {
  metrics: '/metrics',
} as const;

/** Identity from the `model_name` label values seen on the page (the first one; vLLM serves one model). */
export function vllmIdentity(modelNames: readonly string[]): RunnerIdentity {
  const model = modelNames.map(nameOf).find((n) => n !== undefined);
  return model === undefined ? { backend: VLLM_BACKEND } : { backend: VLLM_BACKEND, model };
}

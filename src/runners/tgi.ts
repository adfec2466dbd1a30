/**
 * What Hugging Face Text Generation Inference says about itself, and where.
 * `GET /info` is the router's `Info` (huggingface/text-generation-inference
 * `router/src/lib.rs`): `model_id`, `model_sha`, `model_pipeline_tag`, limits,
 * `router`, `version`, `sha`, `docker_label`. TGI only generates, so its mode is
 * `completion`. Its `/metrics` families start with `tgi_` and carry no model label.
 */
import { nameOf, parseJsonObject, RunnerAnswerError, type RunnerIdentity } from './identity.js';

export const TGI_BACKEND = 'tgi';
export const TGI_FAMILY_PREFIX = 'tgi_';

export const TGI_ENDPOINTS = {
  info: '/info',
  metrics: '/metrics',
} as const;

export interface TgiInfo {
  readonly modelId: string;
  readonly version: string | undefined;
}

export function parseInfo(body: string): TgiInfo {
  const answer = parseJsonObject(body, TGI_ENDPOINTS.info);
  const modelId = nameOf(answer['model_id']);
  if (modelId === undefined) throw new RunnerAnswerError(`${TGI_ENDPOINTS.info} answered without a "model_id" string`);
  return { modelId, version: nameOf(answer['version']) };
}

export function tgiIdentity(info: TgiInfo | undefined): RunnerIdentity {
  return info === undefined ? { backend: TGI_BACKEND } : { backend: TGI_BACKEND, model: info.modelId, mode: 'completion' };
}

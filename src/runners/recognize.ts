/**
 * Which runner answers on a port, from its own answers: the questions local
 * discovery may ask (read-only GETs that never load or wake a model, never
 * `/slots`), and how each answer is read. Each question names the runners it
 * can recognise; the runner modules (llamacpp.ts, ollama.ts, …) keep the
 * shapes of the answers.
 */
import { isNoActiveRunners, parseRunningBackends, DMR_DEFAULT_TCP_PORT, DMR_ENDPOINTS } from './docker-model-runner.js';
import { LLAMACPP_ENDPOINTS, LLAMACPP_FAMILY_PREFIX, llamacppServerMode } from './llamacpp.js';
import { OLLAMA_ENDPOINTS, parseVersion } from './ollama.js';
import { parseInfo, TGI_ENDPOINTS, TGI_FAMILY_PREFIX } from './tgi.js';
import { parseModelInfo, SGLANG_ENDPOINTS, SGLANG_FAMILY_PREFIX } from './sglang.js';
import { VLLM_FAMILY_PREFIX } from './vllm.js';

/** Runners local discovery knows, as a port's expected kind (`ollama:11500`). */
export const LOCAL_RUNNER_KINDS = ['llamacpp', 'docker_model_runner', 'ollama', 'vllm', 'tgi', 'sglang', 'triton', 'torchserve'] as const;
export type LocalRunnerKind = (typeof LOCAL_RUNNER_KINDS)[number];
/** What an answer may reveal: a llama-server is a single server or a router. */
export type FoundRunner = LocalRunnerKind | 'llamacpp_router';

/** Where each runner listens by default, on 127.0.0.1. */
export const WELL_KNOWN_PORTS: ReadonlyArray<{ readonly port: number; readonly kind: LocalRunnerKind }> = [
  { port: 8080, kind: 'llamacpp' },
  { port: DMR_DEFAULT_TCP_PORT, kind: 'docker_model_runner' },
  { port: 8000, kind: 'vllm' },
  { port: 8082, kind: 'torchserve' }, // its metrics API
  { port: 30000, kind: 'sglang' },
  { port: 8002, kind: 'triton' }, // its metrics port
  { port: 3000, kind: 'tgi' },
  { port: 11434, kind: 'ollama' },
];

/** Prefix of Triton's families (`nv_inference_request_success`, `nv_gpu_utilization`, …). */
export const TRITON_FAMILY_PREFIX = 'nv_';

export interface Question {
  /** Path asked with GET, under the runner's base URL. */
  readonly path: string;
  /** The runner a 2xx answer shows, or undefined when it is not one this question recognises. */
  recognise(body: string): FoundRunner | undefined;
}

const models: Question = {
  path: LLAMACPP_ENDPOINTS.models,
  recognise: (body) => {
    const mode = llamacppServerMode(body);
    return mode === 'router' ? 'llamacpp_router' : mode === 'single' ? 'llamacpp' : undefined;
  },
};

const ollamaVersion: Question = {
  path: OLLAMA_ENDPOINTS.version,
  recognise: (body) => (attempt(() => parseVersion(body)) === undefined ? undefined : 'ollama'),
};

const enginesPs: Question = {
  path: DMR_ENDPOINTS.ps,
  recognise: (body) => (attempt(() => parseRunningBackends(body)) === undefined ? undefined : 'docker_model_runner'),
};

const tgiInfo: Question = {
  path: TGI_ENDPOINTS.info,
  recognise: (body) => {
    if (attempt(() => parseInfo(body)) === undefined) return undefined;
    // `model_id` alone is too common a field: TGI's Info also names its router.
    const answer = JSON.parse(body) as Record<string, unknown>;
    return typeof answer['router'] === 'string' || typeof answer['max_total_tokens'] === 'number' ? 'tgi' : undefined;
  },
};

const sglangModelInfo: Question = {
  path: SGLANG_ENDPOINTS.modelInfo,
  recognise: (body) => {
    const info = attempt(() => parseModelInfo(body));
    return info?.isGeneration !== undefined && info.modelPath !== undefined ? 'sglang' : undefined;
  },
};

const metrics: Question = { path: LLAMACPP_ENDPOINTS.metrics, recognise: recognisePage };

/** Each kind's own question, asked first on its port; the others follow in this order. */
const FIRST: Readonly<Record<LocalRunnerKind, Question>> = {
  llamacpp: models,
  docker_model_runner: enginesPs,
  ollama: ollamaVersion,
  vllm: metrics,
  tgi: tgiInfo,
  sglang: sglangModelInfo,
  triton: metrics,
  torchserve: metrics,
};
const ORDER: readonly Question[] = [models, ollamaVersion, metrics, enginesPs, tgiInfo, sglangModelInfo];

/** The questions for a port, the expected runner's first. */
export function questionsFor(expected: LocalRunnerKind | undefined): readonly Question[] {
  if (expected === undefined) return ORDER;
  const first = FIRST[expected];
  return [first, ...ORDER.filter((q) => q !== first)];
}

/** Only the model runner's question: for Docker Desktop's Docker socket, which serves the Docker API besides. */
export const MODEL_RUNNER_ONLY: readonly Question[] = [enginesPs];

/**
 * A `/metrics` page's runner, from its first series' family prefix. Docker
 * Model Runner's aggregate labels llama.cpp series with `model` (or says
 * `# No active runners`); TorchServe names families without a prefix but says
 * so in their HELP.
 */
export function recognisePage(body: string): FoundRunner | undefined {
  if (isNoActiveRunners(body)) return 'docker_model_runner';
  for (const line of body.split('\n', 2000)) {
    if (line.startsWith('# HELP ') && / Torchserve /i.test(line)) return 'torchserve';
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith(LLAMACPP_FAMILY_PREFIX)) return /[{,]\s*model="/.test(line) ? 'docker_model_runner' : 'llamacpp';
    if (line.startsWith(VLLM_FAMILY_PREFIX)) return 'vllm';
    if (line.startsWith(SGLANG_FAMILY_PREFIX)) return 'sglang';
    if (line.startsWith(TGI_FAMILY_PREFIX)) return 'tgi';
    if (line.startsWith(TRITON_FAMILY_PREFIX)) return 'triton';
    if (line.startsWith('ts_')) return 'torchserve';
  }
  return undefined;
}

function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Whether a value from the config is a kind local discovery knows. */
export function isLocalRunnerKind(v: string): v is LocalRunnerKind {
  return (LOCAL_RUNNER_KINDS as readonly string[]).includes(v);
}


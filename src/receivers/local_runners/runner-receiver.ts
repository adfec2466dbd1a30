/**
 * The receiver that scrapes a runner local discovery found, built from the
 * existing receivers' own configs (as the Collector's receiver_creator does):
 *  - a llama-server, vLLM, TGI, SGLang, Triton or TorchServe: a `prometheus`
 *    receiver with one target, whose identity (model, mode) is asked of the runner;
 *  - a llama.cpp router: a `prometheus` receiver with `llamacpp_router_sd`, one
 *    target per loaded or sleeping model (`autoload=false`);
 *  - Ollama: an `ollama` receiver; Docker Model Runner: a `docker_model_runner` one.
 */
import type { ComponentContext, Consumer, Receiver } from '../../component.js';
import { formatDuration } from '../../config/duration.js';
import { LLAMACPP_BACKEND } from '../../runners/llamacpp.js';
import { RUNNER_KINDS, type RunnerKind } from '../../runners/identity.js';
import type { FoundRunner } from '../../runners/recognize.js';
import { prometheusReceiverConfigSchema } from '../prometheus/config.js';
import { PrometheusReceiver } from '../prometheus/index.js';
import { ollamaReceiverConfigSchema } from '../ollama/config.js';
import { OllamaReceiver } from '../ollama/index.js';
import { dmrReceiverConfigSchema } from '../docker_model_runner/config.js';
import { DmrReceiver } from '../docker_model_runner/index.js';
import type { Candidate } from '../../discovery/local/candidates.js';

/** The `backend` attribute of each one-model runner found. */
const BACKEND: Partial<Record<FoundRunner, string>> = {
  llamacpp: LLAMACPP_BACKEND,
  vllm: 'vllm',
  tgi: 'tgi',
  sglang: 'sglang',
  triton: 'triton',
  torchserve: 'torchserve',
};

/** Attributes a runner serving several models sets per model itself. */
const PER_MODEL = ['backend', 'model', 'mode'];

export interface RunnerReceiverSettings {
  readonly intervalMs: number;
  readonly scrapeTimeoutMs: number;
}

/** Why a runner found cannot be scraped this way (e.g. a router on a Unix socket), or undefined. */
export function unsupported(candidate: Candidate, runner: FoundRunner): string | undefined {
  if ('socketPath' in candidate.address && (runner === 'llamacpp_router' || runner === 'ollama')) {
    return `a ${runner === 'ollama' ? 'Ollama' : 'llama.cpp router'} is watched over TCP only`;
  }
  return undefined;
}

export function createRunnerReceiver(
  candidate: Candidate,
  runner: FoundRunner,
  settings: RunnerReceiverSettings,
  context: ComponentContext,
  next: Consumer,
): Receiver {
  const interval = formatDuration(settings.intervalMs);
  const timeout = formatDuration(Math.min(settings.scrapeTimeoutMs, settings.intervalMs));
  const socket = 'socketPath' in candidate.address ? candidate.address.socketPath : undefined;
  const shared = Object.fromEntries(Object.entries(candidate.attributes).filter(([k]) => !PER_MODEL.includes(k)));
  switch (runner) {
    case 'llamacpp_router': {
      const config = prometheusReceiverConfigSchema.parse({
        scrape_interval: interval,
        scrape_timeout: timeout,
        llamacpp_router_sd_configs: [{ url: candidate.base, refresh_interval: interval }],
      });
      return new PrometheusReceiver(config, context, next);
    }
    case 'ollama': {
      const config = ollamaReceiverConfigSchema.parse({ scrape_interval: interval, scrape_timeout: timeout, targets: [{ url: candidate.base, attributes: shared }] });
      return new OllamaReceiver(config, context, next);
    }
    case 'docker_model_runner': {
      const where = socket !== undefined ? { unix_socket: socket } : { url: candidate.base.slice(0, candidate.base.length - candidate.pathPrefix.length) };
      const config = dmrReceiverConfigSchema.parse({ scrape_interval: interval, scrape_timeout: timeout, path_prefix: candidate.pathPrefix, attributes: shared, ...where });
      return new DmrReceiver(config, context, next);
    }
    default: {
      const kind = runner as RunnerKind;
      const target = {
        ...(socket !== undefined ? { unix_socket: socket, path: `${candidate.pathPrefix}/metrics` } : { url: `${candidate.base}/metrics` }),
        runner: (RUNNER_KINDS as readonly string[]).includes(kind) ? kind : 'none',
        attributes: { backend: BACKEND[runner]!, ...candidate.attributes },
      };
      const config = prometheusReceiverConfigSchema.parse({ scrape_interval: interval, scrape_timeout: timeout, targets: [target] });
      return new PrometheusReceiver(config, context, next);
    }
  }
}

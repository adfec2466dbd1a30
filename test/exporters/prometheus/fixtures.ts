/** Two llama.cpp-like resources sharing families, a histogram and a summary. */
import type { Attributes } from '@opentelemetry/api';
import type { Batch, ResourceBatch } from '../../../src/model/batch.js';
import { counter, gauge, histogram, resourceBatch, summary } from './batches.js';

export const COMPLETION: Attributes = {
  backend: 'llama.cpp',
  model: 'qwen3',
  mode: 'completion',
  'service.name': 'llama-server',
  'server.address': '127.0.0.1:8080',
};

export const EMBEDDING: Attributes = {
  backend: 'llama.cpp',
  model: 'gemma',
  mode: 'embedding',
  'service.name': 'llama-server',
  'server.address': '127.0.0.1:8081',
};

/** Point attribute objects are shared between snapshots, as receivers share them for unchanged series. */
const NO_LABELS: Attributes = {};
const LATENCY_LABELS: Attributes = { model_name: 'qwen3' };

export function completionBatch(promptTokens = 120): ResourceBatch {
  return resourceBatch(COMPLETION, [
    counter('llamacpp:prompt_tokens_total', 'Number of prompt tokens processed.', [[NO_LABELS, promptTokens]]),
    gauge('llamacpp:requests_processing', 'Number of requests processing.', [[NO_LABELS, 1]]),
    histogram('vllm:e2e_request_latency_seconds', 'Request latency.', [
      [LATENCY_LABELS, { boundaries: [0.5, 1], counts: [1, 2, 3], sum: 10.5 }],
    ]),
  ]);
}

export function embeddingBatch(): ResourceBatch {
  return resourceBatch(EMBEDDING, [
    counter('llamacpp:prompt_tokens_total', 'Number of prompt tokens processed.', [[NO_LABELS, 40]]),
    gauge('llamacpp:requests_processing', 'Number of requests processing.', [[NO_LABELS, 0]]),
    summary('rpc_duration_seconds', 'RPC latency.', [
      [{}, { sum: 12, count: 30, quantiles: [{ quantile: 0.5, value: 0.2 }, { quantile: 0.9, value: 0.7 }] }],
    ]),
  ]);
}

export function bothBatches(): Batch {
  return [completionBatch(), embeddingBatch()];
}

const C = 'backend="llama.cpp",model="qwen3",mode="completion"';
const E = 'backend="llama.cpp",model="gemma",mode="embedding"';

export const EXPECTED_TEXT = `# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total{${C}} 120
llamacpp:prompt_tokens_total{${E}} 40
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing{${C}} 1
llamacpp:requests_processing{${E}} 0
# HELP rpc_duration_seconds RPC latency.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{${E},quantile="0.5"} 0.2
rpc_duration_seconds{${E},quantile="0.9"} 0.7
rpc_duration_seconds_sum{${E}} 12
rpc_duration_seconds_count{${E}} 30
# HELP vllm:e2e_request_latency_seconds Request latency.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{model_name="qwen3",${C},le="0.5"} 1
vllm:e2e_request_latency_seconds_bucket{model_name="qwen3",${C},le="1"} 3
vllm:e2e_request_latency_seconds_bucket{model_name="qwen3",${C},le="+Inf"} 6
vllm:e2e_request_latency_seconds_sum{model_name="qwen3",${C}} 10.5
vllm:e2e_request_latency_seconds_count{model_name="qwen3",${C}} 6
`;

/**
 * The derived llama.cpp families: names, help texts and units in one place, and
 * the metrics of one snapshot. A figure that is not known is left out, never
 * written as 0. Served next to the runner's verbatim `llamacpp:` families, under
 * a scope of their own.
 */
import { ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type Attributes,
  type HrTime,
  type Metric,
  type MetricDescriptor,
  type ScopeBatch,
} from '../model/batch.js';
import { VERSION } from '../version.js';
import { LLAMACPP_STATUSES, type LlamacppStatus } from '../runners/llamacpp.js';

export const INSIGHT_SCOPE = { name: 'runner-metrics/insight/llamacpp', version: VERSION };

function family(name: string, description: string, unit: string): MetricDescriptor {
  return { name, description, unit, valueType: ValueType.DOUBLE };
}

export const INSIGHT_FAMILIES = {
  tokensPerSecond: family('llamacpp_tokens_per_second', 'Tokens per second between the last two scrapes, from the growth of llamacpp:tokens_predicted_total (kind="generation") and llamacpp:prompt_tokens_total (kind="prompt").', '{token}/s'),
  batchLatency: family('llamacpp_batch_latency_seconds', 'Seconds per llama_decode() call between the last two scrapes: growth of prompt_seconds_total + tokens_predicted_seconds_total over growth of n_decode_total.', 's'),
  firstTokenLatency: family('llamacpp_first_token_latency_seconds', 'Seconds to the first token of the opt-in probe (a one-token streamed completion).', 's'),
  contextSize: family('llamacpp_context_size_tokens', 'Context tokens in use: llamacpp:kv_cache_tokens (b4748), else the high-water mark llamacpp:n_tokens_max (v0.5.0).', '{token}'),
  maxContextSize: family('llamacpp_max_context_size_tokens', 'KV cells the server has across its slots: /props n_ctx per slot x total_slots (one slot\'s n_ctx with a unified KV cache).', '{token}'),
  kvCacheUsage: family('llamacpp_kv_cache_usage_bytes', 'KV-cache bytes in use: llamacpp_context_size_tokens x KV bytes per token from the model\'s GGUF header.', 'By'),
  kvCacheLimit: family('llamacpp_kv_cache_limit_bytes', 'KV-cache bytes of the whole context: llamacpp_max_context_size_tokens x KV bytes per token from the model\'s GGUF header.', 'By'),
  modelSize: family('llamacpp_model_size_bytes', 'Bytes of the model\'s tensors (/v1/models meta.size).', 'By'),
  modelParameters: family('llamacpp_model_parameters', 'Parameters of the model (/v1/models meta.n_params).', '{parameter}'),
  status: family('llamacpp_status', 'State of the server (a stateset): 1 for the current of idle, loading, running, sleeping; 0 for the others.', ''),
  batchSize: family('llamacpp_batch_size', 'Logical batch size, the most tokens one decode call is given (-b/--batch-size on the server\'s command line).', '{token}'),
  optimalBatchSize: family('llamacpp_optimal_batch_size', 'Physical micro-batch size, the tokens computed in one pass (-ub/--ubatch-size on the server\'s command line).', '{token}'),
  slotsBusy: family('llamacpp_slots_busy', 'Slots processing a request (llamacpp:requests_processing).', '{slot}'),
  slotsCapacity: family('llamacpp_slots_capacity', 'Slots of the server (/props total_slots).', '{slot}'),
  memoryUsage: family('llamacpp_memory_usage_bytes', 'Resident memory (RSS) of the llama-server process (/proc/PID/status VmRSS).', 'By'),
  totalMemory: family('llamacpp_total_memory_bytes', 'Memory of the machine the llama-server process runs on (/proc/meminfo MemTotal).', 'By'),
  cpuUtilization: family('llamacpp_cpu_utilization_percent', 'CPU time of the llama-server process per wall time between the last two scrapes, in percent of one core (utime+stime from /proc/PID/stat).', '%'),
  threadCount: family('llamacpp_thread_count', 'Threads of the llama-server process (/proc/PID/status Threads).', '{thread}'),
  gpuUtilization: family('llamacpp_gpu_utilization_percent', 'Utilisation of the GPU the llama-server process uses, in percent.', '%'),
  temperature: family('llamacpp_temperature_celsius', 'Temperature of the GPU the llama-server process uses.', 'Cel'),
} as const;

export type InsightFamily = keyof typeof INSIGHT_FAMILIES;

/** Every figure of one snapshot; undefined = not known, left out. */
export interface InsightFigures {
  readonly generationTokensPerSecond?: number | undefined;
  readonly promptTokensPerSecond?: number | undefined;
  readonly batchLatencySeconds?: number | undefined;
  readonly firstTokenLatencySeconds?: number | undefined;
  readonly contextSizeTokens?: number | undefined;
  readonly maxContextSizeTokens?: number | undefined;
  readonly kvCacheUsageBytes?: number | undefined;
  readonly kvCacheLimitBytes?: number | undefined;
  readonly modelSizeBytes?: number | undefined;
  readonly modelParameters?: number | undefined;
  readonly status?: LlamacppStatus | undefined;
  readonly batchSize?: number | undefined;
  readonly optimalBatchSize?: number | undefined;
  readonly slotsBusy?: number | undefined;
  readonly slotsCapacity?: number | undefined;
  readonly memoryUsageBytes?: number | undefined;
  readonly totalMemoryBytes?: number | undefined;
  readonly cpuUtilizationPercent?: number | undefined;
  readonly threadCount?: number | undefined;
  /** Per GPU the process uses: `gpu` (index) label and values. */
  readonly gpus?: ReadonlyArray<{ readonly attributes: Attributes; readonly utilizationPercent?: number | undefined; readonly temperatureCelsius?: number | undefined }>;
}

const NO_ATTRIBUTES: Attributes = Object.freeze({}) as Attributes;
const KIND_GENERATION: Attributes = Object.freeze({ kind: 'generation' });
const KIND_PROMPT: Attributes = Object.freeze({ kind: 'prompt' });
const STATUS_ATTRIBUTES: Readonly<Record<string, Attributes>> = Object.fromEntries(LLAMACPP_STATUSES.map((s) => [s, Object.freeze({ status: s })]));

/** The insight's scope for one snapshot; empty when nothing is known. */
export function insightScope(f: InsightFigures, startTime: HrTime, now: HrTime): ScopeBatch {
  const metrics: Metric[] = [];
  const add = (descriptor: MetricDescriptor, points: Array<[Attributes, number | undefined]>) => {
    const dataPoints = points
      .filter((p): p is [Attributes, number] => p[1] !== undefined && Number.isFinite(p[1]))
      .map(([attributes, value]) => ({ startTime, endTime: now, attributes, value }));
    if (dataPoints.length === 0) return;
    metrics.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints, prometheus: { type: 'gauge' } });
  };
  const F = INSIGHT_FAMILIES;
  add(F.tokensPerSecond, [[KIND_GENERATION, f.generationTokensPerSecond], [KIND_PROMPT, f.promptTokensPerSecond]]);
  add(F.batchLatency, [[NO_ATTRIBUTES, f.batchLatencySeconds]]);
  add(F.firstTokenLatency, [[NO_ATTRIBUTES, f.firstTokenLatencySeconds]]);
  add(F.contextSize, [[NO_ATTRIBUTES, f.contextSizeTokens]]);
  add(F.maxContextSize, [[NO_ATTRIBUTES, f.maxContextSizeTokens]]);
  add(F.kvCacheUsage, [[NO_ATTRIBUTES, f.kvCacheUsageBytes]]);
  add(F.kvCacheLimit, [[NO_ATTRIBUTES, f.kvCacheLimitBytes]]);
  add(F.modelSize, [[NO_ATTRIBUTES, f.modelSizeBytes]]);
  add(F.modelParameters, [[NO_ATTRIBUTES, f.modelParameters]]);
  if (f.status !== undefined) add(F.status, LLAMACPP_STATUSES.map((s) => [STATUS_ATTRIBUTES[s]!, s === f.status ? 1 : 0]));
  add(F.batchSize, [[NO_ATTRIBUTES, f.batchSize]]);
  add(F.optimalBatchSize, [[NO_ATTRIBUTES, f.optimalBatchSize]]);
  add(F.slotsBusy, [[NO_ATTRIBUTES, f.slotsBusy]]);
  add(F.slotsCapacity, [[NO_ATTRIBUTES, f.slotsCapacity]]);
  add(F.memoryUsage, [[NO_ATTRIBUTES, f.memoryUsageBytes]]);
  add(F.totalMemory, [[NO_ATTRIBUTES, f.totalMemoryBytes]]);
  add(F.cpuUtilization, [[NO_ATTRIBUTES, f.cpuUtilizationPercent]]);
  add(F.threadCount, [[NO_ATTRIBUTES, f.threadCount]]);
  if (f.gpus !== undefined) {
    add(F.gpuUtilization, f.gpus.map((g) => [g.attributes, g.utilizationPercent]));
    add(F.temperature, f.gpus.map((g) => [g.attributes, g.temperatureCelsius]));
  }
  return { scope: INSIGHT_SCOPE, metrics };
}

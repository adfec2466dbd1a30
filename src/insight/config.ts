/** The `llamacpp_insight` section of the prometheus receiver: the derived llama.cpp figures of every llama.cpp target. */
import { z } from 'zod';
import { byteSize, positiveDuration } from '../config/schema-helpers.js';
import { KV_CACHE_TYPE_BYTES } from '../runners/llamacpp.js';

const cacheType = z
  .string()
  .refine((t) => Object.hasOwn(KV_CACHE_TYPE_BYTES, t.toLowerCase()), {
    message: `a KV cache type: ${Object.keys(KV_CACHE_TYPE_BYTES).join(', ')}`,
  })
  .transform((t) => t.toLowerCase());

export const firstTokenProbeSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Send each llama.cpp target a one-token streamed completion every `interval` and time its first token. Adds load, and keeps a sleeping model awake.'),
    interval: positiveDuration().default(60_000).describe('How often to probe.'),
    timeout: positiveDuration().default(10_000).describe('Give up on a probe after this long (no figure then).'),
    prompt: z.string().min(1).default('Hello').describe('The prompt sent.'),
  })
  .describe('The opt-in first-token latency probe (llamacpp_first_token_latency_seconds); off by default.');

export const llamacppInsightSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve the derived llamacpp_* figures next to the llamacpp: families of every llama.cpp target (backend llama.cpp).'),
    process: z.boolean().default(true).describe('Read the llama-server process of a target on this host from /proc (memory, CPU, threads, command line).'),
    gpu: z
      .boolean()
      .default(true)
      .describe('Read the GPUs the llama-server process uses from nvidia-smi / rocm-smi on PATH (one run per period shared by all targets).'),
    gpu_tool_timeout: positiveDuration().default(5_000).describe('A GPU tool run is killed after this long (no GPU figures then).'),
    gguf: z.boolean().default(true).describe("Read the model's GGUF header (when /props model_path is readable here) for the KV-cache bytes per token."),
    gguf_max_header_bytes: byteSize().default(64 * 1024 * 1024).describe('A GGUF header longer than this is not read.'),
    kv_cache_type: cacheType
      .optional()
      .describe('KV cache type for the byte figures when the command line does not say (-ctk/-ctv): f16 (llama.cpp\'s default), f32, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl.'),
    first_token_probe: firstTokenProbeSchema.prefault({}),
  })
  .describe('Derived llama.cpp figures (tokens/s, KV cache, status, process, …), see src/insight/README.md.');

export type LlamacppInsightConfig = z.output<typeof llamacppInsightSchema>;

export const DEFAULT_INSIGHT_CONFIG: LlamacppInsightConfig = llamacppInsightSchema.parse({});

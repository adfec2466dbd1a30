/** Config of the `docker_model_runner` receiver; README.md documents every key. */
import { z } from 'zod';
import { attributeValue, byteSize, componentConfig, httpHeaders, positiveDuration } from '../../config/schema-helpers.js';
import { DMR_RUNNER_LABELS } from '../../runners/docker-model-runner.js';
import { resolveDmrTarget } from './target.js';

export const dmrReceiverConfigSchema = componentConfig({
  scrape_interval: positiveDuration().default(15_000).describe('How often the model runner is asked.'),
  scrape_timeout: positiveDuration().default(3_000).describe('Give up on a request after this long (capped at scrape_interval).'),
  body_size_limit: byteSize().default(16 * 1024 * 1024).describe('Larger answers fail (uncompressed size). 0 = no limit.'),
  url: z
    .string()
    .optional()
    .describe('TCP base URL of the model runner (e.g. http://127.0.0.1:12434). Port 0 means "not on TCP": unix_socket is used. Unset with unix_socket unset: MODEL_RUNNER_PORT, else MODEL_RUNNER_SOCK, else model-runner.sock.'),
  unix_socket: z.string().optional().describe('Unix socket of the model runner (model-runner.sock; Docker Desktop: the Docker socket with path_prefix /exp/vDD4.40).'),
  path_prefix: z
    .string()
    .default('')
    .refine((p) => p === '' || (p.startsWith('/') && !p.includes('?')), { message: 'must be empty or a path starting with / (Docker Desktop: /exp/vDD4.40)' })
    .describe('Put before every path: /exp/vDD4.40 on Docker Desktop\'s Docker socket.'),
  metrics: z.boolean().default(true).describe('Scrape the aggregated /metrics page (every llama.cpp runner, labelled backend/model/mode).'),
  headers: httpHeaders().default({}).describe('Extra request headers.'),
  attributes: z
    .record(z.string(), attributeValue)
    .default({})
    .superRefine((attributes, ctx) => {
      for (const key of DMR_RUNNER_LABELS) {
        if (key in attributes) ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" comes from the model runner for each runner; remove it here` });
      }
    })
    .describe('Resource attributes of the model runner and of each of its runners.'),
}).superRefine((config, ctx) => {
  try {
    resolveDmrTarget(config, {});
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message, path: config.url !== undefined ? ['url'] : [] });
  }
});

export type DmrReceiverConfig = z.output<typeof dmrReceiverConfigSchema>;

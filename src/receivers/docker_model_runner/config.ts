/** Config of the `docker_model_runner` receiver; README.md documents every key. */
import { z } from 'zod';
import { attributeValue, byteSize, componentConfig, httpHeaders, positiveDuration } from '../../config/schema-helpers.js';
import { DMR_MAX_RUNNER_SLOTS, DMR_RUNNER_LABELS, DMR_TCP_RUNNER_BASE_PORT } from '../../runners/docker-model-runner.js';
import { socketGlobProblem } from '../../discovery/socket-sd.js';
import { resolveDmrTarget } from './target.js';
import { resolveTarget } from '../prometheus/target.js';

const DEFAULT_TCP_PORTS = Array.from({ length: DMR_MAX_RUNNER_SLOTS }, (_, slot) => DMR_TCP_RUNNER_BASE_PORT + slot);

const directTargetSchema = z
  .object({
    url: z.string().optional().describe('TCP base URL of the runner (e.g. http://127.0.0.1:30000).'),
    unix_socket: z.string().optional().describe('Unix socket of the runner.'),
    model: z.string().min(1).describe('The model /engines/ps lists for this runner.'),
    backend: z.string().min(1).optional().describe('Its backend, when the model runs on several.'),
    mode: z.string().min(1).optional().describe('Its mode, when the model runs in several.'),
  })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.url === undefined) === (t.unix_socket === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of url and unix_socket' });
      return;
    }
    try {
      resolveTarget({ url: t.url, unix_socket: t.unix_socket, path: '/', attributes: {} }, '/');
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message, path: ['url'] });
    }
  });

/** Scraping a runner on its own address when the aggregated /metrics lacks it; README.md, "Runners scraped directly". */
export const dmrDirectConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Scrape a runner that /metrics lacks on its own address, when it can be found.'),
    tcp_host: z.string().min(1).default('127.0.0.1').describe('Host of the TCP runners (SGLang, vllm-metal, diffusers).'),
    tcp_ports: z
      .array(z.number().int().min(1).max(65535))
      .default(DEFAULT_TCP_PORTS)
      .describe('Ports of the TCP runners: 30000 + slot. Asked only while the model runner is on this machine.'),
    sockets: z
      .array(z.string().superRefine((p, ctx) => {
        const problem = socketGlobProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }))
      .optional()
      .describe('Globs of runner sockets. Unset: inference-runner-*.sock beside the model runner\'s own socket.'),
    targets: z.array(directTargetSchema).default([]).describe('Runners whose address is known: no need to recognise them.'),
  })
  .strict();

export type DmrDirectConfig = z.output<typeof dmrDirectConfigSchema>;

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
  direct: dmrDirectConfigSchema.optional().describe('Runners that /metrics lacks, scraped on their own address.'),
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

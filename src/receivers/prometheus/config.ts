import { z } from 'zod';
import { attributeValue, byteSize, componentConfig, httpHeaders, positiveDuration } from '../../config/schema-helpers.js';
import { fileSdPathProblem } from '../../discovery/file-sd.js';
import { socketGlobProblem } from '../../discovery/socket-sd.js';
import {
  DEFAULT_LABEL_LIMIT,
  DEFAULT_LABEL_NAME_LENGTH_LIMIT,
  DEFAULT_LABEL_VALUE_LENGTH_LIMIT,
  DEFAULT_SAMPLE_LIMIT,
} from './page-limits.js';
import { resolveTarget } from './target.js';
import { RUNNER_KINDS } from '../../runners/identity.js';
import { llamacppInsightSchema } from '../../insight/config.js';

const DEFAULT_METRICS_PATH = '/metrics';

const target = z
  .strictObject({
    url: z
      .string()
      .optional()
      .describe('http(s) URL of the metrics page. A URL without a path gets `metrics_path`. Port 0 means "not on TCP": `unix_socket` is used instead.'),
    unix_socket: z
      .string()
      .optional()
      .describe('Path of a Unix socket to scrape over HTTP (Docker Model Runner: model-runner.sock). Used when `url` is unset or has port 0.'),
    path: z.string().optional().describe('HTTP path for a Unix-socket target (default: metrics_path).'),
    attributes: z
      .record(z.string(), attributeValue)
      .default({})
      .describe('Resource attributes of this target, e.g. backend, model, mode. A backend, model or mode left out (or empty) is asked of the runner.'),
    runner: z
      .enum(['auto', 'none', ...RUNNER_KINDS])
      .default('auto')
      .describe(
        'Which runner this is, for asking its identity (model, mode) when the attributes leave it out: llamacpp, vllm, tgi, sglang; auto = from the backend attribute or the page\'s family prefixes; none = never ask.',
      ),
  })
  .superRefine((t, ctx) => {
    // The receiver resolves targets when it starts; resolving here too turns a bad URL into a config error.
    try {
      resolveTarget(t, DEFAULT_METRICS_PATH);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message, path: t.url ? ['url'] : [] });
    }
  });

const fileSdConfig = z
  .strictObject({
    files: z
      .array(
        z.string().superRefine((path, ctx) => {
          const problem = fileSdPathProblem(path);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .min(1)
      .describe('Files of target groups in Prometheus file_sd format (.json, .yml, .yaml); `*` and `?` may be used in the last path segment.'),
    refresh_interval: positiveDuration().default(300_000).describe('Re-read the files this often, besides on every change seen by the file watcher.'),
  })
  .describe("Prometheus' file_sd: targets and labels from files, re-read when they change.");

const socketSdConfig = z
  .strictObject({
    paths: z
      .array(
        z.string().superRefine((path, ctx) => {
          const problem = socketGlobProblem(path);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .min(1)
      .describe('Absolute socket paths; `*` and `?` may be used in the last path segment (e.g. /run/runners/*.sock).'),
    refresh_interval: positiveDuration().default(5_000).describe('List the directories this often, besides on every change seen by the watcher.'),
    metrics_path: z.string().optional().describe('HTTP path scraped over each socket (default: the receiver\'s metrics_path).'),
    attributes: z.record(z.string(), attributeValue).default({}).describe('Resource attributes of every socket found (backend, mode, …).'),
  })
  .describe('Unix sockets matching a glob, each scraped as a target.');

const llamacppRouterSdConfig = z
  .strictObject({
    url: z
      .string()
      .superRefine((text, ctx) => {
        let url: URL | undefined;
        try {
          url = new URL(text);
        } catch {
          /* said below */
        }
        if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) ctx.addIssue({ code: 'custom', message: `"${text}" must be an http(s) URL of a llama.cpp router` });
        else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'credentials in the router URL are not supported' });
      })
      .describe('Base URL of a llama.cpp router (`llama-server --models-preset …` or `--models-dir …`), e.g. http://127.0.0.1:8080.'),
    refresh_interval: positiveDuration().default(5_000).describe('Ask the router\'s `GET /models` this often.'),
    headers: httpHeaders()
      .default({})
      .describe('Request headers for the router\'s `/models` and every model\'s scrape and identity requests, e.g. `Authorization: Bearer <llama-server --api-key>`; they win over the receiver\'s `headers`.'),
    scrape_via: z
      .enum(['router', 'child'])
      .default('router')
      .describe(
        'router: scrape each model through the router (/metrics?model=ID&autoload=false). child: scrape each model\'s child process on its own port (from `--port` in the model\'s `status.args`); the children listen on 127.0.0.1 only, so only for a collector on the router\'s machine.',
      ),
  })
  .describe('A llama.cpp router: each loaded or sleeping model is a target scraped as /metrics?model=ID&autoload=false, or on its child\'s own port.');

export const prometheusReceiverConfigSchema = componentConfig({
  scrape_interval: positiveDuration().default(15_000).describe('How often each target is scraped.'),
  scrape_timeout: positiveDuration().default(10_000).describe('Give up on a scrape after this long (capped at scrape_interval).'),
  metrics_path: z.string().default(DEFAULT_METRICS_PATH),
  body_size_limit: byteSize().default(16 * 1024 * 1024).describe('Larger bodies fail the scrape (uncompressed size). 0 = no limit.'),
  sample_limit: z
    .number()
    .int()
    .nonnegative()
    .default(DEFAULT_SAMPLE_LIMIT)
    .describe('More samples on one page than this fail the scrape (reason `sample_limit`). 0 = no limit.'),
  label_limit: z
    .number()
    .int()
    .nonnegative()
    .default(DEFAULT_LABEL_LIMIT)
    .describe('A series with more labels than this, its name included, fails the scrape (reason `label_limit`). 0 = no limit.'),
  label_name_length_limit: z
    .number()
    .int()
    .nonnegative()
    .default(DEFAULT_LABEL_NAME_LENGTH_LIMIT)
    .describe('A label name longer than this many bytes fails the scrape (reason `label_name_length_limit`). 0 = no limit.'),
  label_value_length_limit: z
    .number()
    .int()
    .nonnegative()
    .default(DEFAULT_LABEL_VALUE_LENGTH_LIMIT)
    .describe('A label value or metric name longer than this many bytes fails the scrape (reason `label_value_length_limit`). 0 = no limit.'),
  headers: httpHeaders().default({}).describe('Extra request headers (e.g. Authorization).'),
  targets: z.array(target).default([]).describe('Targets scraped always (static targets).'),
  file_sd_configs: z.array(fileSdConfig).default([]).describe('Targets discovered from files (Prometheus file_sd format).'),
  socket_sd_configs: z.array(socketSdConfig).default([]).describe('Targets discovered as Unix sockets matching a glob.'),
  llamacpp_router_sd_configs: z.array(llamacppRouterSdConfig).default([]).describe('Targets discovered as the running models of llama.cpp routers.'),
  llamacpp_insight: llamacppInsightSchema.prefault({}),
}).superRefine((config, ctx) => {
  if (
    config.targets.length === 0 &&
    config.file_sd_configs.length === 0 &&
    config.socket_sd_configs.length === 0 &&
    config.llamacpp_router_sd_configs.length === 0
  ) {
    ctx.addIssue({ code: 'custom', path: ['targets'], message: 'no targets: set targets, file_sd_configs, socket_sd_configs or llamacpp_router_sd_configs' });
  }
  // Two targets with one identity would overwrite each other's series (and health series).
  const seen = new Map<string, number>();
  config.targets.forEach((t, i) => {
    try {
      const address = resolveTarget(t, config.metrics_path);
      const instance = JSON.stringify([address.instance, Object.entries(t.attributes).sort()]);
      const first = seen.get(instance);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['targets', i],
          message: `targets[${first}] and targets[${i}] are both ${address.instance} with the same attributes: their series would overwrite each other; give them different attributes (e.g. mode) or put them in separate receivers`,
        });
      }
      seen.set(instance, i);
    } catch {
      // already reported by the target's own check
    }
  });
});

export type PrometheusReceiverConfig = z.output<typeof prometheusReceiverConfigSchema>;
export type TargetConfig = PrometheusReceiverConfig['targets'][number];

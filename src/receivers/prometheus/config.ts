import { z } from 'zod';
import { attributeValue, byteSize, componentConfig, httpHeaders, positiveDuration } from '../../config/schema-helpers.js';
import { resolveTarget } from './target.js';
import { RUNNER_KINDS } from '../../runners/identity.js';

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

export const prometheusReceiverConfigSchema = componentConfig({
  scrape_interval: positiveDuration().default(15_000).describe('How often each target is scraped.'),
  scrape_timeout: positiveDuration().default(10_000).describe('Give up on a scrape after this long (capped at scrape_interval).'),
  metrics_path: z.string().default(DEFAULT_METRICS_PATH),
  body_size_limit: byteSize().default(16 * 1024 * 1024).describe('Larger bodies fail the scrape (uncompressed size). 0 = no limit.'),
  sample_limit: z.number().int().nonnegative().default(0).describe('More samples than this fail the scrape. 0 = no limit.'),
  headers: httpHeaders().default({}).describe('Extra request headers (e.g. Authorization).'),
  targets: z.array(target).min(1),
}).superRefine((config, ctx) => {
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

import { z } from 'zod';
import { attributeValue, byteSize, componentConfig, duration } from '../../config/schema-helpers.js';

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
      .describe('Resource attributes of this target, e.g. backend, model, mode.'),
  })
  .refine((t) => Boolean(t.url) || Boolean(t.unix_socket), {
    message: 'a target needs `url` or `unix_socket`',
  });

export const prometheusReceiverConfigSchema = componentConfig({
  scrape_interval: duration().default(15_000).describe('How often each target is scraped.'),
  scrape_timeout: duration().default(10_000).describe('Give up on a scrape after this long (capped at scrape_interval).'),
  metrics_path: z.string().default('/metrics'),
  body_size_limit: byteSize().default(16 * 1024 * 1024).describe('Larger bodies fail the scrape (uncompressed size). 0 = no limit.'),
  sample_limit: z.number().int().nonnegative().default(0).describe('More samples than this fail the scrape. 0 = no limit.'),
  headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers (e.g. Authorization).'),
  targets: z.array(target).min(1),
});

export type PrometheusReceiverConfig = z.output<typeof prometheusReceiverConfigSchema>;
export type TargetConfig = PrometheusReceiverConfig['targets'][number];

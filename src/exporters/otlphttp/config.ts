/** Config of the `otlphttp` exporter, after the Collector's exporter of the same name. */
import { z } from 'zod';
import { missingScheme } from '../../net/url-hints.js';
import { byteSize, componentConfig, duration, httpHeaders, positiveDuration, text } from '../../config/schema-helpers.js';

const url = (key: string) =>
  z.string().superRefine((v, ctx) => {
    const missing = missingScheme(v);
    if (missing) ctx.addIssue({ code: 'custom', message: `${key} has no scheme: ${missing}` });
    else if (!URL.canParse(v) || !/^https?:$/.test(new URL(v).protocol)) {
      ctx.addIssue({ code: 'custom', message: `${key} must be an http:// or https:// URL` });
    }
  });

const retryOnFailure = componentConfig({
  enabled: z.boolean().default(true),
  initial_interval: positiveDuration().default(5_000),
  max_interval: positiveDuration().default(30_000),
  /** 0 retries forever. */
  max_elapsed_time: duration().default(300_000),
  multiplier: z.number().min(1).default(1.5),
});

const sendingQueue = componentConfig({
  enabled: z.boolean().default(true),
  /** How many requests may wait; past it the oldest is dropped. */
  queue_size: z.number().int().positive().default(1000),
  /** A directory: requests are kept there until the backend accepts them, across restarts. An empty value (an unset `${env:…:-}`) means memory only. */
  storage: z.preprocess((v) => (v === '' || v === null ? undefined : v), z.string().optional()),
});

export const otlpHttpConfigSchema = componentConfig({
  endpoint: url('endpoint').optional(),
  metrics_endpoint: url('metrics_endpoint').optional(),
  headers: httpHeaders().default({}),
  auth: componentConfig({
    // Grafana Cloud instance ids are numbers, and a token may be all digits.
    basic: z.strictObject({ username: text().pipe(z.string().min(1)), password: text() }).optional(),
  }).optional(),
  compression: z.enum(['gzip', 'none']).default('gzip'),
  encoding: z.enum(['proto', 'json']).default('proto'),
  timeout: positiveDuration().default(30_000),
  export_interval: positiveDuration().default(15_000),
  resource_to_attributes: z.array(z.string()).default(['backend', 'model', 'mode']),
  /** Uncompressed size above which a push is split into several requests; 0 never splits. */
  max_request_bytes: byteSize().default(0),
  /** Data points above which a push is split into several requests; 0 never splits. */
  max_request_points: z.number().int().nonnegative().default(0),
  retry_on_failure: retryOnFailure.prefault({}),
  sending_queue: sendingQueue.prefault({}),
  shutdown_timeout: duration().default(10_000),
}).superRefine((c, ctx) => {
  if ((c.endpoint === undefined) === (c.metrics_endpoint === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'set exactly one of endpoint or metrics_endpoint', path: ['endpoint'] });
  }
});

export type OtlpHttpExporterConfig = z.output<typeof otlpHttpConfigSchema>;

/** The URL requests go to: `metrics_endpoint` as is, or `endpoint` + `/v1/metrics`. */
export function metricsUrl(config: Pick<OtlpHttpExporterConfig, 'endpoint' | 'metrics_endpoint'>): string {
  if (config.metrics_endpoint) return config.metrics_endpoint;
  // The path is appended to the URL's path, so a query string (an API key) stays a query string.
  const url = new URL(config.endpoint!);
  url.pathname = url.pathname.replace(/\/+$/, '') + '/v1/metrics';
  return url.toString();
}

/** Config of the `prometheus` exporter; README.md documents every key. */
import { z } from 'zod';
import { attributeValue, componentConfig, duration, listenEndpoint, positiveDuration, unixSocketMode } from '../../config/schema-helpers.js';
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS } from '../../net/http-listener.js';
import { ESCAPING_SCHEMES, escapeLabelName } from '../../prometheus/writer.js';

export const DEFAULT_ENDPOINT = '127.0.0.1:9464';
export const DEFAULT_PATH = '/metrics';
export const DEFAULT_RESOURCE_LABELS = ['backend', 'model', 'mode'] as const;
export const DEFAULT_METRIC_EXPIRATION_MS = 5 * 60_000;

/** Legacy label names only (a regex, so that the JSON schema carries it too). */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const endpoint = listenEndpoint(DEFAULT_ENDPOINT);

/** Why a label name may not be added to every series, if it may not. */
function reservedBecause(name: string): string | undefined {
  if (name.startsWith('__')) return "names starting with __ are Prometheus' own";
  // Buckets and quantiles carry these; a second one would make the exposition invalid.
  if (name === 'le' || name === 'quantile') return 'histogram and summary series use it';
  return undefined;
}

const labelName = z
  .string()
  .regex(LABEL_NAME, 'label names must match [a-zA-Z_][a-zA-Z0-9_]*')
  .superRefine((name, ctx) => {
    const why = reservedBecause(name);
    if (why) ctx.addIssue({ code: 'custom', message: `label name "${name}" is reserved: ${why}` });
  });

/** A resource attribute to copy as a label, checked under every name a scraper may get (`a.b` → `a_b`). */
const resourceAttributeLabel = z
  .string()
  .min(1)
  .superRefine((attribute, ctx) => {
    for (const scheme of ESCAPING_SCHEMES) {
      const label = escapeLabelName(attribute, scheme);
      const why = reservedBecause(label);
      if (!why) continue;
      const subject = label === attribute ? `label name "${label}"` : `attribute "${attribute}" becomes label "${label}", which`;
      ctx.addIssue({ code: 'custom', message: `${subject} is reserved: ${why}` });
      return;
    }
  });

export const prometheusExporterConfigSchema = componentConfig({
  endpoint,
  unix_socket_mode: unixSocketMode('0660'),
  max_connections: z
    .number()
    .int()
    .min(1)
    .default(DEFAULT_MAX_CONNECTIONS)
    .describe('Open connections at most; at the cap the oldest one not being served is closed for the new one'),
  read_header_timeout: positiveDuration()
    .default(DEFAULT_HEADERS_TIMEOUT_MS)
    .describe('How long a client may take to send its request head; an idle connection is closed after it too'),
  path: z
    .string()
    .startsWith('/', 'path must start with /')
    .default(DEFAULT_PATH)
    .describe('HTTP path serving the metrics'),
  resource_attributes_as_labels: z
    .array(resourceAttributeLabel)
    .default([...DEFAULT_RESOURCE_LABELS])
    .describe('Resource attributes copied onto every series as labels (names escaped for the scraper: dots become underscores by default)'),
  const_labels: z
    .record(labelName, attributeValue.transform(String))
    .default({})
    .describe('Labels added to every series'),
  honor_labels: z
    .boolean()
    .default(false)
    .describe("On a label clash keep the runner's label instead of renaming it exported_<name>"),
  metric_expiration: duration()
    .default(DEFAULT_METRIC_EXPIRATION_MS)
    .describe('Drop a resource not updated for this long (0 keeps it forever)'),
  include_own_metrics: z.boolean().default(true).describe("Serve the collector's own metrics too"),
});

export type PrometheusExporterConfig = z.output<typeof prometheusExporterConfigSchema>;

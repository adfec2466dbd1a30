/** Config of the `prometheus` exporter; README.md documents every key. */
import { z } from 'zod';
import { attributeValue, componentConfig, duration, listenEndpoint } from '../../config/schema-helpers.js';

export const DEFAULT_ENDPOINT = '127.0.0.1:9464';
export const DEFAULT_PATH = '/metrics';
export const DEFAULT_RESOURCE_LABELS = ['backend', 'model', 'mode'] as const;
export const DEFAULT_METRIC_EXPIRATION_MS = 5 * 60_000;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const endpoint = listenEndpoint(DEFAULT_ENDPOINT);

const labelName = z
  .string()
  .regex(LABEL_NAME, 'label names must match [a-zA-Z_][a-zA-Z0-9_]*')
  .refine((name) => !name.startsWith('__'), 'label names starting with __ are reserved by Prometheus');

export const prometheusExporterConfigSchema = componentConfig({
  endpoint,
  path: z
    .string()
    .startsWith('/', 'path must start with /')
    .default(DEFAULT_PATH)
    .describe('HTTP path serving the metrics'),
  resource_attributes_as_labels: z
    .array(z.string().min(1))
    .default([...DEFAULT_RESOURCE_LABELS])
    .describe('Resource attributes copied onto every series as labels (dots become underscores)'),
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

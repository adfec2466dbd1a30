/** The `otlphttp` exporter: pushes every runner's metrics to an OTLP/HTTP endpoint (Grafana Cloud, Mimir, a Collector). */
import type { ExporterFactory } from '../../component.js';
import { otlpHttpConfigSchema, type OtlpHttpExporterConfig } from './config.js';
import { OtlpHttpExporter } from './exporter.js';

export type { OtlpHttpExporterConfig } from './config.js';
export { OtlpHttpExporter } from './exporter.js';

export const otlpHttpExporterFactory: ExporterFactory<OtlpHttpExporterConfig> = {
  type: 'otlphttp',
  configSchema: otlpHttpConfigSchema,
  secretKeys: ['auth.basic.password', 'headers'],
  createExporter: (config, context) => new OtlpHttpExporter(config, context),
};

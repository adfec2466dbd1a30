/** The `prometheus` exporter: one aggregated pull endpoint for every pipeline feeding it. */
import type { ExporterFactory } from '../../component.js';
import { prometheusExporterConfigSchema, type PrometheusExporterConfig } from './config.js';
import { PrometheusExporter } from './exporter.js';

export const prometheusExporterFactory: ExporterFactory<PrometheusExporterConfig> = {
  type: 'prometheus',
  configSchema: prometheusExporterConfigSchema,
  createExporter: (config, context) => new PrometheusExporter(config, context),
};

export { prometheusExporterConfigSchema, type PrometheusExporterConfig } from './config.js';
export { PrometheusExporter, type PrometheusExporterOptions, type RenderOptions } from './exporter.js';
export type { ListenAddress } from '../../net/listen-address.js';

/** The loaded, validated config: what the service builds its pipelines from. */
import type { ConfigIssue } from './errors.js';
import type { LogLevel } from './service-schema.js';

export interface PipelineConfig {
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface ServiceConfig {
  extensions: string[];
  telemetry: { logs: { level: LogLevel } };
  pipelines: Record<string, PipelineConfig>;
}

export interface CollectorConfig {
  /** Component id → config as parsed by its factory's schema, defaults applied. */
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, unknown>;
  extensions: Record<string, unknown>;
  service: ServiceConfig;
}

export interface LoadedConfig {
  config: CollectorConfig;
  /** The merged and expanded files, before schema parsing: what print-config shows. */
  raw: unknown;
  warnings: ConfigIssue[];
  /** Names of the files, in merge order. */
  files: string[];
}

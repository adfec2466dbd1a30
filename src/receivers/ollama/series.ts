/**
 * The series the `ollama` receiver makes from Ollama's JSON answers: their names,
 * help texts and units in one place, and the metrics of one snapshot. A figure
 * Ollama did not give is left out, never written as 0.
 */
import { ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type Attributes,
  type HrTime,
  type Metric,
  type MetricDescriptor,
  type PrometheusType,
} from '../../model/batch.js';
import type { LoadedModel } from '../../runners/ollama.js';

interface Family {
  readonly descriptor: MetricDescriptor;
  readonly type: PrometheusType;
}

function family(name: string, description: string, unit: string, type: PrometheusType = 'gauge'): Family {
  return { descriptor: { name, description, unit, valueType: ValueType.DOUBLE }, type };
}

export const OLLAMA_FAMILIES = {
  modelLoaded: family('ollama_model_loaded', 'Whether the model is loaded in memory (1); its series are gone once it unloads.', ''),
  modelSize: family('ollama_model_size_bytes', 'Memory the loaded model takes, GPU and CPU together (/api/ps size).', 'By'),
  modelVram: family('ollama_model_vram_bytes', 'GPU memory the loaded model takes (/api/ps size_vram).', 'By'),
  modelContext: family('ollama_model_context_length_tokens', 'Context length the model was loaded with (/api/ps context_length).', '{token}'),
  modelExpiresIn: family('ollama_model_expires_in_seconds', 'Seconds until Ollama unloads the model if it stays idle (/api/ps expires_at minus now, at least 0).', 's'),
  modelsLoaded: family('ollama_models_loaded', 'Models loaded in memory (/api/ps).', '{model}'),
  modelsAvailable: family('ollama_models_available', 'Models available locally (/api/tags).', '{model}'),
  buildInfo: family('ollama_build_info', 'The Ollama version (/api/version); always 1.', '', 'info'),
} as const;

const NO_ATTRIBUTES: Attributes = Object.freeze({}) as Attributes;

/** Collects one resource's gauges, one data point each. */
class MetricList {
  readonly metrics: Metric[] = [];
  constructor(
    private readonly startTime: HrTime,
    private readonly now: HrTime,
  ) {}

  add(f: Family, value: number | undefined, attributes: Attributes = NO_ATTRIBUTES): void {
    if (value === undefined) return;
    this.metrics.push({
      descriptor: f.descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [{ startTime: this.startTime, endTime: this.now, attributes, value }],
      prometheus: { type: f.type },
    });
  }
}

/** A loaded model's metrics. `loadedSince` is when it was first seen loaded. */
export function modelMetrics(model: LoadedModel, loadedSince: HrTime, now: HrTime, nowMs: number): Metric[] {
  const list = new MetricList(loadedSince, now);
  list.add(OLLAMA_FAMILIES.modelLoaded, 1);
  list.add(OLLAMA_FAMILIES.modelSize, model.sizeBytes);
  list.add(OLLAMA_FAMILIES.modelVram, model.vramBytes);
  list.add(OLLAMA_FAMILIES.modelContext, model.contextLength);
  const expiresIn = model.expiresAtMs === undefined ? undefined : Math.max(0, (model.expiresAtMs - nowMs) / 1000);
  list.add(OLLAMA_FAMILIES.modelExpiresIn, expiresIn);
  return list.metrics;
}

export interface ServerFigures {
  readonly loaded: number;
  /** undefined when /api/tags failed. */
  readonly available: number | undefined;
  /** `{version}` of the build info series, undefined while /api/version has not answered. */
  readonly versionAttributes: Attributes | undefined;
}

export function serverMetrics(figures: ServerFigures, since: HrTime, now: HrTime): Metric[] {
  const list = new MetricList(since, now);
  list.add(OLLAMA_FAMILIES.modelsLoaded, figures.loaded);
  list.add(OLLAMA_FAMILIES.modelsAvailable, figures.available);
  if (figures.versionAttributes) list.add(OLLAMA_FAMILIES.buildInfo, 1, figures.versionAttributes);
  return list.metrics;
}

/** Synthetic runner batches and an exporter context for the otlphttp tests. */
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ComponentContext } from '../../../src/component.js';
import { otlpHttpExporterFactory, type OtlpHttpExporterConfig } from '../../../src/exporters/otlphttp/index.js';
import {
  AggregationTemporality,
  DataPointType,
  millisToHrTime,
  SUMMARY,
  type Metric,
  type ResourceBatch,
} from '../../../src/model/batch.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';

/** Start of every runner's counters: 2024-01-02T03:04:05.123456789Z, to the nanosecond. */
export const START: [number, number] = [1704164645, 123456789];
export const START_NANOS = '1704164645123456789';

const resources = new Map<number, ReturnType<typeof resourceFromAttributes>>();

/** One runner's resource (reused across scrapes, as receivers do). */
export function runnerResource(runner: number) {
  let r = resources.get(runner);
  if (!r) {
    r = resourceFromAttributes({
      'service.name': 'llama-server',
      'service.instance.id': `runner-${runner}`,
      'server.address': `127.0.0.1:${8080 + runner}`,
      backend: 'llamacpp',
      model: `model-${runner}`,
      mode: 'completion',
    });
    resources.set(runner, r);
  }
  return r;
}

/** A scrape of one runner at `timeMs`; values derive from `runner` and `scrape` so tests can check them. */
export function runnerBatch(runner: number, scrape: number, timeMs = 1_704_200_000_000 + scrape * 1000): ResourceBatch {
  const end = millisToHrTime(timeMs);
  const metrics: Metric[] = [
    {
      descriptor: { name: 'llamacpp:prompt_tokens_total', description: 'Number of prompt tokens processed.', unit: '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [{ startTime: START, endTime: end, attributes: {}, value: 1000 * runner + scrape }],
      prometheus: { type: 'counter' },
    },
    {
      descriptor: { name: 'llamacpp:requests_processing', description: 'Requests processing.', unit: '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [{ startTime: end, endTime: end, attributes: { slot: '0' }, value: 0.5 + runner }],
      prometheus: { type: 'gauge' },
    },
    {
      descriptor: { name: 'request_duration_seconds', description: 'Request latency.', unit: 's', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [
        {
          startTime: START,
          endTime: end,
          attributes: { endpoint: '/completion', model: 'own-label' },
          value: { buckets: { boundaries: [0.1, 1, 10], counts: [1, 2, 3, 0] }, sum: 12.5, count: 6 },
        },
      ],
      prometheus: { type: 'histogram' },
    },
    {
      descriptor: { name: 'rpc_latency_seconds', description: 'RPC latency.', unit: '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: SUMMARY,
      dataPoints: [
        {
          startTime: START,
          endTime: end,
          attributes: {},
          value: { sum: 10, count: 20, quantiles: [{ quantile: 0.5, value: 0.2 }, { quantile: 0.99, value: 1.5 }] },
        },
      ],
      prometheus: { type: 'summary' },
    },
    {
      descriptor: { name: 'Requests2XX', description: '', unit: '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [{ startTime: end, endTime: end, attributes: { Level: 'Host' }, value: 7 }],
      prometheus: { type: 'untyped' },
    },
  ];
  return { resource: runnerResource(runner), scopeMetrics: [{ scope: { name: 'runner-metrics/prometheus', version: '0.1.0' }, metrics }] };
}

export const POINTS_PER_BATCH = 5;

export interface TestContext {
  readonly context: ComponentContext;
  readonly selfMetrics: SelfMetrics;
  readonly logs: Record<string, any>[];
}

export function testContext(id = 'otlphttp/test'): TestContext {
  const logs: Record<string, any>[] = [];
  const selfMetrics = new SelfMetrics();
  const logger = createLogger('debug', (line) => logs.push(JSON.parse(line)));
  return { context: { id, kind: 'exporter', logger, selfMetrics, health: new HealthRegistry() }, selfMetrics, logs };
}

/** Parses a YAML-like config body through the factory's schema, with fast test defaults. */
export function testConfig(body: Record<string, unknown>): OtlpHttpExporterConfig {
  return otlpHttpExporterFactory.configSchema.parse({
    export_interval: '1h', // tests push with exportNow()
    ...body,
    retry_on_failure: { initial_interval: '5ms', max_interval: '20ms', max_elapsed_time: 0, ...(body['retry_on_failure'] as object) },
  });
}

/** Value of one of the exporter's own metrics. */
export function ownMetric(selfMetrics: SelfMetrics, name: string, attributes: Record<string, string>): number | undefined {
  for (const scope of selfMetrics.collect().scopeMetrics) {
    for (const m of scope.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const p of m.dataPoints) {
        const a = p.attributes;
        if (Object.keys(attributes).every((k) => a[k] === attributes[k]) && Object.keys(a).length === Object.keys(attributes).length) {
          return p.value as number;
        }
      }
    }
  }
  return undefined;
}

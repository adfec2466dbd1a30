/** Hand-built batches and a scrape client for the prometheus exporter tests. */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ComponentContext } from '../../../src/component.js';
import {
  AggregationTemporality,
  DataPointType,
  SUMMARY,
  type Metric,
  type ResourceBatch,
  type SummaryValue,
} from '../../../src/model/batch.js';
import { prometheusExporterConfigSchema, type PrometheusExporterConfig } from '../../../src/exporters/prometheus/config.js';
import type { ListenAddress } from '../../../src/net/listen-address.js';
import { silentLogger, type Logger } from '../../../src/telemetry/logger.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';

const T0: [number, number] = [1_700_000_000, 0];
const T1: [number, number] = [1_700_000_015, 0];

export type Series<V> = readonly [attributes: Attributes, value: V];

function points<V>(series: readonly Series<V>[]) {
  return series.map(([attributes, value]) => ({ startTime: T0, endTime: T1, attributes, value }));
}

export function counter(name: string, help: string, series: readonly Series<number>[]): Metric {
  return {
    descriptor: { name, description: help, unit: '', valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points(series),
    prometheus: { type: 'counter' },
  };
}

/** A gauge without `prometheus` metadata, so its TYPE is derived from the point type. */
export function gauge(name: string, help: string, series: readonly Series<number>[]): Metric {
  return {
    descriptor: { name, description: help, unit: '', valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points(series),
  };
}

export interface HistogramValue {
  readonly boundaries: number[];
  /** Per bucket, not cumulative, as the SDK stores them; one more than boundaries. */
  readonly counts: number[];
  readonly sum: number;
}

export function histogram(name: string, help: string, series: readonly Series<HistogramValue>[]): Metric {
  return {
    descriptor: { name, description: help, unit: '', valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: series.map(([attributes, v]) => ({
      startTime: T0,
      endTime: T1,
      attributes,
      value: { buckets: { boundaries: v.boundaries, counts: v.counts }, sum: v.sum, count: v.counts.reduce((a, b) => a + b, 0) },
    })),
  };
}

export function summary(name: string, help: string, series: readonly Series<SummaryValue>[]): Metric {
  return {
    descriptor: { name, description: help, unit: '', valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: SUMMARY,
    dataPoints: points(series),
    prometheus: { type: 'summary' },
  };
}

export function resourceBatch(attributes: Attributes, metrics: Metric[]): ResourceBatch {
  return { resource: resourceFromAttributes(attributes), scopeMetrics: [{ scope: { name: 'test' }, metrics }] };
}

export function testConfig(body: Record<string, unknown> = {}): PrometheusExporterConfig {
  return prometheusExporterConfigSchema.parse({ endpoint: '127.0.0.1:0', include_own_metrics: false, ...body });
}

export function testContext(logger: Logger = silentLogger): ComponentContext & { selfMetrics: SelfMetrics } {
  return { id: 'prometheus/test', kind: 'exporter', logger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() };
}

/** A logger that keeps what it is told, for assertions. */
export function recordingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const make = (): Logger => ({
    debug: (msg) => void lines.push({ level: 'debug', msg }),
    info: (msg) => void lines.push({ level: 'info', msg }),
    warn: (msg) => void lines.push({ level: 'warn', msg }),
    error: (msg) => void lines.push({ level: 'error', msg }),
    child: () => make(),
  });
  return Object.assign(make(), { lines });
}

export interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body, gunzipped when the server compressed it. */
  readonly body: string;
  readonly rawLength: number;
}

export function scrape(
  address: ListenAddress,
  path = '/metrics',
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const target = address.kind === 'unix' ? { socketPath: address.path } : { host: address.host, port: address.port };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        resolve({ status: res.statusCode!, headers: res.headers, body: body.toString('utf8'), rawLength: raw.length });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

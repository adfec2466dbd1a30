/**
 * Full render of the prometheus exporter's endpoint for a farm of llama.cpp-like
 * runners, cold (first render) and steady state (new values on the same series,
 * as a receiver delivers them), to the UTF-8 bytes a scrape is served, against
 * @opentelemetry/exporter-prometheus' PrometheusSerializer run on the same
 * batches in the same process (its string, not even encoded).
 */
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { prometheusExporterConfigSchema } from '../src/exporters/prometheus/config.js';
import { PrometheusExporter } from '../src/exporters/prometheus/exporter.js';
import type { ResourceBatch } from '../src/model/batch.js';
import { makeRunners, snapshot as runnerSnapshot, type FarmShape, type Runner } from './synthetic-batch.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../src/telemetry/health.js';

const RESOURCES = 100;
const SLOTS = 20;
const COUNTERS = 10;
const GAUGES = 12;
const HISTOGRAM_POINTS = 40;
const STEADY_ROUNDS = 15;
const TIME: [number, number] = [1_700_000_000, 0];

/** 10 counters × 20 + 12 gauges × 20 + 40 histogram points × 14 lines = 1000 series per runner. */
const SHAPE: FarmShape = { resources: RESOURCES, slots: SLOTS, counters: COUNTERS, gauges: GAUGES, histogramPoints: HISTOGRAM_POINTS };
const snapshot = (runner: Runner, round: number): ResourceBatch => runnerSnapshot(runner, SHAPE, round, TIME, TIME);

function timed<T>(fn: () => T): { ms: number; value: T } {
  (globalThis as { gc?: () => void }).gc?.();
  const start = performance.now();
  const value = fn();
  return { ms: performance.now() - start, value };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function seriesLines(body: string | Buffer): number {
  let n = 0;
  for (const line of body.toString().split('\n')) if (line !== '' && !line.startsWith('#')) n++;
  return n;
}

const mb = (text: string | Buffer) => `${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

export async function run(): Promise<void> {
  const runners = makeRunners(SHAPE);
  const config = prometheusExporterConfigSchema.parse({ include_own_metrics: false });
  const exporter = new PrometheusExporter(config, { id: 'prometheus', kind: 'exporter', logger: silentLogger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() });
  // Same labels and no extra series, so both sides write comparable bodies.
  const serializer = new PrometheusSerializer(undefined, false, /^(backend|model|mode)$/, true, true);
  const baseline = (batches: ResourceBatch[]) => batches.map((b) => serializer.serialize(b as ResourceMetrics)).join('');

  let batches = runners.map((r) => snapshot(r, 1));
  exporter.consume(batches);
  const cold = timed(() => exporter.renderBytes());
  const baselineCold = timed(() => baseline(batches));

  const steady: number[] = [];
  const consumeMs: number[] = [];
  const baselineSteady: number[] = [];
  let body = cold.value;
  let baselineBody = baselineCold.value;
  for (let round = 2; round < 2 + STEADY_ROUNDS; round++) {
    batches = runners.map((r) => snapshot(r, round));
    consumeMs.push(timed(() => exporter.consume(batches)).ms);
    const warm = timed(() => exporter.renderBytes());
    steady.push(warm.ms);
    body = warm.value;
    const base = timed(() => baseline(batches));
    baselineSteady.push(base.ms);
    baselineBody = base.value;
  }

  const steadyMs = median(steady);
  const baselineMs = median(baselineSteady);
  console.log(`prometheus exporter render: ${RESOURCES} resources x ${seriesLines(body) / RESOURCES} series = ${seriesLines(body)} series`);
  console.log(`  cold render (first)             ${ms(cold.ms)}  ${mb(cold.value)}`);
  console.log(`  steady render (median of ${STEADY_ROUNDS})    ${ms(steadyMs)}  ${mb(body)}  gzip ${mb(gzipSync(body))}`);
  console.log(`  consume of 100 snapshots        ${ms(median(consumeMs))}`);
  console.log(`  baseline PrometheusSerializer   cold ${ms(baselineCold.ms)}, steady ${ms(baselineMs)}  ${mb(baselineBody)}`);
  console.log('    (one serialize() per resource, joined: HELP/TYPE repeated per resource, no cache;');
  console.log("     it also renames names, e.g. ':' kept but units/_total suffixes applied by its rules)");
  console.log(`  ratio steady / baseline          ${(steadyMs / baselineMs).toFixed(2)}x (${(baselineMs / steadyMs).toFixed(1)}x faster)`);
  console.log(`  ratio cold / baseline            ${(cold.ms / baselineCold.ms).toFixed(2)}x`);
}

// Run directly (`node dist/bench/render.js`) as well as from bench/run.ts.
if (import.meta.url === `file://${process.argv[1]}`) await run();

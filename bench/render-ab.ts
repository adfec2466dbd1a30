/**
 * The steady render of bench/render.ts, this build against another build of the
 * project, in one process: `node --expose-gc dist/bench/render-ab.js <other dist>`
 * (e.g. a `git worktree` of the previous commit, built with tsc). Both exporters
 * get the same batches, render in alternating order round by round, and must
 * write the same bytes. On a shared machine wall times mostly measure the
 * neighbours, so the main thread's own CPU time per render is printed too (Linux,
 * from /proc/self/task/<pid>/schedstat: time on a CPU, not time waiting for one).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { ResourceBatch } from '../src/model/batch.js';
import { makeRunners, snapshot as runnerSnapshot, type FarmShape } from './synthetic-batch.js';

const SHAPE: FarmShape = { resources: 100, slots: 20, counters: 10, gauges: 12, histogramPoints: 40 };
const TIME: [number, number] = [1_700_000_000, 0];
const ROUNDS = Number(process.env['RENDER_AB_ROUNDS'] ?? 30);
/** Renders left out of the figures: the cold one and the first steady ones, while V8 still optimizes. */
const WARMUP = 3;

interface Side {
  readonly name: string;
  readonly exporter: { consume(batches: ResourceBatch[]): void; renderBytes(): Buffer };
  readonly wall: number[];
  readonly cpu: number[];
}

async function exporterFrom(dist: string): Promise<Side['exporter']> {
  const load = (path: string) => import(pathToFileURL(resolve(dist, path)).href);
  const [{ prometheusExporterConfigSchema }, { PrometheusExporter }, { silentLogger }, { SelfMetrics }, { HealthRegistry }] = await Promise.all([
    load('src/exporters/prometheus/config.js'),
    load('src/exporters/prometheus/exporter.js'),
    load('src/telemetry/logger.js'),
    load('src/telemetry/self-metrics.js'),
    load('src/telemetry/health.js'),
  ]);
  const config = prometheusExporterConfigSchema.parse({ include_own_metrics: false });
  return new PrometheusExporter(config, { id: 'prometheus', kind: 'exporter', logger: silentLogger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() });
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/** Milliseconds the main thread spent on a CPU so far, or NaN where the kernel does not say. */
function cpuMs(): number {
  try {
    return Number(readFileSync(SCHEDSTAT, 'latin1').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) * q)]!;
}

export async function run(otherDist: string): Promise<void> {
  const here = resolve(new URL('..', import.meta.url).pathname);
  const sides: Side[] = [
    { name: 'this build', exporter: await exporterFrom(here), wall: [], cpu: [] },
    { name: 'other build', exporter: await exporterFrom(otherDist), wall: [], cpu: [] },
  ];
  const runners = makeRunners(SHAPE);
  for (let round = 1; round <= ROUNDS; round++) {
    const batches = runners.map((r) => runnerSnapshot(r, SHAPE, round, TIME, TIME));
    const bodies: Buffer[] = [];
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      side.exporter.consume(batches);
      (globalThis as { gc?: () => void }).gc?.();
      const cpu = cpuMs();
      const start = performance.now();
      bodies.push(side.exporter.renderBytes());
      side.wall.push(performance.now() - start);
      side.cpu.push(cpuMs() - cpu);
    }
    if (!bodies[0]!.equals(bodies[1]!)) throw new Error(`round ${round}: the two builds wrote different bodies`);
  }
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  console.log(`prometheus exporter render A/B: 100k series, ${ROUNDS - WARMUP} steady renders each, alternating; same bytes every round`);
  for (const side of sides) {
    const wall = side.wall.slice(WARMUP);
    const cpu = side.cpu.slice(WARMUP);
    console.log(
      `  ${side.name.padEnd(12)} wall median ${ms(quantile(wall, 0.5))}, best ${ms(quantile(wall, 0))}; main-thread CPU median ${ms(quantile(cpu, 0.5))}, best ${ms(quantile(cpu, 0))}`,
    );
  }
  const [a, b] = sides.map((side) => quantile(side.cpu.slice(WARMUP), 0.5));
  console.log(`  CPU median this / other      ${(a! / b!).toFixed(2)}x`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const other = process.argv[2];
  if (other === undefined) {
    console.error('usage: node --expose-gc dist/bench/render-ab.js <dist directory of another build>');
    process.exit(2);
  }
  await run(resolve(other));
}

/**
 * Memory held per series by the whole pipeline, as the PrometheusReceiver feeds
 * it but without HTTP: 100 targets' ScrapeStates turning 1000-series pages into
 * batches for a real PrometheusExporter, whose render caches are filled. The
 * baseline, measured in the same run, keeps every page as parseFamilies output:
 * what a naive implementation would hold. The design target is <= 1 KiB per series.
 * ScrapeState alone is measured too, to show how the figure splits between the
 * receiver's series cache and the exporter's snapshots and label caches.
 *
 * Each side runs in a fresh process: RSS does not shrink when a heap frees
 * memory, so a second measurement in the same process would reuse the first's
 * pages and look smaller than it is.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { prometheusExporterConfigSchema } from '../src/exporters/prometheus/config.js';
import { PrometheusExporter } from '../src/exporters/prometheus/exporter.js';
import { parseFamilies } from '../src/prometheus/families.js';
import { ScrapeState } from '../src/receivers/prometheus/scrape-state.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../src/telemetry/health.js';
import { farmPage } from './farm.js';
import { fmt, gc } from './util.js';

const TARGETS = 100;
const SERIES = 1000;
const TARGET_BYTES_PER_SERIES = 1024;
const TEXT = 'text/plain; version=0.0.4';

const SIDES = ['pipeline', 'scrape-state', 'baseline'] as const;
type Side = (typeof SIDES)[number];

interface Measurement {
  readonly series: number;
  readonly heapBytes: number;
  readonly rssBytes: number;
}

/** Builds what one side keeps between scrapes; returns it (to keep it alive) and its series count. */
const build: Record<Side, () => { held: unknown; series: number }> = {
  pipeline: () => buildPipeline(true),
  /** The receiver's share of the pipeline's figure. */
  'scrape-state': () => buildPipeline(false),
  baseline() {
    const pages = Array.from({ length: TARGETS }, (_, t) => parseFamilies(farmPage(t, SERIES, 1)));
    const series = pages.reduce((n, families) => n + families.reduce((m, f) => m + f.samples.length, 0), 0);
    return { held: pages, series };
  },
};

function buildPipeline(withExporter: boolean): { held: unknown; series: number } {
  const states = Array.from({ length: TARGETS }, (_, t) => {
    // The receiver's resource for a target: identity plus the configured attributes.
    const instance = `127.0.0.1:${9000 + t}`;
    return new ScrapeState(
      resourceFromAttributes({
        'service.name': 'prometheus/bench',
        'service.instance.id': instance,
        'server.address': instance,
        backend: 'llama.cpp',
        model: `model-${t}`,
        mode: 'completion',
      }),
    );
  });
  const config = prometheusExporterConfigSchema.parse({ endpoint: '127.0.0.1:0' });
  const exporter = new PrometheusExporter(config, { id: 'prometheus', kind: 'exporter', logger: silentLogger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() });
  // Two scrapes, each followed by a render: the cold one creates every series, the
  // second is the steady state (new values, cached series and labels).
  for (let round = 0; round < 2; round++) {
    for (let t = 0; t < TARGETS; t++) {
      const { batch } = states[t]!.convert(farmPage(t, SERIES, round), TEXT, Date.now());
      if (withExporter) exporter.consume([batch]);
    }
    if (withExporter) exporter.render();
  }
  return { held: withExporter ? { states, exporter } : states, series: states.reduce((n, s) => n + s.seriesCount, 0) };
}

function settle(): NodeJS.MemoryUsage {
  // Twice: the first pass can leave weakly held objects for the second.
  gc();
  gc();
  return process.memoryUsage();
}

function measure(side: Side): Measurement {
  const before = settle();
  const { held, series } = build[side]();
  const after = settle();
  if (held === undefined) throw new Error('nothing held');
  return { series, heapBytes: after.heapUsed - before.heapUsed, rssBytes: after.rss - before.rss };
}

function measureInChild(side: Side): Measurement {
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), side], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`memory benchmark (${side}) failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as Measurement;
}

export async function run(): Promise<void> {
  console.log(`\n## memory per series: ${TARGETS} targets x ${SERIES} series, scrape state + prometheus exporter (target <= ${TARGET_BYTES_PER_SERIES} bytes)`);
  const pipeline = measureInChild('pipeline');
  const state = measureInChild('scrape-state');
  const baseline = measureInChild('baseline');
  const row = (label: string, m: Measurement) =>
    console.log(`${label.padEnd(36)} ${fmt(m.heapBytes / m.series).padStart(8)} bytes heap   ${fmt(m.rssBytes / m.series).padStart(8)} bytes RSS   (${fmt(m.series)} series)`);
  row('baseline: pages kept as parseFamilies', baseline);
  row('pipeline: ScrapeState + exporter', pipeline);
  row('  of which ScrapeState alone', state);
  const verdict = pipeline.heapBytes / pipeline.series <= TARGET_BYTES_PER_SERIES ? 'within' : 'over';
  console.log(
    `pipeline vs baseline                 ${fmt(pipeline.heapBytes / baseline.heapBytes)}x heap, ${fmt(pipeline.rssBytes / baseline.rssBytes)}x RSS; heap ${verdict} the 1 KiB target`,
  );
}

// Run as a script: measure one side and report it to the parent on stdout.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const side = process.argv[2];
  if (!SIDES.includes(side as Side)) throw new Error(`usage: memory.js ${SIDES.join('|')} (got ${side})`);
  if (!(globalThis as { gc?: unknown }).gc) throw new Error('run with --expose-gc');
  process.stdout.write(JSON.stringify(measure(side as Side)) + '\n');
}

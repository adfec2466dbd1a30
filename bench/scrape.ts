/**
 * Scrape-cycle cost: parse + convert (series cache) + hand-off, per 100k samples,
 * with series unchanged between scrapes (the steady state) against the first scrape
 * of the same pages (cold cache: every series parsed and created), measured in the
 * same run. Also a full cycle over real HTTP from the synthetic farm, and memory
 * per cached series.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ScrapeState } from '../src/receivers/prometheus/scrape-state.js';
import { PrometheusReceiver } from '../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../src/telemetry/health.js';
import { silentLogger } from '../src/telemetry/logger.js';
import type { Batch } from '../src/model/batch.js';
import { farmPage, RunnerFarm } from './farm.js';
import { cpuMs, fmt, gc, heapUsed } from './util.js';

const TARGETS = 100;
const SERIES = 1000;
const TEXT = 'text/plain; version=0.0.4';

export async function run(): Promise<void> {
  console.log(`\n## scrape cycle: ${TARGETS} targets x ${SERIES} series (llama.cpp-like, one histogram each)`);
  const states = Array.from({ length: TARGETS }, (_, t) => new ScrapeState(resourceFromAttributes({ target: `t${t}` })));
  const pages = (round: number) => Array.from({ length: TARGETS }, (_, t) => farmPage(t, SERIES, round));

  const cold = pages(0);
  gc();
  const heapBefore = heapUsed();
  let t0 = cpuMs();
  let samples = 0;
  for (let t = 0; t < TARGETS; t++) samples += states[t]!.convert(cold[t]!, TEXT, Date.now()).samples;
  const coldMs = cpuMs() - t0;
  gc();
  const heapAfter = heapUsed();
  const series = states.reduce((n, s) => n + s.seriesCount, 0);

  const rounds = 10;
  const warmPages = Array.from({ length: rounds }, (_, r) => pages(r + 1));
  // Warm-up (JIT), then measure.
  for (let t = 0; t < TARGETS; t++) states[t]!.convert(warmPages[0]![t]!, TEXT, Date.now());
  t0 = cpuMs();
  let warmSamples = 0;
  for (let r = 1; r < rounds; r++) for (let t = 0; t < TARGETS; t++) warmSamples += states[t]!.convert(warmPages[r]![t]!, TEXT, Date.now()).samples;
  const warmMs = cpuMs() - t0;

  const per100kCold = (coldMs / samples) * 1e5;
  const per100kWarm = (warmMs / warmSamples) * 1e5;
  console.log(`samples per cycle            ${fmt(samples)}`);
  console.log(`cold cycle (cache empty)     ${fmt(per100kCold)} ms CPU per 100k samples   (baseline)`);
  console.log(`steady cycle (cache warm)    ${fmt(per100kWarm)} ms CPU per 100k samples   ${fmt(per100kCold / per100kWarm)}x faster than cold`);
  console.log(`  = ${fmt((warmSamples / warmMs) * 1000 / 1e6)} M samples/s of parse + convert`);
  console.log(`memory per cached series     ${fmt((heapAfter - heapBefore) / series)} bytes of heap (${fmt(series)} series; target <= 1024)`);

  // Full cycle over HTTP: fetch (client and the farm's server share this process) + parse + convert.
  const farm = await RunnerFarm.start(TARGETS, SERIES);
  const config = prometheusReceiverConfigSchema.parse({
    scrape_interval: '1h',
    scrape_timeout: '10s',
    // The farm serves its page on every path: the llama.cpp insight would fetch it twice more
    // per scrape as /props and /v1/models. This measures the scrape alone, as `peers` does.
    llamacpp_insight: { enabled: false },
    targets: farm.urls.map((url, i) => ({ url, attributes: { backend: 'llama.cpp', model: `m${i}`, mode: 'completion' } })),
  });
  let delivered = 0;
  const sink = { consume: (b: Batch) => void (delivered += b.length) };
  const receiver = new PrometheusReceiver(config, { id: 'prometheus/bench', kind: 'receiver', logger: silentLogger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() }, sink);
  try {
    farm.round = 1;
    await Promise.all(receiver.scrapers.map((s) => s.scrapeOnce()));
    const cycles = 5;
    const wall0 = performance.now();
    t0 = cpuMs();
    for (let c = 0; c < cycles; c++) {
      farm.round++;
      await Promise.all(receiver.scrapers.map((s) => s.scrapeOnce()));
    }
    const cycleCpu = (cpuMs() - t0) / cycles;
    const cycleWall = (performance.now() - wall0) / cycles;
    console.log(`HTTP cycle (incl. farm side)  ${fmt(cycleCpu)} ms CPU, ${fmt(cycleWall)} ms wall per cycle of ${fmt(samples)} samples (${delivered} target snapshots delivered)`);
    console.log(`  => scraping ${TARGETS}x${SERIES} every second needs ~${fmt(cycleCpu / 1000)} cores incl. serving the farm (no peer is measured here: a peer figure is printed only when measured in the same run)`);
  } finally {
    await receiver.shutdown();
    await farm.close();
  }
}

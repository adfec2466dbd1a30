/**
 * Can one runner's page stall the others? A real prometheus receiver scrapes two
 * targets every 100 ms, a healthy llama.cpp-like page and a pathological one (30,000
 * labels per series, 200,000 `{}` lines, a 1 MB label value, 1 MB of escapes, keys
 * longer than V8 hashes, 45,000 new series per scrape), and feeds a real prometheus
 * exporter. A separate process serves both pages and asks the exporter's /metrics
 * (the healthy family, with `name[]`) every 5 ms.
 *
 * Reported per page, with the receiver's default limits and with every limit off:
 * the worst lateness of a healthy scrape (gap between two deliveries less the
 * interval), the worst /metrics answer time, and the event loop's worst delay; each
 * also as a ratio against a baseline run, in the same process, without the
 * pathological target. The aim is that no page delays anything by more than ~100 ms.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Consumer } from '../src/component.js';
import type { Batch } from '../src/model/batch.js';
import { prometheusExporterConfigSchema } from '../src/exporters/prometheus/config.js';
import { PrometheusExporter } from '../src/exporters/prometheus/exporter.js';
import { prometheusReceiverConfigSchema } from '../src/receivers/prometheus/config.js';
import { PrometheusReceiver } from '../src/receivers/prometheus/index.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import type { PathologicalKind, PeerCommand, PeerReport } from './stall-peer.js';
import { fmt } from './util.js';
import { HealthRegistry } from '../src/telemetry/health.js';

const INTERVAL_MS = 100;
const RUN_MS = 3000;
const KINDS: readonly PathologicalKind[] = ['labels', 'braces', 'values', 'escapes', 'long-keys', 'new-series'];
const LIMITS_OFF = { sample_limit: 0, label_limit: 0, label_name_length_limit: 0, label_value_length_limit: 0 };
const HEALTHY_FAMILY = 'llamacpp:tokens_predicted_total';

interface Figures {
  readonly healthyLateMs: number;
  readonly healthyScrapes: number;
  readonly metricsWorstMs: number;
  readonly metricsP99Ms: number;
  readonly metricsAnswers: number;
  readonly loopDelayMs: number;
  /** How the pathological target's scrapes went: reason → count. */
  readonly outcomes: string;
}

class Peer {
  private readonly waiting: Array<(report: PeerReport) => void> = [];

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (report: PeerReport) => this.waiting.shift()?.(report));
  }

  static async start(): Promise<{ peer: Peer; port: number }> {
    const script = fileURLToPath(new URL('./stall-peer.js', import.meta.url));
    const peer = new Peer(fork(script, ['--stall-peer'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const ready = await peer.next();
    if (ready.type !== 'ready') throw new Error('stall peer did not start');
    return { peer, port: ready.port };
  }

  next(): Promise<PeerReport> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async ask(command: PeerCommand): Promise<PeerReport> {
    const reply = this.next();
    this.child.send(command);
    return reply;
  }

  tell(command: PeerCommand): void {
    this.child.send(command);
  }
}

/** Records when each healthy snapshot arrives, and hands every batch to the exporter. */
class Tap implements Consumer {
  readonly healthyAt: number[] = [];
  constructor(private readonly exporter: PrometheusExporter) {}
  consume(batch: Batch): void {
    for (const rb of batch) if (rb.resource.attributes['mode'] === 'healthy' && rb.scopeMetrics.length > 0) this.healthyAt.push(performance.now());
    this.exporter.consume(batch);
  }
}

async function measure(peer: Peer, port: number, kind: PathologicalKind | 'none', limits: Record<string, number>): Promise<Figures> {
  await peer.ask({ type: 'page', kind });
  const selfMetrics = new SelfMetrics();
  const health = new HealthRegistry();
  const exporter = new PrometheusExporter(
    prometheusExporterConfigSchema.parse({ endpoint: '127.0.0.1:0', include_own_metrics: false }),
    { id: 'prometheus', kind: 'exporter', logger: silentLogger, selfMetrics, health },
  );
  await exporter.start();
  const tap = new Tap(exporter);
  const base = `http://127.0.0.1:${port}`;
  const targets = [{ url: `${base}/healthy`, attributes: { mode: 'healthy' } }];
  if (kind !== 'none') targets.push({ url: `${base}/pathological`, attributes: { mode: kind } });
  const config = prometheusReceiverConfigSchema.parse({ scrape_interval: `${INTERVAL_MS}ms`, scrape_timeout: `${INTERVAL_MS}ms`, targets, ...limits });
  const receiver = new PrometheusReceiver(config, { id: 'prometheus/stall', kind: 'receiver', logger: silentLogger, selfMetrics, health }, tap);

  const loop = monitorEventLoopDelay({ resolution: 5 });
  const address = exporter.address();
  if (address?.kind !== 'tcp') throw new Error('exporter did not listen on TCP');
  await receiver.start();
  // Let both targets get going (the first scrapes fill the caches), then measure.
  await sleep(600);
  tap.healthyAt.length = 0;
  loop.enable();
  peer.tell({ type: 'probe-start', url: `http://127.0.0.1:${address.port}/metrics?name[]=${encodeURIComponent(HEALTHY_FAMILY)}` });
  await sleep(RUN_MS);
  const probe = await peer.ask({ type: 'probe-stop' });
  loop.disable();
  // Read before shutdown: a removed target takes its self-metrics series with it.
  const failures = selfMetrics.counter('runner_metrics_receiver_scrape_failures_total', '');
  const scrapes = selfMetrics.counter('runner_metrics_receiver_scrapes_total', '');
  let outcomes = '';
  if (kind !== 'none') {
    const labels = { job: 'prometheus/stall', instance: `127.0.0.1:${port}`, mode: kind };
    const total = scrapes.value(labels);
    const reasons = ['parse', 'sample_limit', 'label_limit', 'label_name_length_limit', 'label_value_length_limit', 'timeout', 'body_too_large', 'io']
      .map((reason) => [reason, failures.value({ ...labels, reason })] as const)
      .filter(([, n]) => n > 0);
    const failed = reasons.reduce((n, [, k]) => n + k, 0);
    outcomes = [`${total - failed} ok`, ...reasons.map(([reason, n]) => `${n} ${reason}`)].join(', ');
  }
  const healthyFailures = ['timeout', 'io', 'connect']
    .map((reason) => [reason, failures.value({ job: 'prometheus/stall', instance: `127.0.0.1:${port}`, mode: 'healthy', reason })] as const)
    .filter(([, n]) => n > 0);
  if (healthyFailures.length > 0) outcomes += `; healthy target failed: ${healthyFailures.map(([reason, n]) => `${n} ${reason}`).join(', ')}`;
  await receiver.shutdown();
  await exporter.shutdown();
  if (probe.type !== 'probe') throw new Error('unexpected reply from the stall peer');

  const gaps = tap.healthyAt.slice(1).map((t, i) => t - tap.healthyAt[i]! - INTERVAL_MS);
  const latencies = [...probe.latenciesMs].sort((a, b) => a - b);
  return {
    healthyLateMs: Math.max(0, ...gaps),
    healthyScrapes: tap.healthyAt.length,
    metricsWorstMs: latencies.at(-1) ?? NaN,
    metricsP99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
    metricsAnswers: latencies.length,
    loopDelayMs: loop.max / 1e6,
    outcomes,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function row(name: string, f: Figures, base: Figures): string {
  const ratio = (a: number, b: number): string => `x${fmt(a / Math.max(b, 1))}`;
  return [
    name.padEnd(22),
    `${fmt(f.healthyLateMs).padStart(7)} ms ${ratio(f.healthyLateMs, base.healthyLateMs).padStart(7)} (${String(f.healthyScrapes).padStart(2)} batches)`,
    `${fmt(f.metricsWorstMs).padStart(7)} ms ${ratio(f.metricsWorstMs, base.metricsWorstMs).padStart(7)}  (p99 ${fmt(f.metricsP99Ms)} ms, ${f.metricsAnswers} answers)`,
    `${fmt(f.loopDelayMs).padStart(7)} ms ${ratio(f.loopDelayMs, base.loopDelayMs).padStart(7)}`,
    `  ${f.outcomes}`,
  ].join('  ');
}

export async function run(): Promise<void> {
  console.log(`\n## stall: a healthy target and a pathological one, scraped every ${INTERVAL_MS} ms; /metrics asked every 5 ms from another process`);
  console.log('worst delays over 3 s per page; ratios against the baseline (healthy target alone) measured in this run');
  console.log(`${'page'.padEnd(22)}  healthy scrape late                   /metrics answer                                  event-loop delay    pathological scrapes`);
  const { peer, port } = await Peer.start();
  try {
    const baseline = await measure(peer, port, 'none', {});
    console.log(row('baseline (healthy only)', baseline, baseline));
    for (const [title, limits] of [
      ['default limits', {}],
      ['every limit off', LIMITS_OFF],
    ] as const) {
      console.log(`-- ${title}`);
      let worst = 0;
      for (const kind of KINDS) {
        const figures = await measure(peer, port, kind, limits);
        worst = Math.max(worst, figures.healthyLateMs, figures.metricsWorstMs, figures.loopDelayMs);
        console.log(row(kind, figures, baseline));
      }
      console.log(`   worst delay with ${title}: ${fmt(worst)} ms (baseline worst ${fmt(Math.max(baseline.healthyLateMs, baseline.metricsWorstMs, baseline.loopDelayMs))} ms)`);
    }
  } finally {
    peer.tell({ type: 'exit' });
  }
}

/**
 * /metrics under load and under attack, with every client in its own process
 * (bench/load-client.ts):
 *  - throughput: full scrapes of 10 runners × 1000 series (10k series) by 8
 *    keep-alive clients, gzip as Prometheus asks, while one runner's snapshot
 *    changes every second; cached bodies against rendering every scrape (the
 *    baseline, same exporter with the cache off) in the same run;
 *  - slowloris: two processes try to hold 20k connections (half silent, half
 *    sending a request head a byte every 2 s, reopened when closed) while a
 *    real scraper scrapes every 50 ms on a new connection; against the exporter's
 *    listener and, as the baseline, Node's http server with its defaults (what
 *    the listener was before the connection guard).
 *
 * The attackers run at the lowest CPU priority (nice 19), standing in for
 * clients on other machines: on a two-core box their own reconnect loop would
 * otherwise take the CPU the server needs, which says nothing about the server.
 * The attackers need about 10k file descriptors each (`ulimit -n`); the
 * baseline server may need up to 20k, and on hitting its limit starts resetting
 * connections, which is part of what is measured.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { prometheusExporterConfigSchema } from '../src/exporters/prometheus/config.js';
import { PrometheusExporter } from '../src/exporters/prometheus/exporter.js';
import { HealthRegistry } from '../src/telemetry/health.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import type { AttackStatus, ClientJob, LatencyResult } from './load-client.js';
import { makeRunners, snapshot, type FarmShape } from './synthetic-batch.js';
import { fmt } from './util.js';

const SHAPE: FarmShape = { resources: 10, slots: 20, counters: 10, gauges: 12, histogramPoints: 40 };
const TIME: [number, number] = [1_700_000_000, 0];
const THROUGHPUT_MS = 5_000;
const CONCURRENCY = 8;
const ATTACKERS = 2;
const ATTACK_CONNECTIONS = 20_000;
const ATTACK_OPEN_PER_SECOND = 2_000;
const MAX_RAMP_MS = 40_000;
const PROBE_MS = 5_000;
const PROBE_EVERY_MS = 20;
const PROBE_TIMEOUT_MS = 2_000;

const CLIENT = fileURLToPath(new URL('./load-client.js', import.meta.url));

function client(job: ClientJob): ChildProcess {
  return fork(CLIENT, [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function result<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`load client exited with ${code} before answering`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as T);
    });
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function describe(r: LatencyResult): string {
  const rate = r.requests / r.seconds;
  const l = r.latencies;
  const failed = r.failures > 0 ? `, ${r.failures} failed (${r.firstError})` : '';
  return `${fmt(rate)} scrapes/s  p50 ${fmt(percentile(l, 50))} ms  p99 ${fmt(percentile(l, 99))} ms  max ${fmt(l[l.length - 1] ?? NaN)} ms  ${fmt(r.bytes / r.seconds / 1e6)} MB/s${failed}`;
}

async function status(attackers: ChildProcess[]): Promise<AttackStatus> {
  const all = await Promise.all(
    attackers.map((a) => {
      const answer = result<AttackStatus>(a);
      a.send('status');
      return answer;
    }),
  );
  return all.reduce((s, a) => ({ open: s.open + a.open, opened: s.opened + a.opened, closedByServer: s.closedByServer + a.closedByServer }));
}

/** Holds the attack on `port` while a real scraper probes it; returns the probe's figures. */
async function underAttack(port: number, label: string): Promise<LatencyResult> {
  const perAttacker = ATTACK_CONNECTIONS / ATTACKERS;
  const attackers = Array.from({ length: ATTACKERS }, () => {
    const attacker = client({ kind: 'attack', port, connections: perAttacker, openPerSecond: ATTACK_OPEN_PER_SECOND / ATTACKERS });
    // The attacker is someone else's machine: here it gets only the CPU the server and the scraper leave.
    setPriority(attacker.pid!, 19);
    return attacker;
  });
  try {
    // Ramp up: the attack is on once the attackers have opened their 20k (or given up trying after a while).
    const rampEnd = performance.now() + MAX_RAMP_MS;
    let before = await status(attackers);
    while (before.opened < ATTACK_CONNECTIONS && performance.now() < rampEnd) {
      await new Promise((r) => setTimeout(r, 1_000));
      before = await status(attackers);
    }
    const probe = await result<LatencyResult>(
      client({ kind: 'probe', port, durationMs: PROBE_MS, everyMs: PROBE_EVERY_MS, timeoutMs: PROBE_TIMEOUT_MS }),
    );
    const after = await status(attackers);
    console.log(
      `  ${label}: attack opened ${fmt(after.opened)} connections (${fmt(before.open)} held by the attackers when probing began, ` +
        `${fmt(after.open)} at the end; ${fmt(after.closedByServer)} closed by the server)`,
    );
    return probe;
  } finally {
    for (const a of attackers) a.disconnect();
    await Promise.all(attackers.map((a) => new Promise((r) => (a.exitCode !== null ? r(undefined) : a.once('exit', r)))));
  }
}

function exporter(cacheBodies: boolean): PrometheusExporter {
  const config = prometheusExporterConfigSchema.parse({ endpoint: '127.0.0.1:0' });
  const context = { id: 'prometheus', kind: 'exporter' as const, logger: silentLogger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() };
  return new PrometheusExporter(config, context, { cacheBodies });
}

function portOf(e: PrometheusExporter): number {
  const a = e.address();
  if (a?.kind !== 'tcp') throw new Error('not listening on TCP');
  return a.port;
}

export async function run(): Promise<void> {
  const runners = makeRunners(SHAPE);
  const cached = exporter(true);
  const uncached = exporter(false);
  let round = 1;
  const feed = (batch: ReturnType<typeof snapshot>[]) => {
    cached.consume(batch);
    uncached.consume(batch);
  };
  feed(runners.map((r) => snapshot(r, SHAPE, round, TIME, TIME)));
  await cached.start();
  await uncached.start();
  // As receivers do: a runner's new snapshot every second, each runner every 10 s.
  let next = 0;
  const feeder = setInterval(() => {
    round++;
    feed([snapshot(runners[next]!, SHAPE, round, TIME, TIME)]);
    next = (next + 1) % runners.length;
  }, 1_000);

  const renderMs: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    uncached.render();
    renderMs.push(performance.now() - t0);
  }
  renderMs.sort((a, b) => a - b);
  const series = cached.render().split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const load = () => `load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`;
  console.log(`\n(${load()}: on a busy machine every latency below is mostly waiting for a CPU; compare with the baselines of this run)`);
  console.log(`\n## /metrics under load: ${SHAPE.resources} runners, ${fmt(series)} series (own metrics included), ${CONCURRENCY} keep-alive clients in another process, ${THROUGHPUT_MS / 1000} s each`);
  try {
    const throughput = (port: number, gzip: boolean) =>
      result<LatencyResult>(client({ kind: 'throughput', port, durationMs: THROUGHPUT_MS, concurrency: CONCURRENCY, gzip }));
    console.log(`  one full render (median of 9, in the server process)  ${fmt(renderMs[4]!)} ms: the cached endpoint renders once per data change, so its p99 is about this`);
    const base = await throughput(portOf(uncached), true);
    console.log(`  baseline, rendered every scrape, gzip   ${describe(base)}`);
    const gz = await throughput(portOf(cached), true);
    console.log(`  cached, gzip                            ${describe(gz)}`);
    const plain = await throughput(portOf(cached), false);
    console.log(`  cached, uncompressed                    ${describe(plain)}`);
    const rate = (r: LatencyResult) => r.requests / r.seconds;
    console.log(
      `  ratio cached / baseline (gzip)           ${fmt(rate(gz) / rate(base))}x scrapes/s, p99 ${fmt(percentile(gz.latencies, 99) / percentile(base.latencies, 99))}x`,
    );

    console.log(
      `\n## slowloris: ${ATTACKERS} processes try to hold ${fmt(ATTACK_CONNECTIONS)} connections (opened ${fmt(ATTACK_OPEN_PER_SECOND)}/s), ` +
        `a real scraper every ${PROBE_EVERY_MS} ms on a new connection for ${PROBE_MS / 1000} s (ulimit -n here: soft limit applies per process)`,
    );
    const quiet = await result<LatencyResult>(
      client({ kind: 'probe', port: portOf(cached), durationMs: PROBE_MS, everyMs: PROBE_EVERY_MS, timeoutMs: PROBE_TIMEOUT_MS }),
    );
    console.log(`  reference: exporter, no attack          ${describe(quiet)}`);
    const plainServer = await nodeDefaultServer(Buffer.from(cached.render()));
    const basePort = (plainServer.address() as AddressInfo).port;
    const baseProbe = await underAttack(basePort, "baseline, Node's http server with its defaults");
    plainServer.closeAllConnections();
    await new Promise((r) => plainServer.close(r));
    console.log(`  baseline real scrapes                   ${describe(baseProbe)}`);
    const probe = await underAttack(portOf(cached), `exporter (max_connections ${512})`);
    console.log(`  exporter real scrapes                   ${describe(probe)}`);
    const failedShare = (r: LatencyResult) => (100 * r.failures) / (r.failures + r.requests);
    console.log(
      `  failed real scrapes: baseline ${fmt(failedShare(baseProbe))}%, exporter ${fmt(failedShare(probe))}%; ` +
        `exporter p99 ${fmt(percentile(probe.latencies, 99))} ms (goal < 100 ms)`,
    );
    console.log(`  (${load()})`);
  } finally {
    clearInterval(feeder);
    await cached.shutdown();
    await uncached.shutdown();
  }
}

/** Node's http server as it comes (no cap, 60 s header timeout checked every 30 s), serving a fixed body. */
async function nodeDefaultServer(body: Buffer): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'Content-Length': body.length });
    res.end(body);
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

// Run directly (`node dist/bench/load.js`) as well as from bench/run.ts.
if (import.meta.url === `file://${process.argv[1]}`) await run();

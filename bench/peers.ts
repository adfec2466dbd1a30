/**
 * `npm run bench -- peers`: what scraping costs us against the scrapers people run
 * instead, side by side in one run, against one runner farm in its own process.
 *
 *  - prometheus: Debian's Prometheus server (scrapes and writes its TSDB);
 *  - vmagent: Debian's vmagent (victoria-metrics; scrapes and remote-writes to a
 *    sink in this process that answers 204);
 *  - ours: the collector with a `prometheus` exporter (nobody scrapes its /metrics
 *    during the window: this is the scrape side; `npm run bench -- render` is the other);
 *  - ours+otlp: the same, also pushing OTLP/HTTP (protobuf, gzip, the Grafana Cloud
 *    shape) every 10 s to a sink in this process.
 *
 * Each process runs alone against the farm: a warm-up, then a window over which its
 * CPU (utime + stime) and RSS are read from /proc; all rounds run in turn
 * (prometheus, vmagent, ours, ours+otlp, then again), so a change in the machine's
 * load spreads over every side. Each window ends by checking that every target is up.
 * The idle collector (same config, no targets) gives the RSS baseline per series.
 *
 * Options (flags after `peers`, or env): --targets=N (PEERS_TARGETS, 100),
 * --series=N (PEERS_SERIES, 1000), --interval=S (PEERS_INTERVAL, 1), --warmup=S
 * (PEERS_WARMUP, 15), --window=S (PEERS_WINDOW, 60), --rounds=N (PEERS_ROUNDS, 2),
 * --only=a,b (PEERS_ONLY: prometheus,vmagent,ours,ours+otlp,idle), --profile=DIR
 * (PEERS_PROFILE: our collector runs under `node --cpu-prof`, profiles in DIR). For
 * experiments, PEERS_NODE_FLAGS adds node flags to our collector's command line
 * (e.g. `--trace-gc`), PEERS_OURS_LOG appends its stdout to a file, and
 * PEERS_BASE_CLI=…/dist/src/cli.js adds side `ours@base`: another build of the
 * collector (e.g. the previous commit's), to measure a change against, interleaved.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { farmSeries } from './peer-farm.js';
import { fmt } from './util.js';

const PEERS = ['prometheus', 'vmagent', 'ours', 'ours+otlp', 'ours@base'] as const;
type Peer = (typeof PEERS)[number];

interface Options {
  targets: number;
  series: number;
  intervalS: number;
  warmupS: number;
  windowS: number;
  rounds: number;
  only: Set<string>;
  profileDir: string | undefined;
}

function options(): Options {
  const flags = new Map<string, string>();
  for (const arg of process.argv.slice(2)) {
    const m = /^--([a-z]+)=(.*)$/.exec(arg);
    if (m) flags.set(m[1]!, m[2]!);
  }
  const pick = (flag: string, env: string, fallback: string) => flags.get(flag) ?? process.env[env] ?? fallback;
  const num = (flag: string, env: string, fallback: number) => {
    const v = Number(pick(flag, env, String(fallback)));
    if (!(v > 0)) throw new Error(`--${flag} (${env}) must be a positive number`);
    return v;
  };
  return {
    targets: num('targets', 'PEERS_TARGETS', 100),
    series: num('series', 'PEERS_SERIES', 1000),
    intervalS: num('interval', 'PEERS_INTERVAL', 1),
    warmupS: num('warmup', 'PEERS_WARMUP', 15),
    windowS: num('window', 'PEERS_WINDOW', 60),
    rounds: num('rounds', 'PEERS_ROUNDS', 2),
    only: new Set(pick('only', 'PEERS_ONLY', [...PEERS, 'idle'].join(',')).split(',')),
    profileDir: flags.get('profile') ?? process.env.PEERS_PROFILE,
  };
}

// ---- /proc

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

// ---- helpers

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A remote-write / OTLP sink: reads every body, answers 204, counts bytes. */
async function startSink(): Promise<{ server: Server; url: string; bytes: () => number }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bytes: () => bytes };
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function spawnLogged(command: string, args: string[], log: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => {
    log.push(chunk.toString());
    if (log.length > 50) log.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

// ---- the sides

interface Side {
  readonly child: ChildProcess;
  /** How many targets are up now (throws when it cannot tell). */
  up(): Promise<number>;
  cleanup(): void;
}

interface Context {
  readonly opts: Options;
  readonly urls: string[];
  readonly sinkUrl: string;
  readonly log: string[];
}

function scrapeConfig(ctx: Context): string {
  const targets = ctx.urls.map((u) => new URL(u).host);
  const interval = `${ctx.opts.intervalS}s`;
  return JSON.stringify({
    global: { scrape_interval: interval, scrape_timeout: interval },
    scrape_configs: [{ job_name: 'farm', static_configs: [{ targets }] }],
  });
}

async function prometheusUp(base: string): Promise<number> {
  const body = (await getJson(`${base}/api/v1/targets?state=active`)) as { data: { activeTargets: Array<{ health: string }> } };
  return body.data.activeTargets.filter((t) => t.health === 'up').length;
}

async function startPrometheus(ctx: Context): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'peers-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), scrapeConfig(ctx));
  const port = await freePort();
  const child = spawnLogged(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    ctx.log,
  );
  return { child, up: () => prometheusUp(`http://127.0.0.1:${port}`), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function startVmagent(ctx: Context): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'peers-vmagent-'));
  writeFileSync(join(dir, 'scrape.yml'), scrapeConfig(ctx));
  const port = await freePort();
  const child = spawnLogged(
    'vmagent',
    [
      `-promscrape.config=${join(dir, 'scrape.yml')}`,
      `-remoteWrite.url=${ctx.sinkUrl}/api/v1/write`,
      `-remoteWrite.tmpDataPath=${join(dir, 'data')}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-loggerLevel=ERROR',
    ],
    ctx.log,
  );
  return { child, up: () => prometheusUp(`http://127.0.0.1:${port}`), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** The node flags a build's `runner-metrics` command starts with (its shebang), so each side runs as installed. */
function shebangFlags(cli: string): string[] {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0]!;
  const words = first.replace(/^#!/, '').trim().split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
}

async function startOurs(ctx: Context, variant: 'ours' | 'ours+otlp' | 'ours@base' | 'idle', round: number): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'peers-ours-'));
  const port = await freePort();
  const interval = `${ctx.opts.intervalS}s`;
  const exporters: Record<string, unknown> = { prometheus: { endpoint: `127.0.0.1:${port}` } };
  if (variant === 'ours+otlp') {
    exporters['otlphttp/sink'] = { endpoint: ctx.sinkUrl, export_interval: '10s', resource_to_attributes: ['backend', 'model', 'mode'] };
  }
  // Idle: the same receiver, with a target list (file_sd) that is empty.
  writeFileSync(join(dir, 'targets.json'), '[]');
  const targets =
    variant === 'idle'
      ? { file_sd_configs: [{ files: [join(dir, 'targets.json')] }] }
      : { targets: ctx.urls.map((url, i) => ({ url, attributes: { backend: 'llama.cpp', model: `model-${i}`, mode: 'completion' } })) };
  const config = {
    // The peers only scrape: the llama.cpp insight (two JSON requests per llama.cpp target and scrape) is off here.
    receivers: { 'prometheus/farm': { scrape_interval: interval, scrape_timeout: interval, llamacpp_insight: { enabled: false }, ...targets } },
    exporters,
    service: { telemetry: { logs: { level: 'warn' } }, pipelines: { metrics: { receivers: ['prometheus/farm'], exporters: Object.keys(exporters) } } },
  };
  writeFileSync(join(dir, 'config.yaml'), JSON.stringify(config));
  const profile = ctx.opts.profileDir && variant !== 'idle' ? ['--cpu-prof', `--cpu-prof-dir=${ctx.opts.profileDir}`, `--cpu-prof-name=${variant}-${round}.cpuprofile`] : [];
  const flags = (process.env.PEERS_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const cli = variant === 'ours@base' ? process.env.PEERS_BASE_CLI! : CLI;
  const child = spawnLogged(process.execPath, [...shebangFlags(cli), ...flags, ...profile, cli, '--config', join(dir, 'config.yaml')], ctx.log);
  if (process.env.PEERS_OURS_LOG) child.stdout!.on('data', (c: Buffer) => appendFileSync(process.env.PEERS_OURS_LOG!, c));
  return {
    child,
    async up() {
      const body = (await getJson(`http://127.0.0.1:${port}/api/targets`)) as { targets: Array<{ state: string; job: string }> };
      return body.targets.filter((t) => t.state === 'up' && t.job === 'prometheus/farm').length;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---- a run

interface Sample {
  readonly cores: number;
  readonly rss: number;
  readonly up: number;
  readonly farmCores: number;
}

async function measure(ctx: Context, farm: ChildProcess, start: () => Promise<Side>, expectUp: number): Promise<Sample> {
  const { warmupS, windowS } = ctx.opts;
  ctx.log.length = 0;
  const side = await start();
  try {
    const pid = side.child.pid!;
    await sleep(warmupS * 1000);
    if (side.child.exitCode !== null) throw new Error(`exited early (${side.child.exitCode}): ${ctx.log.join('')}`);
    const cpu0 = cpuSeconds(pid);
    const farm0 = cpuSeconds(farm.pid!);
    const t0 = performance.now();
    const rss: number[] = [];
    const end = t0 + windowS * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(1000, end - performance.now()));
      rss.push(rssBytes(pid));
    }
    const seconds = (performance.now() - t0) / 1000;
    const cores = (cpuSeconds(pid) - cpu0) / seconds;
    const farmCores = (cpuSeconds(farm.pid!) - farm0) / seconds;
    const up = await side.up();
    if (up !== expectUp) console.log(`  !! ${up} of ${expectUp} targets up`);
    return { cores, rss: rss.reduce((a, b) => a + b, 0) / rss.length, up, farmCores };
  } finally {
    await stopChild(side.child);
    side.cleanup();
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const mb = (bytes: number) => `${fmt(bytes / 1e6)} MB`;

export async function run(): Promise<void> {
  const opts = options();
  const setup = spawnSync('bash', [fileURLToPath(new URL('../../bench/setup/ensure-peers.sh', import.meta.url))], { stdio: 'inherit' });
  if (setup.status !== 0) throw new Error('peers: prometheus and vmagent are needed (bench/setup/ensure-peers.sh)');
  const seriesPerTarget = farmSeries(opts.series);
  const series = opts.targets * seriesPerTarget;
  console.log(
    `\n## peers: ${opts.targets} targets x ${seriesPerTarget} series every ${opts.intervalS} s, ${opts.warmupS} s warm-up, ${opts.windowS} s window, ${opts.rounds} rounds`,
  );
  const farmLog: string[] = [];
  const farm = spawnLogged(process.execPath, [fileURLToPath(new URL('./peer-farm.js', import.meta.url)), String(opts.targets), String(opts.series)], farmLog);
  const sink = await startSink();
  try {
    const urls = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      farm.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve((JSON.parse(out.slice(0, out.indexOf('\n'))) as { urls: string[] }).urls);
      });
      farm.once('exit', (code) => reject(new Error(`farm exited (${code}): ${farmLog.join('')}`)));
    });
    const ctx: Context = { opts, urls, sinkUrl: sink.url, log: [] };
    const starters: Record<Peer, (round: number) => Promise<Side>> = {
      prometheus: () => startPrometheus(ctx),
      vmagent: () => startVmagent(ctx),
      ours: (round) => startOurs(ctx, 'ours', round),
      'ours+otlp': (round) => startOurs(ctx, 'ours+otlp', round),
      'ours@base': (round) => startOurs(ctx, 'ours@base', round),
    };
    const results = new Map<Peer, Sample[]>();
    for (let round = 1; round <= opts.rounds; round++) {
      for (const peer of PEERS) {
        if (!opts.only.has(peer) || (peer === 'ours@base' && !process.env.PEERS_BASE_CLI)) continue;
        const s = await measure(ctx, farm, () => starters[peer](round), opts.targets);
        results.set(peer, [...(results.get(peer) ?? []), s]);
        console.log(
          `${peer.padEnd(10)} round ${round}: ${s.cores.toFixed(3)} cores, RSS ${mb(s.rss)}, ${s.up}/${opts.targets} targets up (farm ${s.farmCores.toFixed(3)} cores)`,
        );
      }
    }
    let idle: Sample | undefined;
    if (opts.only.has('idle')) {
      idle = await measure(ctx, farm, () => startOurs(ctx, 'idle', 0), 0);
      console.log(`${'idle'.padEnd(10)} (no targets): ${idle.cores.toFixed(3)} cores, RSS ${mb(idle.rss)}`);
    }

    const cores = (peer: Peer) => (results.has(peer) ? mean(results.get(peer)!.map((s) => s.cores)) : NaN);
    const rss = (peer: Peer) => (results.has(peer) ? mean(results.get(peer)!.map((s) => s.rss)) : NaN);
    console.log('\nmean over rounds:');
    for (const peer of PEERS) {
      if (results.has(peer)) console.log(`  ${peer.padEnd(10)} ${cores(peer).toFixed(3)} cores, RSS ${mb(rss(peer))}`);
    }
    if (results.has('ours@base')) console.log(`ours vs ours@base: ${fmt(cores('ours') / cores('ours@base'))}× cpu, ${fmt(rss('ours') / rss('ours@base'))}× RSS`);
    console.log(`otlp push adds: ${fmt(cores('ours+otlp') - cores('ours'))} cores (${sink.bytes()} bytes received by the sinks in all)`);
    console.log(`ours+otlp cpu vs prometheus: ${fmt(cores('ours+otlp') / cores('prometheus'))}×, vs vmagent: ${fmt(cores('ours+otlp') / cores('vmagent'))}×`);
    console.log(`scrape cpu vs prometheus: ${fmt(cores('ours') / cores('prometheus'))}×`);
    console.log(`scrape cpu vs vmagent: ${fmt(cores('ours') / cores('vmagent'))}×`);
    console.log(`rss per series: ${idle ? fmt((rss('ours') - idle.rss) / series) : 'NaN'} bytes`);
  } finally {
    await stopChild(farm);
    sink.server.closeAllConnections();
    await new Promise((resolve) => sink.server.close(resolve));
  }
}

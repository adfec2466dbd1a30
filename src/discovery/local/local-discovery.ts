/**
 * Local discovery: which runners listen on this machine now. Every interval,
 * each candidate (a port on 127.0.0.1, a configured URL, a Unix socket) is
 * looked at once, and costs at most one request:
 *
 *  - closed, or not yet known: one GET, the next question of its list (the
 *    expected runner's own first). A refused connect ends it: the port is
 *    closed. An answer that names a runner makes it one (`onFound`); a clear "no"
 *    (another status, another shape) moves on to the next question; a timeout or
 *    a connection error asks the same question again next time.
 *  - a runner, or a port that answered every question and is none: a bare
 *    connect, to notice it closing. A runner whose port closes is lost
 *    (`onLost`) at once. A port that is no runner is logged once at debug and
 *    left alone until it closes and opens again.
 *  - an address some configured component already scrapes (`claimed`): nothing
 *    at all; a runner served here whose address becomes claimed is handed over.
 *
 * Never an inference request, a model load or a wake-up: every question is a
 * read-only GET the runner answers from memory (runners/recognize.ts).
 */
import type { Logger } from '../../telemetry/logger.js';
import type { Counter, Gauge, SelfMetrics } from '../../telemetry/self-metrics.js';
import type { FoundRunner } from '../../runners/recognize.js';
import type { PathGlob } from '../glob.js';
import type { DiscoveryTelemetry } from '../telemetry.js';
import { Periodic } from '../../receivers/periodic.js';
import { normaliseAddress, socketCandidates, type Candidate } from './candidates.js';
import { connectProbe, httpProbe } from './probe.js';

export const LOCAL_MECHANISM = 'local';

export type LostBecause = 'closed' | 'claimed' | 'gone';

export interface LocalDiscoveryOptions {
  /** Ports and URLs, one per address (the first of an address wins). */
  readonly candidates: readonly Candidate[];
  readonly socketGlobs: readonly PathGlob[];
  readonly modelRunnerSockets: ReadonlyArray<{ path: string; dockerDesktop: boolean }>;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Addresses configured components scrape now (any spelling of 127.0.0.1). */
  readonly claimed: () => ReadonlySet<string>;
  readonly telemetry: DiscoveryTelemetry;
  readonly selfMetrics: SelfMetrics;
  readonly logger: Logger;
  readonly onFound: (candidate: Candidate, runner: FoundRunner) => Promise<void>;
  readonly onLost: (candidate: Candidate, because: LostBecause) => Promise<void>;
}

type Phase = 'closed' | 'asking' | 'runner' | 'not_runner' | 'claimed';

interface State {
  phase: Phase;
  /** Index of the next question while asking. */
  step: number;
  candidate: Candidate;
  runner?: FoundRunner;
}

export class LocalDiscovery {
  private readonly periodic: Periodic;
  private readonly states = new Map<string, State>();
  private readonly probes: Counter;
  private readonly candidatesGauge: Gauge;
  private readonly runnersGauge: Gauge;
  private readonly kindsSeen = new Set<FoundRunner>();

  constructor(private readonly opts: LocalDiscoveryOptions) {
    this.periodic = new Periodic(opts.intervalMs, () => this.look());
    const m = opts.selfMetrics;
    this.probes = m.counter('runner_metrics_discovery_probes_total', 'Probes local discovery made, per receiver and probe (connect: a bare connect; http: one GET).');
    this.candidatesGauge = m.gauge('runner_metrics_discovery_candidates', 'Addresses (ports, URLs, sockets) local discovery looks at each interval.');
    this.runnersGauge = m.gauge('runner_metrics_discovery_runners', 'Runners local discovery found and serves now, per kind.');
  }

  /** Runners found now, by address. */
  get runners(): ReadonlyMap<string, FoundRunner> {
    const out = new Map<string, FoundRunner>();
    for (const [key, s] of this.states) if (s.phase === 'runner') out.set(key, s.runner!);
    return out;
  }

  start(): void {
    this.opts.telemetry.register(LOCAL_MECHANISM);
    this.periodic.start(0);
  }

  /** One look now (tests and benchmarks); resolves when it is done. */
  lookOnce(): Promise<void> {
    return this.periodic.runOnce();
  }

  /** Stops looking; every runner still served is lost (`gone`). */
  async stop(): Promise<void> {
    await this.periodic.stop();
    for (const [key, s] of this.states) {
      if (s.phase === 'runner') await this.opts.onLost(s.candidate, 'gone').catch(() => undefined);
      this.states.delete(key);
    }
    this.candidatesGauge.remove({ receiver: this.opts.telemetry.receiverId });
    for (const kind of this.kindsSeen) this.runnersGauge.remove({ receiver: this.opts.telemetry.receiverId, kind });
  }

  private async look(): Promise<void> {
    const o = this.opts;
    const { candidates: sockets, unreadable } = await socketCandidates(o.socketGlobs, o.modelRunnerSockets);
    for (const u of unreadable) o.telemetry.error(LOCAL_MECHANISM, 'read', `glob:${u.glob}`, `${u.glob}: ${u.message}`, { paths: u.glob });
    const current = new Map<string, Candidate>();
    for (const c of [...o.candidates, ...sockets]) if (!current.has(c.key)) current.set(c.key, c);
    this.candidatesGauge.set({ receiver: o.telemetry.receiverId }, current.size);
    const claimed = new Set([...o.claimed()].map(normaliseAddress));
    await Promise.all([...current.values()].map((c) => this.lookAt(c, claimed.has(c.key)).catch((err) => o.logger.error('local discovery failed', { address: c.key, error: String(err) }))));
    // A socket that is gone takes its runner along.
    for (const [key, s] of this.states) {
      if (current.has(key)) continue;
      this.states.delete(key);
      if (s.phase === 'runner') await o.onLost(s.candidate, 'gone');
    }
    this.countRunners();
  }

  private async lookAt(c: Candidate, claimed: boolean): Promise<void> {
    let s = this.states.get(c.key);
    if (s === undefined) this.states.set(c.key, (s = { phase: 'closed', step: 0, candidate: c }));
    if (claimed) {
      if (s.phase === 'runner') {
        this.opts.logger.info('local runner is configured elsewhere; left to that configuration', { address: c.key, runner: s.runner });
        await this.lose(s, 'claimed');
      }
      s.phase = 'claimed';
      return;
    }
    if (s.phase === 'runner' || s.phase === 'not_runner') return this.stillThere(s);
    return this.ask(s);
  }

  /** A bare connect: is a known port still open? */
  private async stillThere(s: State): Promise<void> {
    const o = this.opts;
    this.probes.add({ receiver: o.telemetry.receiverId, probe: 'connect' });
    const r = await connectProbe(s.candidate.address, o.timeoutMs);
    if (r.outcome === 'open') return;
    if (r.outcome === 'error') {
      // A busy runner may be slow to accept: its scraper tells whether it is down.
      this.probeError(s, r.reason, r.message);
      return;
    }
    if (s.phase === 'runner') {
      o.logger.info('local runner gone', { address: s.candidate.key, runner: s.runner });
      await this.lose(s, 'closed');
    }
    s.phase = 'closed';
    s.step = 0;
  }

  /** The next question, one GET. */
  private async ask(s: State): Promise<void> {
    const o = this.opts;
    const c = s.candidate;
    if (s.phase !== 'asking') {
      s.phase = 'asking';
      s.step = 0;
    }
    const question = c.questions[s.step]!;
    this.probes.add({ receiver: o.telemetry.receiverId, probe: 'http' });
    const r = await httpProbe(c.address, c.pathPrefix + question.path, o.timeoutMs);
    if (r.outcome === 'closed') {
      s.phase = 'closed';
      return;
    }
    if (r.outcome === 'error') {
      this.probeError(s, r.reason, r.message); // asked again next time
      return;
    }
    o.telemetry.clear(`probe:${c.key}`, LOCAL_MECHANISM, { address: c.key });
    const runner = r.status >= 200 && r.status < 300 ? question.recognise(r.body) : undefined;
    if (runner !== undefined) {
      s.phase = 'runner';
      s.runner = runner;
      o.logger.info('local runner found', { address: c.key, runner, by: `GET ${c.pathPrefix}${question.path}`, found: c.discovery.source });
      await o.onFound(c, runner);
      return;
    }
    if (r.status >= 500) return; // a runner failing for now: ask the same again
    s.step++;
    if (s.step < c.questions.length) return;
    s.phase = 'not_runner';
    o.logger.debug('port answers but is no runner; left alone until it closes', { address: c.key, asked: c.questions.map((q) => c.pathPrefix + q.path) });
  }

  private async lose(s: State, because: LostBecause): Promise<void> {
    s.runner = undefined;
    await this.opts.onLost(s.candidate, because);
  }

  private probeError(s: State, reason: 'timeout' | 'connect', message: string): void {
    this.opts.telemetry.error(LOCAL_MECHANISM, reason, `probe:${s.candidate.key}`, `${s.candidate.key}: ${message}`, { address: s.candidate.key }, 'debug');
  }

  private countRunners(): void {
    const receiver = this.opts.telemetry.receiverId;
    const counts = new Map<FoundRunner, number>();
    for (const s of this.states.values()) if (s.phase === 'runner') counts.set(s.runner!, (counts.get(s.runner!) ?? 0) + 1);
    for (const kind of counts.keys()) this.kindsSeen.add(kind);
    for (const kind of this.kindsSeen) this.runnersGauge.set({ receiver, kind }, counts.get(kind) ?? 0);
    this.opts.telemetry.setTargets(LOCAL_MECHANISM, [...counts.values()].reduce((a, b) => a + b, 0));
  }
}

/**
 * The `local_runners` receiver: zero-config discovery of the runners on this
 * machine. Local discovery (src/discovery/local) looks at the well-known ports
 * on 127.0.0.1, the user's ports and URLs, and Unix sockets, and tells which
 * runner answers there; for each runner found this receiver starts the receiver
 * that scrapes that kind (prometheus with identity, a llama.cpp router's
 * discovery, ollama, docker_model_runner), and stops it, withdrawing every
 * series it served, as soon as the runner is gone. An address a configured
 * component already scrapes is left to it.
 */
import type { ComponentContext, Consumer, Receiver, ReceiverFactory } from '../../component.js';
import { parseGlob } from '../../discovery/glob.js';
import { modelRunnerSockets, portCandidate, urlCandidate, type Candidate } from '../../discovery/local/candidates.js';
import { LocalDiscovery, LOCAL_MECHANISM, type LostBecause } from '../../discovery/local/local-discovery.js';
import { DiscoveryTelemetry } from '../../discovery/telemetry.js';
import { WELL_KNOWN_PORTS, type FoundRunner } from '../../runners/recognize.js';
import type { RunnerReporter } from '../../telemetry/health.js';
import type { SelfMetrics } from '../../telemetry/self-metrics.js';
import { localRunnersReceiverConfigSchema, type LocalRunnersReceiverConfig } from './config.js';
import { ResourceTracker } from './resource-tracker.js';
import { createRunnerReceiver, unsupported } from './runner-receiver.js';

interface Served {
  readonly receiver: Receiver | undefined;
  readonly tracker: ResourceTracker;
  readonly metrics: SelfMetrics;
  readonly listed: RunnerReporter;
}

export class LocalRunnersReceiver implements Receiver {
  readonly discovery: LocalDiscovery;
  private readonly served = new Map<string, Served>();
  private readonly telemetry: DiscoveryTelemetry;

  constructor(
    private readonly config: LocalRunnersReceiverConfig,
    private readonly context: ComponentContext,
    private readonly next: Consumer,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.telemetry = new DiscoveryTelemetry(context.id, context.logger, context.selfMetrics, context.health);
    this.discovery = new LocalDiscovery({
      candidates: candidatesOf(config),
      socketGlobs: config.sockets.map(parseGlob),
      modelRunnerSockets: config.model_runner_sockets ? modelRunnerSockets(env) : [],
      intervalMs: config.interval,
      timeoutMs: Math.min(config.probe_timeout, config.interval),
      claimed: () => context.health.claimedAddresses(),
      telemetry: this.telemetry,
      selfMetrics: context.selfMetrics,
      logger: context.logger,
      onFound: (c, runner) => this.serve(c, runner),
      onLost: (c, because) => this.drop(c, because),
    });
  }

  /** The address of each runner served now, and its kind. */
  get runners(): ReadonlyMap<string, FoundRunner> {
    return this.discovery.runners;
  }

  async start(): Promise<void> {
    this.discovery.start();
  }

  async shutdown(): Promise<void> {
    await this.discovery.stop();
  }

  /** Starts the receiver for a runner found; a failure is logged, and the runner listed without one. */
  private async serve(c: Candidate, runner: FoundRunner): Promise<void> {
    const { context } = this;
    const health = context.health.foundLocally(c.discovery);
    const metrics = context.selfMetrics.scope();
    const tracker = new ResourceTracker(this.next);
    // A router's own discovery lists it (as found here); every other runner is listed here.
    const listed = runner === 'llamacpp_router' ? { remove: () => undefined } : health.runner({ receiver: context.id, kind: runner, address: c.key, discovery: c.discovery });
    let receiver: Receiver | undefined;
    const why = unsupported(c, runner);
    if (why !== undefined) {
      context.logger.info('local runner found but not scraped', { address: c.key, runner, reason: why });
    } else {
      try {
        const sub: ComponentContext = { ...context, logger: context.logger.child({ runner, address: c.key }), selfMetrics: metrics, health };
        receiver = createRunnerReceiver(c, runner, { intervalMs: this.config.interval, scrapeTimeoutMs: this.config.scrape_timeout }, sub, tracker);
        await receiver.start();
      } catch (err) {
        context.logger.error('scraping a local runner failed to start', { address: c.key, runner, error: String((err as Error)?.message ?? err) });
        await receiver?.shutdown().catch(() => undefined);
        receiver = undefined;
      }
    }
    this.served.set(c.key, { receiver, tracker, metrics, listed });
  }

  /** Stops a runner's receiver; its series leave at once, its status entries and health series go. */
  private async drop(c: Candidate, because: LostBecause): Promise<void> {
    const s = this.served.get(c.key);
    if (!s) return;
    this.served.delete(c.key);
    await s.receiver?.shutdown().catch((err) => this.context.logger.error('stopping a local runner\'s scraping failed', { address: c.key, error: String(err) }));
    s.tracker.withdraw();
    s.metrics.dispose();
    s.listed.remove();
    this.context.logger.debug('local runner dropped', { address: c.key, because });
  }
}

/** Ports and URLs, one per address: a URL wins over the port it names (its attributes and runner apply). */
function candidatesOf(config: LocalRunnersReceiverConfig): Candidate[] {
  const out = new Map<string, Candidate>();
  for (const t of config.targets) {
    const c = urlCandidate({ url: t.url, kind: t.runner, attributes: Object.fromEntries(Object.entries(t.attributes).map(([k, v]) => [k, String(v)])) });
    if (!out.has(c.key)) out.set(c.key, c);
  }
  for (const p of [...config.ports, ...config.extra_ports]) {
    const wellKnown = WELL_KNOWN_PORTS.find((w) => w.port === p.port && w.kind === p.kind);
    const c = portCandidate(p, wellKnown ? `well-known port ${p.port} (${p.kind})` : `port ${p.port}${p.kind ? ` (${p.kind})` : ''}`);
    if (!out.has(c.key)) out.set(c.key, c);
  }
  return [...out.values()];
}

export const localRunnersReceiverFactory: ReceiverFactory<LocalRunnersReceiverConfig> = {
  type: 'local_runners',
  configSchema: localRunnersReceiverConfigSchema,
  createReceiver: (config, context, next) => new LocalRunnersReceiver(config, context, next),
};

export { LOCAL_MECHANISM };

/**
 * Own metrics and logs of discovery, shared by every mechanism: how many targets
 * each mechanism currently gives, and its errors by reason. An error is counted
 * every time and logged once per cause (until that cause clears).
 */
import type { Counter, Gauge, SelfMetrics } from '../telemetry/self-metrics.js';
import type { LogFields, Logger } from '../telemetry/logger.js';
import type { Discovery, HealthRegistry, RunnerReporter } from '../telemetry/health.js';
import { LLAMACPP_ROUTER_STATES, type LlamacppRouterState } from '../runners/llamacpp.js';

/** `timeout` and `connect` are local discovery's probes that failed other than by a closed port. */
export type DiscoveryErrorReason = 'read' | 'parse' | 'invalid' | 'invalid_target' | 'request' | 'timeout' | 'connect';

export class DiscoveryTelemetry {
  private readonly targets: Gauge;
  private readonly errors: Counter;
  private readonly routerModelState: Gauge;
  /** Causes currently logged, by key (e.g. a file path): each is logged once. */
  private readonly logged = new Map<string, string>();

  constructor(
    readonly receiverId: string,
    readonly logger: Logger,
    selfMetrics: SelfMetrics,
    private readonly health?: HealthRegistry,
  ) {
    this.targets = selfMetrics.gauge('runner_metrics_discovery_targets', 'Targets currently given by a discovery mechanism, per receiver and mechanism.');
    this.errors = selfMetrics.counter('runner_metrics_discovery_errors_total', 'Discovery errors, per receiver, mechanism and reason.');
    this.routerModelState = selfMetrics.gauge(
      'llamacpp_router_model_state',
      'State of each model a llama.cpp router lists (a stateset): 1 for the current state, 0 for the others.',
    );
  }

  setTargets(mechanism: string, count: number): void {
    this.targets.set({ receiver: this.receiverId, mechanism }, count);
  }

  /** A router model's stateset; `undefined` removes its series (the model left the list). */
  setRouterModelState(router: string, model: string, state: LlamacppRouterState | undefined): void {
    for (const s of LLAMACPP_ROUTER_STATES) {
      const labels = { receiver: this.receiverId, router, model, state: s };
      if (state === undefined) this.routerModelState.remove(labels);
      else this.routerModelState.set(labels, s === state ? 1 : 0);
    }
  }

  /** Lists a runner the mechanism found on the status page (and claims its address for the receiver). */
  runner(kind: string, address: string, discovery: Discovery): RunnerReporter {
    return this.health?.runner({ receiver: this.receiverId, kind, address, discovery }) ?? { remove: () => undefined };
  }

  /** Makes the mechanism's series visible from the start, so rates work from the first error. */
  register(mechanism: string): void {
    this.setTargets(mechanism, 0);
  }

  /** Counts an error; logs it unless the same message was the last one logged for `key`. */
  error(mechanism: string, reason: DiscoveryErrorReason, key: string, message: string, fields: LogFields = {}, level: 'warn' | 'debug' = 'warn'): void {
    this.errors.add({ receiver: this.receiverId, mechanism, reason });
    if (this.logged.get(key) === message) return;
    this.logged.set(key, message);
    this.logger[level]('discovery error', { receiver: this.receiverId, mechanism, reason, error: message, ...fields });
  }

  /** The cause for `key` is gone: log its recovery once. */
  clear(key: string, mechanism: string, fields: LogFields = {}): void {
    if (!this.logged.delete(key)) return;
    this.logger.info('discovery recovered', { receiver: this.receiverId, mechanism, ...fields });
  }
}

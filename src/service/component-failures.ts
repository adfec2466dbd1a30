/**
 * What a component's failure costs: one count in
 * `runner_metrics_component_errors_total{component,…}` per failed call, and one
 * log line per distinct cause (not one per scrape), so a processor that throws on
 * every batch cannot flood the log.
 */
import type { Attributes } from '../model/batch.js';
import type { Logger } from '../telemetry/logger.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';

/** Distinct causes logged per component; past that, failures are only counted. */
const MAX_LOGGED_CAUSES = 10;

export const COMPONENT_ERRORS = 'runner_metrics_component_errors_total';

export class ComponentFailures {
  private readonly logged = new Set<string>();
  private readonly errors;

  /**
   * @param labels  `component` (`exporter/otlphttp`, `processor/filter`) and, for a
   *                processor, its `pipeline`.
   */
  constructor(
    private readonly labels: Attributes,
    metrics: SelfMetrics,
    private readonly logger: Logger,
  ) {
    this.errors = metrics.counter(COMPONENT_ERRORS, 'Calls into a component that failed; the data was dropped for that component only.');
  }

  record(err: unknown): void {
    this.errors.add(this.labels);
    const cause = errorCause(err);
    if (this.logged.has(cause) || this.logged.size > MAX_LOGGED_CAUSES) return;
    this.logged.add(cause);
    const more = this.logged.size > MAX_LOGGED_CAUSES;
    this.logger.error(more ? 'component keeps failing with new causes; no longer logged' : 'component failed; its data was dropped, the others carry on', {
      ...this.labels,
      error: cause,
      note: `logged once per cause; see ${COMPONENT_ERRORS}`,
    });
  }
}

/** The cause of a failure without its stack: `TypeError: x is undefined`. */
export function errorCause(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

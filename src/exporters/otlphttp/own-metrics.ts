/**
 * The exporter's own metrics, named after the Collector's exporterhelper ones,
 * and the rule that each cause of data loss is logged once, not once per batch.
 */
import type { ExporterReporter } from '../../telemetry/health.js';
import type { Logger, LogFields } from '../../telemetry/logger.js';
import type { Counter, Gauge, SelfMetrics } from '../../telemetry/self-metrics.js';

export type DropReason =
  | 'queue_full'
  | 'permanent_error'
  | 'retries_exhausted'
  | 'rejected'
  | 'encode_error'
  | 'storage_error'
  | 'shutdown';

export class ExporterTelemetry {
  private readonly labels: { exporter: string };
  private readonly sentPoints: Counter;
  private readonly failedPoints: Counter;
  private readonly droppedPoints: Counter;
  private readonly queueSize: Gauge;
  private readonly queueCapacity: Gauge;
  private readonly pushDuration: Gauge;
  private readonly lastSuccess: Gauge;
  private readonly loggedCauses = new Set<string>();

  constructor(
    exporter: string,
    metrics: SelfMetrics,
    private readonly logger: Logger,
    /** The same facts, typed, for the status page. */
    private readonly health: ExporterReporter,
  ) {
    this.labels = { exporter };
    this.sentPoints = metrics.counter(
      'runner_metrics_exporter_sent_metric_points_total',
      'Data points the backend accepted.',
    );
    this.failedPoints = metrics.counter(
      'runner_metrics_exporter_send_failed_metric_points_total',
      'Data points in send attempts that failed (each attempt counts; a later retry may still deliver them).',
    );
    this.droppedPoints = metrics.counter(
      'runner_metrics_exporter_dropped_metric_points_total',
      'Data points given up on, by reason.',
    );
    this.queueSize = metrics.gauge('runner_metrics_exporter_queue_size', 'Requests waiting to be sent, the one in flight included.');
    this.queueCapacity = metrics.gauge('runner_metrics_exporter_queue_capacity', 'Requests the sending queue may hold.');
    this.pushDuration = metrics.gauge(
      'runner_metrics_exporter_push_duration_seconds',
      'Duration of the last HTTP push attempt.',
      's',
    );
    this.lastSuccess = metrics.gauge(
      'runner_metrics_exporter_last_success_timestamp_seconds',
      'Unix time of the last push the backend accepted.',
      's',
    );
    this.sentPoints.touch(this.labels);
    this.failedPoints.touch(this.labels);
  }

  sent(points: number): void {
    this.sentPoints.add(this.labels, points);
    this.lastSuccess.set(this.labels, Date.now() / 1000);
    this.health.pushed(true);
  }

  sendFailed(points: number, cause: string): void {
    this.failedPoints.add(this.labels, points);
    this.health.pushed(false, cause);
  }

  /** Counts a loss and logs its cause the first time it is seen. */
  dropped(points: number, reason: DropReason, cause: string, fields?: LogFields): void {
    this.droppedPoints.add({ ...this.labels, reason }, points);
    this.health.droppedPoints(reason, points);
    const key = `${reason}\u0000${cause}`;
    if (this.loggedCauses.has(key)) return;
    this.loggedCauses.add(key);
    this.logger.warn('dropping metric points', {
      reason,
      cause,
      ...fields,
      note: 'logged once per cause; see runner_metrics_exporter_dropped_metric_points_total',
    });
  }

  queue(size: number, capacity: number): void {
    this.queueSize.set(this.labels, size);
    this.queueCapacity.set(this.labels, capacity);
    this.health.queueLength(size, capacity);
  }

  pushSeconds(seconds: number): void {
    this.pushDuration.set(this.labels, seconds);
  }

  droppedCount(reason: DropReason): number {
    return this.droppedPoints.value({ ...this.labels, reason });
  }
}

/**
 * The series the `docker_model_runner` receiver makes from `/engines/ps`: names,
 * help texts and units in one place. A figure the model runner did not give is
 * left out, never written as 0.
 */
import { ValueType } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type HrTime, type Metric, type MetricDescriptor } from '../../model/batch.js';
import type { RunningBackend } from '../../runners/docker-model-runner.js';

function gauge(name: string, description: string, unit = ''): MetricDescriptor {
  return { name, description, unit, valueType: ValueType.DOUBLE };
}

export const DMR_FAMILIES = {
  runnerUp: gauge('docker_model_runner_runner_up', 'Whether the runner is listed by /engines/ps and ready (1), or still loading (0); its series are gone once it is no longer listed.'),
  runnerLoading: gauge('docker_model_runner_runner_loading', 'Whether the runner is loading its model (/engines/ps loading).'),
  runnerInUse: gauge('docker_model_runner_runner_in_use', 'Whether the runner is serving a request now (/engines/ps in_use).'),
  runnerKeepAlive: gauge('docker_model_runner_runner_keep_alive_seconds', 'How long the runner is kept after its last use (/engines/ps keep_alive).', 's'),
  runnerIdle: gauge('docker_model_runner_runner_seconds_since_last_use', 'Seconds since the runner was last used (now minus /engines/ps last_used, at least 0); absent while in use or never used.', 's'),
  runnerMetricsServed: gauge('docker_model_runner_runner_metrics_served', 'Whether the aggregated /metrics has series of this runner (1) or lacks them (0); absent when /metrics was not read.'),
  runnerMetricsDirect: gauge(
    'docker_model_runner_runner_metrics_direct',
    'Whether the runner, lacking from the aggregated /metrics, was scraped on its own address (1) or could not be found there (0); absent when the aggregated page has it.',
  ),
  runners: gauge('docker_model_runner_runners', 'Runners listed by /engines/ps.', '{runner}'),
  runnersWithoutMetrics: gauge('docker_model_runner_runners_without_metrics', 'Runners listed by /engines/ps, and not loading, that have no series in the aggregated /metrics.', '{runner}'),
  runnersScrapedDirectly: gauge('docker_model_runner_runners_scraped_directly', 'Runners lacking from the aggregated /metrics whose own /metrics was scraped on their own address.', '{runner}'),
} as const;

class MetricList {
  readonly metrics: Metric[] = [];
  constructor(
    private readonly startTime: HrTime,
    private readonly now: HrTime,
  ) {}

  add(descriptor: MetricDescriptor, value: number | undefined): void {
    if (value === undefined) return;
    this.metrics.push({
      descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [{ startTime: this.startTime, endTime: this.now, attributes: {}, value }],
      prometheus: { type: 'gauge' },
    });
  }
}

/** `metricsServed`: undefined when /metrics was not read this round; `direct`: undefined when not looked for. */
export function runnerMetrics(runner: RunningBackend, metricsServed: boolean | undefined, direct: boolean | undefined, since: HrTime, now: HrTime, nowMs: number): Metric[] {
  const list = new MetricList(since, now);
  list.add(DMR_FAMILIES.runnerUp, runner.loading ? 0 : 1);
  list.add(DMR_FAMILIES.runnerLoading, runner.loading ? 1 : 0);
  list.add(DMR_FAMILIES.runnerInUse, runner.inUse ? 1 : 0);
  list.add(DMR_FAMILIES.runnerKeepAlive, runner.keepAliveSeconds);
  list.add(DMR_FAMILIES.runnerIdle, runner.inUse || runner.lastUsedMs === undefined ? undefined : Math.max(0, (nowMs - runner.lastUsedMs) / 1000));
  list.add(DMR_FAMILIES.runnerMetricsServed, metricsServed === undefined ? undefined : metricsServed ? 1 : 0);
  list.add(DMR_FAMILIES.runnerMetricsDirect, direct === undefined ? undefined : direct ? 1 : 0);
  return list.metrics;
}

export function serverMetrics(runners: number, withoutMetrics: number | undefined, scrapedDirectly: number | undefined, since: HrTime, now: HrTime): Metric[] {
  const list = new MetricList(since, now);
  list.add(DMR_FAMILIES.runners, runners);
  list.add(DMR_FAMILIES.runnersWithoutMetrics, withoutMetrics);
  list.add(DMR_FAMILIES.runnersScrapedDirectly, scrapedDirectly);
  return list.metrics;
}

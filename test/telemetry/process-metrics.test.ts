import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { registerProcessMetrics } from '../../src/telemetry/process-metrics.js';
import type { Metric } from '../../src/model/batch.js';

function value(metrics: readonly Metric[], name: string): number {
  const m = metrics.find((x) => x.descriptor.name === name);
  assert.ok(m, `${name} collected`);
  return m.dataPoints[0]!.value as number;
}

test('process metrics are refreshed on every collect, with Prometheus client names and types', () => {
  const self = new SelfMetrics();
  registerProcessMetrics(self);
  const first = self.collect().scopeMetrics[0]!.metrics;
  const rss = value(first, 'process_resident_memory_bytes');
  assert.ok(rss > 10_000_000 && rss < 20_000_000_000, `rss ${rss}`);
  assert.ok(value(first, 'nodejs_heap_size_used_bytes') > 0);
  const start = value(first, 'process_start_time_seconds');
  assert.ok(Math.abs(start - (Date.now() - performance.now()) / 1000) < 5);
  const cpu1 = value(first, 'process_cpu_seconds_total');
  assert.equal(first.find((m) => m.descriptor.name === 'process_cpu_seconds_total')!.prometheus?.type, 'counter');
  let spin = 0;
  const until = process.cpuUsage().user + 20_000;
  while (process.cpuUsage().user < until) spin++;
  const cpu2 = value(self.collect().scopeMetrics[0]!.metrics, 'process_cpu_seconds_total');
  assert.ok(cpu2 > cpu1 && spin > 0, `cpu went from ${cpu1} to ${cpu2}`);
});

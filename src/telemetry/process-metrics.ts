/**
 * The process metrics every Prometheus client library exposes (same names), so
 * the collector's own memory and CPU can be watched and alerted on like any
 * other process.
 */
import type { SelfMetrics } from './self-metrics.js';

const START_TIME_SECONDS = Math.round(Date.now() - performance.now()) / 1000;

export function registerProcessMetrics(metrics: SelfMetrics): void {
  const cpu = metrics.counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', 's');
  let cpuCounted = 0;
  const rss = metrics.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', 'By');
  const start = metrics.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', 's');
  const heapUsed = metrics.gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', 'By');
  const heapTotal = metrics.gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', 'By');
  const external = metrics.gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', 'By');
  start.set({}, START_TIME_SECONDS);
  metrics.onCollect(() => {
    const usage = process.cpuUsage();
    const seconds = (usage.user + usage.system) / 1e6;
    cpu.add({}, seconds - cpuCounted);
    cpuCounted = seconds;
    const mem = process.memoryUsage();
    rss.set({}, mem.rss);
    heapUsed.set({}, mem.heapUsed);
    heapTotal.set({}, mem.heapTotal);
    external.set({}, mem.external);
  });
}

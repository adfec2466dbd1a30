import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostmetricsReceiver } from '../../../src/receivers/hostmetrics/index.js';
import { hostmetricsReceiverConfigSchema } from '../../../src/receivers/hostmetrics/config.js';
import { TOOL_ERRORS_METRIC } from '../../../src/receivers/hostmetrics/scraper.js';
import type { Metric, ResourceBatch } from '../../../src/model/batch.js';
import { SelfMetrics } from '../../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../../src/telemetry/health.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../../helpers/collect.js';
import { standInGpuTools, type StandIn } from '../../helpers/gpu-tools.js';

const MIB = 1024 * 1024;

function receiver(tools: Partial<Record<'nvidia-smi' | 'rocm-smi', StandIn>>, body: Record<string, unknown> = {}) {
  const gpuTools = standInGpuTools(tools);
  const config = hostmetricsReceiverConfigSchema.parse({ collection_interval: '1h', ...body });
  const sink = new CollectingConsumer();
  const logger = new RecordingLogger();
  const selfMetrics = new SelfMetrics();
  const r = new HostmetricsReceiver(config, { id: 'hostmetrics', kind: 'receiver', logger, selfMetrics, health: new HealthRegistry() }, sink, {
    path: gpuTools.path,
  });
  return {
    r,
    sink,
    logger,
    selfMetrics,
    scrape: () => r.scraper.scrapeOnce(),
    calls: (tool: string) => gpuTools.calls(tool),
    last: (): ResourceBatch => sink.batches.at(-1)![0]!,
    toolErrors: (tool: string, reason: string) =>
      selfMetrics.counter(TOOL_ERRORS_METRIC, '').value({ receiver: 'hostmetrics', tool, reason }),
    cleanup: async () => {
      await r.shutdown();
      gpuTools.cleanup();
    },
  };
}

function points(m: Metric | undefined): Array<{ labels: Record<string, unknown>; value: number }> {
  return (m?.dataPoints ?? []).map((p) => ({ labels: { ...p.attributes }, value: p.value as number }));
}

function value(rb: ResourceBatch, name: string): number | undefined {
  return metricNamed(rb, name)?.dataPoints[0]?.value as number | undefined;
}

const GPU_FAMILIES = [
  'system_gpu_utilization_ratio',
  'system_gpu_memory_used_bytes',
  'system_gpu_memory_total_bytes',
  'system_gpu_memory_utilization_ratio',
  'system_gpu_temperature_celsius',
  'system_gpu_power_watts',
];

test('one resource, backend="host" (model and mode left out, as for a runner server), with CPU, memory and disk series', async () => {
  const t = receiver({});
  try {
    await t.r.start();
    await t.scrape();
    const rb = t.last();
    assert.equal(rb.resource.attributes['backend'], 'host');
    assert.equal(rb.resource.attributes['service.name'], 'hostmetrics');
    assert.equal(rb.resource.attributes['model'], undefined);
    assert.equal(rb.resource.attributes['mode'], undefined);
    const total = value(rb, 'system_memory_total_bytes')!;
    assert.ok(total > 0);
    assert.equal(value(rb, 'system_memory_used_bytes')! + value(rb, 'system_memory_available_bytes')!, total);
    const u = value(rb, 'system_memory_utilization_ratio')!;
    assert.ok(u > 0 && u < 1);
    assert.ok(value(rb, 'system_cpu_logical_count')! >= 1);
    const cpu = value(rb, 'system_cpu_utilization_ratio');
    assert.ok(cpu === undefined || (cpu >= 0 && cpu <= 1));
    // /proc/stat counts in jiffies (10ms): let some pass so the second round has a delta.
    await new Promise((r) => setTimeout(r, 200));
    await t.scrape();
    const cpu2 = value(t.last(), 'system_cpu_utilization_ratio');
    assert.ok(cpu2 !== undefined && cpu2 >= 0 && cpu2 <= 1, `second round's CPU utilisation ${cpu2}`);
    const fs = points(metricNamed(rb, 'system_filesystem_size_bytes'));
    assert.ok(fs.length > 0);
    for (const p of fs) assert.deepEqual(Object.keys(p.labels).sort(), ['device', 'mountpoint', 'type']);
    for (const name of GPU_FAMILIES) assert.equal(metricNamed(rb, name), undefined, `${name} without a GPU`);
  } finally {
    await t.cleanup();
  }
});

test('no GPU tool: no GPU series, one info log over many rounds, no warning and no tool error series', async () => {
  const t = receiver({});
  try {
    await t.scrape();
    await t.scrape();
    await t.scrape();
    assert.equal(t.logger.count('no GPU tool on PATH: no GPU series'), 1);
    assert.deepEqual(t.logger.lines.filter((l) => l.level === 'warn' || l.level === 'error'), []);
    assert.equal(t.selfMetrics.counter(TOOL_ERRORS_METRIC, '').size, 0);
  } finally {
    await t.cleanup();
  }
});

test('two NVIDIA GPUs: a series per GPU labelled gpu, gpu_name, gpu_uuid, vendor; [N/A] figures have no series', async () => {
  const t = receiver({ 'nvidia-smi': { kind: 'print', gpus: 'nvidia-smi-2gpu.csv' } });
  try {
    await t.scrape();
    const rb = t.last();
    const gpu0 = { gpu: '0', vendor: 'nvidia', gpu_name: 'NVIDIA A100-SXM4-40GB', gpu_uuid: 'GPU-0c1a7e52-9b3d-4f6e-8a21-d5e6f7a8b9c0' };
    const gpu1 = { gpu: '1', vendor: 'nvidia', gpu_name: 'NVIDIA A100-SXM4-40GB', gpu_uuid: 'GPU-7d2e9f13-5c4b-4a3d-9e8f-0a1b2c3d4e5f' };
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_utilization_ratio')), [{ labels: gpu0, value: 0.92 }, { labels: gpu1, value: 0 }]);
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_memory_used_bytes')), [{ labels: gpu0, value: 30123 * MIB }, { labels: gpu1, value: 4 * MIB }]);
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_memory_total_bytes')).map((p) => p.value), [40960 * MIB, 40960 * MIB]);
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_memory_utilization_ratio')).map((p) => p.value), [30123 / 40960, 4 / 40960]);
    // GPU 1's temperature is [Not Supported] and its power [N/A]: absent, not 0.
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_temperature_celsius')), [{ labels: gpu0, value: 67 }]);
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_power_watts')), [{ labels: gpu0, value: 312.55 }]);
    assert.equal(t.toolErrors('nvidia-smi', 'timeout'), 0);
    assert.equal(t.logger.count('no GPU tool on PATH: no GPU series'), 0);
  } finally {
    await t.cleanup();
  }
});

test('one AMD GPU from rocm-smi, vendor="amd"', async () => {
  const t = receiver({ 'rocm-smi': { kind: 'print', gpus: 'rocm-smi-1gpu.json' } });
  try {
    await t.scrape();
    const rb = t.last();
    const labels = { gpu: '0', vendor: 'amd', gpu_name: 'Navi 31 [Radeon RX 7900 XT/7900 XTX/7900 GRE/7900M]', gpu_uuid: '0x5f2a91c07be34d18' };
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_utilization_ratio')), [{ labels, value: 0.71 }]);
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_temperature_celsius')), [{ labels, value: 52 }]);
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_power_watts')), [{ labels, value: 143 }]);
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_memory_used_bytes')), [{ labels, value: 11589431296 }]);
  } finally {
    await t.cleanup();
  }
});

test('a hung nvidia-smi is timed out and counted each round, logged once; rocm-smi GPUs and host series still flow', async () => {
  const t = receiver(
    { 'nvidia-smi': { kind: 'hang' }, 'rocm-smi': { kind: 'print', gpus: 'rocm-smi-2gpu.json' } },
    { scrapers: { cpu: {}, memory: {}, filesystem: {}, gpu: { timeout: '300ms' } } },
  );
  try {
    await t.scrape();
    await t.scrape();
    const rb = t.last();
    assert.equal(t.toolErrors('nvidia-smi', 'timeout'), 2);
    assert.equal(t.toolErrors('nvidia-smi', 'exit'), 0);
    assert.equal(t.toolErrors('rocm-smi', 'timeout'), 0);
    const warnings = t.logger.lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0]!['tool'], 'nvidia-smi');
    assert.equal(warnings[0]!['reason'], 'timeout');
    assert.deepEqual(points(metricNamed(rb, 'system_gpu_utilization_ratio')).map((p) => [p.labels['vendor'], p.labels['gpu']]), [['amd', '0'], ['amd', '1']]);
    assert.ok(value(rb, 'system_memory_total_bytes')! > 0);
    assert.ok(metricNamed(rb, 'system_filesystem_size_bytes'));
  } finally {
    await t.cleanup();
  }
});

test('an nvidia-smi that exits non-zero is counted as exit, logged once, and its recovery logged', async () => {
  const t = receiver({ 'nvidia-smi': { kind: 'exit', code: 9, stderr: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." } });
  try {
    await t.scrape();
    await t.scrape();
    assert.equal(t.toolErrors('nvidia-smi', 'exit'), 2);
    assert.equal(t.toolErrors('nvidia-smi', 'timeout'), 0, 'the other reasons are served at 0');
    const warnings = t.logger.lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]!['error']), /couldn't communicate with the NVIDIA driver/);
    for (const name of GPU_FAMILIES) assert.equal(metricNamed(t.last(), name), undefined);
    assert.ok(value(t.last(), 'system_memory_total_bytes')! > 0, 'host series still flow');
  } finally {
    await t.cleanup();
  }
});

test('only the listed scrapers run; filesystem filters apply', async () => {
  const t = receiver({}, { scrapers: { memory: null, filesystem: { include_mount_points: { mount_points: ['/nothing-mounted-here'], match_type: 'strict' } } } });
  try {
    await t.scrape();
    const names = t.last().scopeMetrics[0]!.metrics.map((m) => m.descriptor.name).sort();
    assert.deepEqual(names, ['system_memory_available_bytes', 'system_memory_total_bytes', 'system_memory_used_bytes', 'system_memory_utilization_ratio']);
    assert.equal(t.logger.count('no GPU tool on PATH: no GPU series'), 0, 'the gpu scraper is not listed: nothing looked for');
  } finally {
    await t.cleanup();
  }
});

test('shutdown stops a hung GPU tool at once instead of waiting out its timeout, and does not count it', { timeout: 30_000 }, async () => {
  const t = receiver({ 'nvidia-smi': { kind: 'hang' } }, { collection_interval: '1h', scrapers: { gpu: { timeout: '1h' } } });
  const round = t.scrape();
  for (let i = 0; i < 500 && t.calls('nvidia-smi').length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(t.calls('nvidia-smi').length, 1, 'the tool was started');
  await t.r.shutdown(); // would wait an hour if the running tool were not stopped
  await round;
  assert.equal(t.toolErrors('nvidia-smi', 'timeout'), 0);
  assert.deepEqual(t.logger.lines.filter((l) => l.level === 'warn'), []);
  await t.cleanup();
});

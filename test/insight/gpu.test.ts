/**
 * The GPU figures of a llama-server process: stand-in nvidia-smi and rocm-smi on
 * PATH (the real output layouts of test/fixtures/gpu/) listing this test's
 * process, which serves the stand-in llama-server, on a GPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusReceiver } from '../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../src/telemetry/health.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../helpers/collect.js';
import { readFixture } from '../helpers/fixtures.js';
import { B4748_COMPLETION, LlamaServer } from '../helpers/llama-server.js';
import { gpusOfProcess } from '../../src/insight/gpu.js';

/** A directory holding stand-in tools: `nvidia-smi` prints the 2-GPU list, and this process on GPU 1 for the apps query. */
function tools(pid: number, withGpu: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'rm-insight-gpu-'));
  writeFileSync(join(dir, 'gpus.csv'), readFixture('gpu', 'nvidia-smi-2gpu.csv'));
  // --query-compute-apps=pid,gpu_uuid,used_memory; GPU 1's uuid from the 2-GPU fixture.
  const apps = withGpu ? `48211, GPU-0c1a7e52-9b3d-4f6e-8a21-d5e6f7a8b9c0, 29958\n${pid}, GPU-7d2e9f13-5c4b-4a3d-9e8f-0a1b2c3d4e5f, 1024\n` : '48211, GPU-0c1a7e52-9b3d-4f6e-8a21-d5e6f7a8b9c0, 29958\n';
  writeFileSync(join(dir, 'apps.csv'), apps);
  writeFileSync(join(dir, 'nvidia-smi'), ['#!/bin/sh', 'case "$*" in', `  *--query-compute-apps*) exec /bin/cat '${dir}/apps.csv' ;;`, `  *) exec /bin/cat '${dir}/gpus.csv' ;;`, 'esac', ''].join('\n'));
  chmodSync(join(dir, 'nvidia-smi'), 0o755);
  return dir;
}

test('the GPUs a process holds, with their utilisation (percent) and temperature; none for a process on no GPU', async () => {
  const dir = tools(4242, true);
  try {
    // nvidia-smi-2gpu.csv: GPU 0 at 92 % and 67 °C, GPU 1 at 0 % with temperature [Not Supported].
    assert.deepEqual(await gpusOfProcess(4242, { maxAgeMs: 0, timeoutMs: 5000, path: dir }), [{ index: 1, vendor: 'nvidia', utilizationPercent: 0, temperatureCelsius: undefined }]);
    assert.deepEqual(await gpusOfProcess(48211, { maxAgeMs: 0, timeoutMs: 5000, path: dir }), [{ index: 0, vendor: 'nvidia', utilizationPercent: 92, temperatureCelsius: 67 }]);
    assert.deepEqual(await gpusOfProcess(1, { maxAgeMs: 0, timeoutMs: 5000, path: dir }), []);
    // No tool on PATH: nothing.
    assert.deepEqual(await gpusOfProcess(4242, { maxAgeMs: 0, timeoutMs: 5000, path: join(dir, 'empty') }), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('through the receiver: llamacpp_gpu_utilization_percent and llamacpp_temperature_celsius per GPU the server uses', async () => {
  const server = await LlamaServer.start(B4748_COMPLETION);
  // The stand-in server listens in this very process: it is "the llama-server process" on GPU 0 here.
  const dir = tools(process.pid, false);
  writeFileSync(join(dir, 'apps.csv'), `${process.pid}, GPU-0c1a7e52-9b3d-4f6e-8a21-d5e6f7a8b9c0, 29958\n`);
  const config = prometheusReceiverConfigSchema.parse({ scrape_interval: '1h', scrape_timeout: '5s', targets: [{ url: server.url, attributes: { backend: 'llama.cpp', model: 'm', mode: 'completion' } }] });
  const sink = new CollectingConsumer();
  const r = new PrometheusReceiver(config, { id: 'prometheus/test', kind: 'receiver', logger: new RecordingLogger(), selfMetrics: new SelfMetrics(), health: new HealthRegistry() }, sink);
  const path = process.env['PATH'];
  process.env['PATH'] = dir;
  try {
    await r.scrapers[0]!.scrapeOnce();
    const rb = sink.batches.at(-1)![0]!;
    const util = metricNamed(rb, 'llamacpp_gpu_utilization_percent')!;
    assert.deepEqual(util.dataPoints.map((p) => [p.attributes, p.value]), [[{ gpu: '0', vendor: 'nvidia' }, 92]]);
    const temp = metricNamed(rb, 'llamacpp_temperature_celsius')!;
    assert.deepEqual(temp.dataPoints.map((p) => [p.attributes, p.value]), [[{ gpu: '0', vendor: 'nvidia' }, 67]]);
  } finally {
    process.env['PATH'] = path;
    await r.shutdown();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

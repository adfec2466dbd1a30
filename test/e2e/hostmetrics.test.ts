/**
 * The default otel-config.yaml, end to end: the collector process scrapes a
 * llama.cpp page and measures the machine, with stand-in nvidia-smi (one GPU)
 * and a rocm-smi that hangs first on its PATH. Runner and machine are served
 * side by side on one /metrics, which promtool accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, readFixture } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import { RunnerServer } from '../helpers/runner-server.js';
import { standInGpuTools } from '../helpers/gpu-tools.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');

function sample(body: string, name: string, labels: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('default config: llama.cpp and the machine (CPU, memory, disk, GPU) on one /metrics; a hung GPU tool is counted, the rest flows', async () => {
  const runner = await RunnerServer.start(readFixture('runners', 'llamacpp-completion.prom'));
  const tools = standInGpuTools({ 'nvidia-smi': { kind: 'print', gpus: 'nvidia-smi-1gpu.csv' }, 'rocm-smi': { kind: 'hang' } });
  const port = await freePort();
  const env = {
    ...process.env,
    PATH: tools.path,
    LLAMACPP_BASE_URL: runner.url,
    LLAMACPP_SCRAPE_INTERVAL: '300ms',
    LLAMACPP_EXPORTER_ADDR: `127.0.0.1:${port}`,
    HOSTMETRICS_INTERVAL: '300ms',
  };
  const collector = startProcess(process.execPath, [CLI, '--config', join(REPO_ROOT, 'otel-config.yaml')], { cwd: REPO_ROOT, env });
  try {
    const body = await eventually(
      async () => {
        const r = await httpGet(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (r?.status !== 200) return undefined;
        const ready =
          r.body.includes('llamacpp:') &&
          r.body.includes('system_gpu_power_watts{') &&
          r.body.includes('system_cpu_utilization_ratio{') &&
          /runner_metrics_hostmetrics_tool_errors_total\{[^}]*tool="rocm-smi",reason="timeout"[^}]*\} [1-9]/.test(r.body);
        return ready ? r.body : undefined;
      },
      'runner and host series with a counted rocm-smi timeout',
      30_000,
    );
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.ok(promtool.status === 0 || promtool.status === 3, `promtool exit ${promtool.status}: ${promtool.stdout}${promtool.stderr}`);

    const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    assert.equal(sample(body, 'system_memory_total_bytes', 'backend="host"'), memTotal);
    const cpu = sample(body, 'system_cpu_utilization_ratio', 'backend="host"')!;
    assert.ok(cpu >= 0 && cpu <= 1, `cpu ${cpu}`);
    assert.match(body, /^system_filesystem_size_bytes\{device="[^"]+",mountpoint="[^"]+",type="[^"]+",backend="host"\} \d+$/m);
    assert.match(
      body,
      /^system_gpu_power_watts\{gpu="0",vendor="nvidia",gpu_name="NVIDIA GeForce RTX 4090",gpu_uuid="GPU-8f6b3c2e-41d7-5a90-b1e3-7c0d92a4e615",backend="host"\} 287\.43$/m,
    );
    assert.equal(sample(body, 'system_gpu_utilization_ratio', 'gpu="0"'), 0.37);
    // Host series carry no model or mode label: absent is Prometheus' empty value.
    for (const line of body.split('\n').filter((l) => l.startsWith('system_'))) assert.doesNotMatch(line, /[{,](model|mode)=/, line);
    // The llama.cpp series are still there, on their own resource.
    assert.match(body, /^llamacpp:[a-z_]+\{[^}]*backend="llama\.cpp"/m);
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await runner.close();
    tools.cleanup();
  }
  const out = collector.output();
  assert.doesNotMatch(out, /"level":"error"/);
  // One warning for the hung tool, however many rounds it hung in.
  assert.equal(out.split('\n').filter((l) => l.includes('"level":"warn"') && l.includes('rocm-smi')).length, 1, out);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { probeGpus, readGpuProcesses, readGpus, ToolError } from '../../src/host/gpu/index.js';
import { standInGpuTools, type StandInTools } from '../helpers/gpu-tools.js';

const MIB = 1024 * 1024;

async function withTools<T>(tools: Parameters<typeof standInGpuTools>[0], body: (t: StandInTools) => Promise<T>): Promise<T> {
  const t = standInGpuTools(tools);
  try {
    return await body(t);
  } finally {
    t.cleanup();
  }
}

/** Running, as opposed to gone or a zombie waiting for a parent that does not reap (init in a container may not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('one NVIDIA GPU: every figure in base units and ratios', async () => {
  await withTools({ 'nvidia-smi': { kind: 'print', gpus: 'nvidia-smi-1gpu.csv' } }, async (t) => {
    const gpus = await readGpus({ path: t.path });
    assert.deepEqual(gpus, [
      {
        vendor: 'nvidia',
        index: 0,
        uuid: 'GPU-8f6b3c2e-41d7-5a90-b1e3-7c0d92a4e615',
        name: 'NVIDIA GeForce RTX 4090',
        utilizationRatio: 0.37,
        memoryUsedBytes: 18734 * MIB,
        memoryTotalBytes: 24564 * MIB,
        memoryUtilizationRatio: 18734 / 24564,
        temperatureCelsius: 61,
        powerWatts: 287.43,
      },
    ]);
    // Exactly the documented query, once.
    assert.deepEqual(t.calls('nvidia-smi'), [
      '--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw --format=csv,noheader,nounits',
    ]);
  });
});

test('two NVIDIA GPUs: [N/A] and [Not Supported] are absent figures, never 0', async () => {
  await withTools({ 'nvidia-smi': { kind: 'print', gpus: 'nvidia-smi-2gpu.csv' } }, async (t) => {
    const gpus = await readGpus({ path: t.path });
    assert.equal(gpus.length, 2);
    assert.equal(gpus[0]!.powerWatts, 312.55);
    assert.equal(gpus[0]!.temperatureCelsius, 67);
    const second = gpus[1]!;
    assert.equal(second.index, 1);
    assert.equal(second.utilizationRatio, 0);
    assert.equal(second.memoryUsedBytes, 4 * MIB);
    assert.equal(second.temperatureCelsius, undefined);
    assert.equal(second.powerWatts, undefined);
    assert.ok(!('powerWatts' in second) || second.powerWatts === undefined);
  });
});

test('a GPU name with a comma in it stays whole', async () => {
  const line = '0, GPU-1, Tesla V100-SXM2-16GB, rev. B, 5, 100, 16160, 40, 55.1\n';
  await withTools({ 'nvidia-smi': { kind: 'raw', text: line } }, async (t) => {
    const [gpu] = await readGpus({ path: t.path });
    assert.equal(gpu!.name, 'Tesla V100-SXM2-16GB, rev. B');
    assert.equal(gpu!.powerWatts, 55.1);
  });
});

test('one AMD GPU from rocm-smi JSON (ROCm 6.1+ layout, blank lines before the JSON)', async () => {
  await withTools({ 'rocm-smi': { kind: 'print', gpus: 'rocm-smi-1gpu.json' } }, async (t) => {
    const gpus = await readGpus({ path: t.path });
    assert.deepEqual(gpus, [
      {
        vendor: 'amd',
        index: 0,
        uuid: '0x5f2a91c07be34d18',
        name: 'Navi 31 [Radeon RX 7900 XT/7900 XTX/7900 GRE/7900M]',
        utilizationRatio: 0.71,
        memoryUsedBytes: 11589431296,
        memoryTotalBytes: 25753026560,
        memoryUtilizationRatio: 11589431296 / 25753026560,
        temperatureCelsius: 52,
        powerWatts: 143,
      },
    ]);
    assert.match(t.calls('rocm-smi')[0]!, /--json/);
  });
});

test('two AMD GPUs: junction temperature without an edge sensor, socket power, N/A figures absent', async () => {
  await withTools({ 'rocm-smi': { kind: 'print', gpus: 'rocm-smi-2gpu.json' } }, async (t) => {
    const [a, b] = await readGpus({ path: t.path });
    assert.equal(a!.index, 0);
    assert.equal(a!.name, 'AMD Instinct MI300X');
    assert.equal(a!.temperatureCelsius, 48);
    assert.equal(a!.powerWatts, 174);
    // "GPU memory use (%)" is memory activity (3%): the allocation ratio comes from the bytes.
    assert.equal(a!.memoryUtilizationRatio, 20614165299 / 206141652992);
    assert.equal(b!.index, 1);
    assert.equal(b!.uuid, undefined);
    assert.equal(b!.temperatureCelsius, undefined);
    assert.equal(b!.powerWatts, undefined);
    assert.equal(b!.memoryUsedBytes, undefined);
    assert.equal(b!.memoryUtilizationRatio, undefined);
    assert.equal(b!.memoryTotalBytes, 206141652992);
    assert.equal(b!.utilizationRatio, 0);
  });
});

test('both vendors on one host: NVIDIA first, then AMD', async () => {
  await withTools(
    { 'nvidia-smi': { kind: 'print', gpus: 'nvidia-smi-1gpu.csv' }, 'rocm-smi': { kind: 'print', gpus: 'rocm-smi-2gpu.json' } },
    async (t) => {
      const gpus = await readGpus({ path: t.path });
      assert.deepEqual(gpus.map((g) => `${g.vendor}${g.index}`), ['nvidia0', 'amd0', 'amd1']);
    },
  );
});

test('no GPU tool on PATH: no GPU and no error', async () => {
  await withTools({}, async (t) => {
    const errors: ToolError[] = [];
    const probe = await probeGpus({ path: t.path, onToolError: (e) => errors.push(e) });
    assert.deepEqual(probe.gpus, []);
    assert.deepEqual(probe.tools.map((o) => [o.tool, o.file]), [['nvidia-smi', undefined], ['rocm-smi', undefined]]);
    assert.deepEqual(errors, []);
  });
});

test('a hung tool is killed at the timeout with what it started; the other tool still answers', async () => {
  await withTools({ 'nvidia-smi': { kind: 'hang' }, 'rocm-smi': { kind: 'print', gpus: 'rocm-smi-1gpu.json' } }, async (t) => {
    const errors: ToolError[] = [];
    const gpus = await readGpus({ path: t.path, timeoutMs: 500, onToolError: (e) => errors.push(e) });
    assert.deepEqual(gpus.map((g) => g.vendor), ['amd']);
    assert.deepEqual(errors.map((e) => [e.tool, e.reason]), [['nvidia-smi', 'timeout']]);
    // The child the hung script left holding the pipe is gone too.
    const child = Number(readFileSync(t.childPidFile('nvidia-smi'), 'utf8'));
    for (let i = 0; i < 50 && alive(child); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(alive(child), false, 'the hung tool\'s child process was not killed');
  });
});

test('a tool that exits non-zero is an exit failure with its message; exit 6 of nvidia-smi is "no GPU"', async () => {
  await withTools({ 'nvidia-smi': { kind: 'exit', code: 9, stderr: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." } }, async (t) => {
    const errors: ToolError[] = [];
    assert.deepEqual(await readGpus({ path: t.path, onToolError: (e) => errors.push(e) }), []);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.reason, 'exit');
    assert.equal(errors[0]!.exitCode, 9);
    assert.match(errors[0]!.message, /couldn't communicate with the NVIDIA driver/);
  });
  await withTools({ 'nvidia-smi': { kind: 'exit', code: 6, stderr: 'No devices were found' } }, async (t) => {
    const errors: ToolError[] = [];
    assert.deepEqual(await readGpus({ path: t.path, onToolError: (e) => errors.push(e) }), []);
    assert.deepEqual(errors, []);
  });
});

test('output that does not parse is a parse failure', async () => {
  await withTools({ 'nvidia-smi': { kind: 'raw', text: 'Failed to initialize NVML: Driver/library version mismatch\n' }, 'rocm-smi': { kind: 'raw', text: '{"card0": ' } }, async (t) => {
    const errors: ToolError[] = [];
    assert.deepEqual(await readGpus({ path: t.path, onToolError: (e) => errors.push(e) }), []);
    assert.deepEqual(errors.map((e) => [e.tool, e.reason]).sort(), [['nvidia-smi', 'parse'], ['rocm-smi', 'parse']]);
  });
});

test('rocm-smi printing nothing (no amdgpu driver loaded) is no GPU, not a failure', async () => {
  await withTools({ 'rocm-smi': { kind: 'raw', text: '' } }, async (t) => {
    const errors: ToolError[] = [];
    assert.deepEqual(await readGpus({ path: t.path, onToolError: (e) => errors.push(e) }), []);
    assert.deepEqual(errors, []);
  });
});

test('GPU processes from nvidia-smi: pid, GPU index and uuid, memory in bytes ([N/A] absent)', async () => {
  await withTools({ 'nvidia-smi': { kind: 'print', gpus: 'nvidia-smi-2gpu.csv', processes: 'nvidia-smi-apps.csv' } }, async (t) => {
    assert.deepEqual(await readGpuProcesses({ path: t.path }), [
      { pid: 48211, vendor: 'nvidia', gpuUuid: 'GPU-0c1a7e52-9b3d-4f6e-8a21-d5e6f7a8b9c0', gpuIndex: 0, usedMemoryBytes: 29958 * MIB },
      { pid: 50102, vendor: 'nvidia', gpuUuid: 'GPU-7d2e9f13-5c4b-4a3d-9e8f-0a1b2c3d4e5f', gpuIndex: 1, usedMemoryBytes: undefined },
    ]);
  });
});

test('GPU processes from rocm-smi: the GPU of each pid from --showpidgpus, VRAM only where one GPU holds it all', async () => {
  await withTools(
    { 'rocm-smi': { kind: 'print', gpus: 'rocm-smi-2gpu.json', processes: 'rocm-smi-pids.json', pidGpus: 'rocm-smi-pidgpus.txt' } },
    async (t) => {
      assert.deepEqual(await readGpuProcesses({ path: t.path }), [
        { pid: 61234, vendor: 'amd', gpuIndex: 1, gpuUuid: undefined, usedMemoryBytes: 9126805504 },
        { pid: 61999, vendor: 'amd', gpuIndex: 0, gpuUuid: '0x2c8e17d04a9b6f31', usedMemoryBytes: undefined },
        { pid: 61999, vendor: 'amd', gpuIndex: 1, gpuUuid: undefined, usedMemoryBytes: undefined },
      ]);
    },
  );
});

test('no process on any GPU: an empty list', async () => {
  await withTools({ 'nvidia-smi': { kind: 'print', gpus: 'nvidia-smi-1gpu.csv' } }, async (t) => {
    assert.deepEqual(await readGpuProcesses({ path: t.path }), []);
  });
});

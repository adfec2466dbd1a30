/**
 * nvidia-smi's CSV queries. `--format=csv,noheader,nounits` prints one line per
 * GPU (or process), fields separated by ", ", memory in MiB, power in W,
 * utilisation in %, and `[N/A]` or `[Not Supported]` for a figure the GPU or
 * driver does not give.
 */
import { ToolError } from './run-tool.js';
import type { GpuProcess, GpuReading } from './types.js';
import { MIB, optionalNumber, optionalText, percentToRatio, ratio } from './values.js';

const GPU_FIELDS = ['index', 'uuid', 'name', 'utilization.gpu', 'memory.used', 'memory.total', 'temperature.gpu', 'power.draw'] as const;

export const NVIDIA_GPU_ARGS: readonly string[] = [`--query-gpu=${GPU_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
export const NVIDIA_APPS_ARGS: readonly string[] = ['--query-compute-apps=pid,gpu_uuid,used_memory', '--format=csv,noheader,nounits'];

/** nvidia-smi's exit status when the driver is there but sees no GPU. */
export const NVIDIA_NO_DEVICES_EXIT = 6;

/** Parses the `--query-gpu` lines of NVIDIA_GPU_ARGS. */
export function parseNvidiaGpus(stdout: string): GpuReading[] {
  const gpus: GpuReading[] = [];
  for (const line of lines(stdout)) {
    const f = line.split(',');
    if (f.length < GPU_FIELDS.length) throw new ToolError('nvidia-smi', 'parse', `nvidia-smi printed a line with ${f.length} fields, expected ${GPU_FIELDS.length}`);
    // A name with a comma in it spans several fields: it is whatever lies between uuid and the five figures.
    const tail = f.slice(f.length - 5);
    const index = Number(f[0]!.trim());
    if (!Number.isInteger(index) || index < 0) throw new ToolError('nvidia-smi', 'parse', 'nvidia-smi printed a GPU index that is not a number');
    const used = mib(tail[1]);
    const total = mib(tail[2]);
    gpus.push({
      vendor: 'nvidia',
      index,
      uuid: optionalText(f[1]),
      name: optionalText(f.slice(2, f.length - 5).join(',')),
      utilizationRatio: percentToRatio(optionalNumber(tail[0])),
      memoryUsedBytes: used,
      memoryTotalBytes: total,
      memoryUtilizationRatio: ratio(used, total),
      temperatureCelsius: optionalNumber(tail[3]),
      powerWatts: optionalNumber(tail[4]),
    });
  }
  return gpus;
}

/**
 * Parses the `--query-compute-apps` lines of NVIDIA_APPS_ARGS; `indexByUuid`
 * maps each GPU's uuid to its index (from the `--query-gpu` answer).
 */
export function parseNvidiaProcesses(stdout: string, indexByUuid: ReadonlyMap<string, number>): GpuProcess[] {
  const processes: GpuProcess[] = [];
  for (const line of lines(stdout)) {
    // Older drivers print a sentence instead of an empty answer when nothing runs.
    if (!/^\d/.test(line)) continue;
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 3) throw new ToolError('nvidia-smi', 'parse', `nvidia-smi printed a process line with ${f.length} fields, expected 3`);
    const pid = Number(f[0]);
    if (!Number.isInteger(pid) || pid <= 0) throw new ToolError('nvidia-smi', 'parse', 'nvidia-smi printed a pid that is not a number');
    const uuid = optionalText(f[1]);
    processes.push({
      pid,
      vendor: 'nvidia',
      gpuUuid: uuid,
      gpuIndex: uuid === undefined ? undefined : indexByUuid.get(uuid),
      usedMemoryBytes: mib(f[2]),
    });
  }
  return processes;
}

function mib(text: string | undefined): number | undefined {
  const n = optionalNumber(text);
  return n === undefined ? undefined : n * MIB;
}

function lines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

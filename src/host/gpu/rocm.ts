/**
 * rocm-smi's JSON. `--json` prints one object per GPU under `cardN` (N is the
 * index) plus a `system` object, every value a string, and `N/A` for a figure
 * the GPU does not give. The key names changed between ROCm releases, so each
 * figure is read from the first key present of a list, newest spelling first.
 *
 * Note: "GPU memory use (%)" (ROCm before 6.1) is memory *activity* (busy
 * percent), not how much is allocated; it is never read as memory use. Memory use
 * comes from the VRAM bytes, or from "GPU Memory Allocated (VRAM%)" (6.1+).
 */
import { ToolError } from './run-tool.js';
import type { GpuProcess, GpuReading } from './types.js';
import { optionalNumber, optionalText, percentToRatio, ratio } from './values.js';

export const ROCM_GPU_ARGS: readonly string[] = [
  '--showuse',
  '--showmemuse',
  '--showmeminfo',
  'vram',
  '--showtemp',
  '--showpower',
  '--showproductname',
  '--showuniqueid',
  '--json',
];
/** Processes with their VRAM (JSON) and, separately, which GPUs each uses (text only: rocm-smi prints that list in no JSON). */
export const ROCM_PIDS_ARGS: readonly string[] = ['--showpids', '--json'];
export const ROCM_PID_GPUS_ARGS: readonly string[] = ['--showpidgpus'];

const KEYS = {
  name: ['Card Series', 'Card series', 'Device Name', 'Card SKU'],
  uuid: ['Unique ID'],
  use: ['GPU use (%)'],
  memUsed: ['VRAM Total Used Memory (B)'],
  memTotal: ['VRAM Total Memory (B)'],
  memAllocatedPercent: ['GPU Memory Allocated (VRAM%)'],
  // The edge sensor is the card's own; MI200/MI300 have none and report the junction.
  temperature: ['Temperature (Sensor edge) (C)', 'Temperature (Sensor junction) (C)'],
  power: ['Average Graphics Package Power (W)', 'Current Socket Graphics Package Power (W)'],
} as const;

type Card = Record<string, unknown>;

/** Parses the answer to ROCM_GPU_ARGS. Empty output (rocm-smi with no amdgpu driver loaded) is no GPU. */
export function parseRocmGpus(stdout: string): GpuReading[] {
  const doc = parseJson(stdout);
  const gpus: GpuReading[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const m = /^card(\d+)$/.exec(key);
    if (!m || typeof value !== 'object' || value === null) continue;
    const card = value as Card;
    const used = num(card, KEYS.memUsed);
    const total = num(card, KEYS.memTotal);
    gpus.push({
      vendor: 'amd',
      index: Number(m[1]),
      uuid: text(card, KEYS.uuid),
      name: text(card, KEYS.name),
      utilizationRatio: percentToRatio(num(card, KEYS.use)),
      memoryUsedBytes: used,
      memoryTotalBytes: total,
      memoryUtilizationRatio: ratio(used, total) ?? percentToRatio(num(card, KEYS.memAllocatedPercent)),
      temperatureCelsius: num(card, KEYS.temperature),
      powerWatts: num(card, KEYS.power),
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

/**
 * Parses the answers to ROCM_PIDS_ARGS (JSON: `"PID<n>": "name, gpus, vram
 * bytes, sdma, cu occupancy"` under `system`) and ROCM_PID_GPUS_ARGS (text:
 * `PID <n> is using <k> DRM device(s):` then the indices). A process on one GPU
 * gets its VRAM figure; one spread over several gets one entry per GPU, without
 * memory, since rocm-smi gives only the total.
 */
export function parseRocmProcesses(pidsJson: string, pidGpusText: string | undefined, uuidByIndex: ReadonlyMap<number, string>): GpuProcess[] {
  const doc = parseJson(pidsJson);
  const system = (typeof doc['system'] === 'object' && doc['system'] !== null ? doc['system'] : {}) as Card;
  const gpusByPid = pidGpusText === undefined ? new Map<number, number[]>() : parsePidGpus(pidGpusText);
  const processes: GpuProcess[] = [];
  for (const [key, value] of Object.entries(system)) {
    const m = /^PID(\d+)$/.exec(key);
    if (!m || typeof value !== 'string') continue;
    const pid = Number(m[1]);
    const fields = value.split(',').map((s) => s.trim());
    // The name comes first and may itself hold ", ": count from the end.
    const vram = fields.length >= 4 ? optionalNumber(fields[fields.length - 3]) : undefined;
    const indices = gpusByPid.get(pid) ?? [];
    if (indices.length === 0) {
      processes.push({ pid, vendor: 'amd', usedMemoryBytes: vram });
      continue;
    }
    for (const gpuIndex of indices) {
      processes.push({
        pid,
        vendor: 'amd',
        gpuIndex,
        gpuUuid: uuidByIndex.get(gpuIndex),
        usedMemoryBytes: indices.length === 1 ? vram : undefined,
      });
    }
  }
  return processes.sort((a, b) => a.pid - b.pid || (a.gpuIndex ?? -1) - (b.gpuIndex ?? -1));
}

/** `PID 1234 is using 2 DRM device(s):` followed by a line `0 1`. */
export function parsePidGpus(textOutput: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const lines = textOutput.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /PID\s+(\d+)\s+is using\s+(\d+)\s+DRM device/.exec(lines[i]!);
    if (!m) continue;
    const count = Number(m[2]);
    const indices = count === 0 ? [] : (lines[i + 1] ?? '').trim().split(/\s+/).map(Number).filter(Number.isInteger).slice(0, count);
    out.set(Number(m[1]), indices);
  }
  return out;
}

function parseJson(stdout: string): Record<string, unknown> {
  // rocm-smi may print a warning line before the JSON.
  const start = stdout.indexOf('{');
  if (start < 0) {
    if (stdout.trim() === '') return {};
    throw new ToolError('rocm-smi', 'parse', 'rocm-smi printed no JSON object');
  }
  try {
    const doc: unknown = JSON.parse(stdout.slice(start));
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not an object');
    return doc as Record<string, unknown>;
  } catch (err) {
    throw new ToolError('rocm-smi', 'parse', `rocm-smi printed JSON that does not parse: ${(err as Error).message}`);
  }
}

function raw(card: Card, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const v = card[key];
    if (v === undefined || v === null) continue;
    return String(v);
  }
  return undefined;
}

function num(card: Card, keys: readonly string[]): number | undefined {
  // A key present with N/A falls through to the next spelling (the edge sensor N/A, the junction given).
  for (const key of keys) {
    const n = optionalNumber(raw(card, [key]));
    if (n !== undefined) return n;
  }
  return undefined;
}

function text(card: Card, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const t = optionalText(raw(card, [key]));
    if (t !== undefined) return t;
  }
  return undefined;
}

/**
 * The GPUs a llama-server process uses, for `llamacpp_gpu_utilization_percent`
 * and `llamacpp_temperature_celsius`: the processes on each GPU and each GPU's
 * figures from nvidia-smi / rocm-smi (src/host/gpu), matched by the server's pid.
 *
 * One reading is shared by every target of the collector for `maxAgeMs`, so N
 * llama.cpp targets run each tool once per period, not N times. No tool on PATH:
 * no GPU figures (and nothing run). A failing tool leaves its GPUs out.
 */
import { readGpuProcesses, readGpus, type GpuProcess, type GpuReading } from '../host/gpu/index.js';

export interface ProcessGpu {
  /** The GPU's index as its tool numbers it. */
  readonly index: number;
  readonly vendor: GpuReading['vendor'];
  readonly utilizationPercent: number | undefined;
  readonly temperatureCelsius: number | undefined;
}

export interface GpuSourceOptions {
  /** How long one reading serves every target. */
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
  /** The PATH the tools are looked up on (default the collector's). */
  readonly path?: string;
}

interface Reading {
  readonly at: number;
  readonly result: Promise<{ gpus: GpuReading[]; processes: GpuProcess[] }>;
}

const shared = new Map<string, Reading>();

/** Every GPU and GPU process, at most `maxAgeMs` old (one tool run shared by all callers). */
function reading(o: GpuSourceOptions): Promise<{ gpus: GpuReading[]; processes: GpuProcess[] }> {
  const key = `${o.path ?? ''}\0${o.timeoutMs}`;
  const now = performance.now();
  const last = shared.get(key);
  if (last !== undefined && now - last.at < o.maxAgeMs) return last.result;
  const options = { timeoutMs: o.timeoutMs, ...(o.path !== undefined ? { path: o.path } : {}) };
  const result = Promise.all([readGpus(options), readGpuProcesses(options)]).then(
    ([gpus, processes]) => ({ gpus, processes }),
    () => ({ gpus: [], processes: [] }),
  );
  shared.set(key, { at: now, result });
  return result;
}

/** The GPUs `pid` holds a context on, with their figures; empty when it holds none (or no tool is installed). */
export async function gpusOfProcess(pid: number, o: GpuSourceOptions): Promise<ProcessGpu[]> {
  const { gpus, processes } = await reading(o);
  const out: ProcessGpu[] = [];
  const seen = new Set<string>();
  for (const p of processes) {
    if (p.pid !== pid) continue;
    const gpu = gpus.find((g) => g.vendor === p.vendor && ((p.gpuUuid !== undefined && g.uuid === p.gpuUuid) || (p.gpuIndex !== undefined && g.index === p.gpuIndex)));
    if (gpu === undefined) continue;
    const key = `${gpu.vendor}:${gpu.index}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      index: gpu.index,
      vendor: gpu.vendor,
      utilizationPercent: gpu.utilizationRatio === undefined ? undefined : gpu.utilizationRatio * 100,
      temperatureCelsius: gpu.temperatureCelsius,
    });
  }
  return out;
}

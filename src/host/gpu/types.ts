/** What the GPU module reads: one reading per GPU, one entry per process on a GPU. */

export type GpuVendor = 'nvidia' | 'amd';

/**
 * One GPU's figures at one moment. A figure the tool did not give (`[N/A]`,
 * `[Not Supported]`, a missing key) is undefined, never 0.
 */
export interface GpuReading {
  readonly vendor: GpuVendor;
  /** The tool's own index (nvidia-smi `index`, rocm-smi `cardN`). */
  readonly index: number;
  /** nvidia-smi `uuid` (GPU-…), rocm-smi `Unique ID`. */
  readonly uuid?: string;
  /** Product name. */
  readonly name?: string;
  /** Busy fraction of the last sample period, 0–1. */
  readonly utilizationRatio?: number;
  readonly memoryUsedBytes?: number;
  readonly memoryTotalBytes?: number;
  /** memoryUsedBytes / memoryTotalBytes, 0–1 (or the tool's own allocation percentage when bytes are missing). */
  readonly memoryUtilizationRatio?: number;
  readonly temperatureCelsius?: number;
  readonly powerWatts?: number;
}

/** A process that holds a GPU (a compute context). */
export interface GpuProcess {
  readonly pid: number;
  readonly vendor: GpuVendor;
  /** Index of the GPU as in GpuReading.index; undefined when the tool did not say which one. */
  readonly gpuIndex?: number;
  readonly gpuUuid?: string;
  /** GPU memory the process holds on that GPU. */
  readonly usedMemoryBytes?: number;
}

export type GpuToolName = 'nvidia-smi' | 'rocm-smi';
export const GPU_TOOLS: readonly GpuToolName[] = ['nvidia-smi', 'rocm-smi'];

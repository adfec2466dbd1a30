/**
 * The series of the `hostmetrics` receiver: names, help texts and units in one
 * place. Names follow Prometheus' conventions (base units in the name, ratios
 * 0–1 as `_ratio`); README.md says why.
 */
import { ValueType } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type Attributes, type DataPoint, type HrTime, type Metric, type MetricDescriptor } from '../../model/batch.js';

export interface Family {
  readonly descriptor: MetricDescriptor;
}

function gauge(name: string, description: string, unit: string): Family {
  return { descriptor: { name, description, unit, valueType: ValueType.DOUBLE } };
}

export const HOST_FAMILIES = {
  cpuUtilization: gauge('system_cpu_utilization_ratio', 'Share of CPU time spent busy since the previous collection, over all logical CPUs (/proc/stat), 0-1.', '1'),
  cpuLogicalCount: gauge('system_cpu_logical_count', 'Logical CPUs online (/proc/stat).', '{cpu}'),
  memoryUsed: gauge('system_memory_used_bytes', 'Memory in use: MemTotal minus MemAvailable (/proc/meminfo).', 'By'),
  memoryAvailable: gauge('system_memory_available_bytes', 'Memory available to new work without swapping: MemAvailable (/proc/meminfo).', 'By'),
  memoryTotal: gauge('system_memory_total_bytes', 'Usable memory: MemTotal (/proc/meminfo).', 'By'),
  memoryUtilization: gauge('system_memory_utilization_ratio', 'Memory used / total, 0-1.', '1'),
  fsUsed: gauge('system_filesystem_used_bytes', 'Bytes used on the file system, as df counts them (statfs).', 'By'),
  fsAvailable: gauge('system_filesystem_available_bytes', 'Bytes an unprivileged process can still write, as df counts them (statfs).', 'By'),
  fsSize: gauge('system_filesystem_size_bytes', 'Size of the file system (statfs).', 'By'),
  fsUtilization: gauge('system_filesystem_utilization_ratio', "Used / (used + available), df's Use%, 0-1.", '1'),
  gpuUtilization: gauge('system_gpu_utilization_ratio', 'Share of the last sample period the GPU was busy, 0-1 (nvidia-smi utilization.gpu, rocm-smi GPU use).', '1'),
  gpuMemoryUsed: gauge('system_gpu_memory_used_bytes', 'GPU memory in use.', 'By'),
  gpuMemoryTotal: gauge('system_gpu_memory_total_bytes', 'GPU memory in all.', 'By'),
  gpuMemoryUtilization: gauge('system_gpu_memory_utilization_ratio', 'GPU memory used / total, 0-1.', '1'),
  gpuTemperature: gauge('system_gpu_temperature_celsius', 'GPU temperature (nvidia-smi temperature.gpu; rocm-smi edge sensor, else junction).', 'Cel'),
  gpuPower: gauge('system_gpu_power_watts', 'GPU power draw.', 'W'),
} as const;

const NO_ATTRIBUTES: Attributes = Object.freeze({}) as Attributes;

/** Gauges of one snapshot; a family gets one metric with a point per series. */
export class HostMetricList {
  private readonly byFamily = new Map<Family, { metric: Metric; points: DataPoint<number>[] }>();
  constructor(
    private readonly startTime: HrTime,
    private readonly now: HrTime,
  ) {}

  /** Adds a point; an undefined value (a figure the source did not give) adds nothing. */
  add(f: Family, value: number | undefined, attributes: Attributes = NO_ATTRIBUTES): void {
    if (value === undefined || !Number.isFinite(value)) return;
    let entry = this.byFamily.get(f);
    if (entry === undefined) {
      const points: DataPoint<number>[] = [];
      const metric: Metric = {
        descriptor: f.descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: points,
        prometheus: { type: 'gauge' },
      };
      this.byFamily.set(f, (entry = { metric, points }));
    }
    entry.points.push({ startTime: this.startTime, endTime: this.now, attributes, value });
  }

  get metrics(): Metric[] {
    return [...this.byFamily.values()].map((e) => e.metric);
  }

  get samples(): number {
    let n = 0;
    for (const e of this.byFamily.values()) n += e.points.length;
    return n;
  }
}

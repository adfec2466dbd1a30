/**
 * One round of the `hostmetrics` receiver: CPU, memory, file systems and GPUs,
 * measured side by side, handed on as one snapshot of the host's resource.
 *
 * Each part fails alone: a part that cannot be read (no /proc on this OS, a GPU
 * tool that hangs) leaves its series out of this round, is logged once per cause
 * (and once more when it recovers), and the other parts' series still flow. A
 * GPU tool that times out, exits non-zero or prints what does not parse is
 * counted in runner_metrics_hostmetrics_tool_errors_total{tool,reason}, as is a
 * statfs that does not answer (tool="statfs", reason="timeout").
 */
import { hostname } from 'node:os';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { Consumer } from '../../component.js';
import { millisToHrTime, type Attributes, type HrTime } from '../../model/batch.js';
import { cpuUtilization, readCpuTimes, type CpuTimes } from '../../host/cpu.js';
import { readMemory } from '../../host/memory.js';
import { FilesystemReader } from '../../host/filesystem.js';
import { probeGpus, type GpuReading, type GpuToolName, type ToolError, type ToolFailureReason } from '../../host/gpu/index.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Counter, SelfMetrics } from '../../telemetry/self-metrics.js';
import { VERSION } from '../../version.js';
import { Periodic } from '../periodic.js';
import { startOffset } from '../prometheus/target-scraper.js';
import { filesystemFilter, type HostmetricsReceiverConfig } from './config.js';
import { HOST_FAMILIES as F, HostMetricList } from './series.js';

export const HOSTMETRICS_SCOPE = { name: 'runner-metrics/receiver/hostmetrics', version: VERSION };
export const HOST_BACKEND = 'host';
export const TOOL_ERRORS_METRIC = 'runner_metrics_hostmetrics_tool_errors_total';

const TOOL_FAILURE_REASONS: readonly ToolFailureReason[] = ['timeout', 'exit', 'parse'];

type Part = 'cpu' | 'memory' | 'filesystem' | 'gpu';

export interface HostScraperOptions {
  readonly receiverId: string;
  readonly config: HostmetricsReceiverConfig;
  readonly next: Consumer;
  readonly logger: Logger;
  readonly selfMetrics: SelfMetrics;
  /** Where /proc is (tests point it at a copy). */
  readonly procDir?: string;
  /** The PATH GPU tools are looked up on (default the collector's). */
  readonly path?: string;
}

export class HostScraper {
  readonly resource: Resource;
  private readonly periodic: Periodic;
  private readonly filesystems: FilesystemReader | undefined;
  private readonly toolErrors: Counter;
  private readonly since: HrTime = millisToHrTime(Date.now());
  private cpuBefore: CpuTimes | undefined;
  /** The cause last logged per part or tool, '' once it is fine again. */
  private readonly problems = new Map<string, string>();
  private readonly touchedTools = new Set<string>();
  private gpuAbsenceLogged = false;
  /** Stops a running GPU tool when the receiver stops, instead of waiting out its timeout. */
  private readonly stopping = new AbortController();

  constructor(private readonly opts: HostScraperOptions) {
    const c = opts.config;
    this.resource = resourceFromAttributes({
      'service.name': opts.receiverId,
      'host.name': hostname(),
      ...Object.fromEntries(Object.entries(c.attributes).map(([k, v]) => [k, String(v)])),
      backend: HOST_BACKEND,
    });
    this.periodic = new Periodic(c.collection_interval, () => this.scrape());
    const fs = c.scrapers.filesystem;
    if (fs) {
      this.filesystems = new FilesystemReader({
        filter: filesystemFilter(fs),
        timeoutMs: Math.min(fs.timeout, c.collection_interval),
        mountsFile: opts.procDir ? `${opts.procDir}/self/mounts` : undefined,
      });
    }
    this.toolErrors = opts.selfMetrics.counter(TOOL_ERRORS_METRIC, 'GPU tool runs and statfs calls of the hostmetrics receiver that timed out, exited non-zero or printed what does not parse, per tool and reason.');
  }

  /** Takes the first CPU reading (so the first round has a utilisation), then starts the timer. */
  async start(): Promise<void> {
    if (this.opts.config.scrapers.cpu) this.cpuBefore = await readCpuTimes(this.opts.procDir).catch(() => undefined);
    this.periodic.start(startOffset(this.opts.receiverId, this.opts.config.collection_interval));
  }

  stop(): Promise<void> {
    this.stopping.abort();
    return this.periodic.stop();
  }

  /** Runs one round now; resolves when it is done (tests). */
  scrapeOnce(): Promise<void> {
    return this.periodic.runOnce();
  }

  private async scrape(): Promise<void> {
    const s = this.opts.config.scrapers;
    const [cpu, memory, filesystems, gpus] = await Promise.all([
      s.cpu ? this.part('cpu', () => readCpuTimes(this.opts.procDir)) : undefined,
      s.memory ? this.part('memory', () => readMemory(this.opts.procDir)) : undefined,
      this.filesystems ? this.part('filesystem', () => this.filesystems!.read()) : undefined,
      s.gpu ? this.part('gpu', () => this.readGpus()) : undefined,
    ]);
    if (this.periodic.isStopped) return;
    const list = new HostMetricList(this.since, millisToHrTime(Date.now()));
    if (cpu) {
      if (this.cpuBefore) list.add(F.cpuUtilization, cpuUtilization(this.cpuBefore, cpu));
      this.cpuBefore = cpu;
      list.add(F.cpuLogicalCount, cpu.logicalCount > 0 ? cpu.logicalCount : undefined);
    }
    if (memory) {
      list.add(F.memoryUsed, memory.usedBytes);
      list.add(F.memoryAvailable, memory.availableBytes);
      list.add(F.memoryTotal, memory.totalBytes);
      list.add(F.memoryUtilization, memory.utilizationRatio);
    }
    if (filesystems) {
      for (const fs of filesystems.filesystems) {
        const labels: Attributes = { device: fs.device, mountpoint: fs.mountpoint, type: fs.type };
        list.add(F.fsUsed, fs.usedBytes, labels);
        list.add(F.fsAvailable, fs.availableBytes, labels);
        list.add(F.fsSize, fs.sizeBytes, labels);
        list.add(F.fsUtilization, fs.utilizationRatio, labels);
      }
      this.statfsOutcome(filesystems.stuck, filesystems.failed);
    }
    if (gpus) for (const gpu of gpus) addGpu(list, gpu);
    this.opts.next.consume([{ resource: this.resource, scopeMetrics: [{ scope: HOSTMETRICS_SCOPE, metrics: list.metrics }] }]);
    this.opts.logger.debug('host measured', { receiver: this.opts.receiverId, samples: list.samples });
  }

  /** Runs one part; its failure is logged once per cause and leaves only its own series out. */
  private async part<T>(part: Part, read: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await read();
      this.resolved(part);
      return value;
    } catch (err) {
      this.problem(part, (err as Error).message ?? String(err), `could not read the host's ${part} figures; they are left out until it works again`);
      return undefined;
    }
  }

  private async readGpus(): Promise<GpuReading[]> {
    const gpu = this.opts.config.scrapers.gpu!;
    const probe = await probeGpus({
      tools: gpu.tools as GpuToolName[],
      timeoutMs: Math.min(gpu.timeout, this.opts.config.collection_interval),
      path: this.opts.path,
      onToolError: (e) => this.toolFailed(e),
      signal: this.stopping.signal,
    });
    for (const outcome of probe.tools) {
      if (outcome.file === undefined) continue;
      this.touchTool(outcome.tool);
      if (!outcome.error) this.resolved(`tool:${outcome.tool}`);
    }
    const found = probe.tools.filter((o) => o.file !== undefined);
    if (found.length === 0 && !this.gpuAbsenceLogged) {
      this.gpuAbsenceLogged = true;
      this.opts.logger.info('no GPU tool on PATH: no GPU series', { receiver: this.opts.receiverId, looked_for: probe.tools.map((o) => o.tool) });
    } else if (found.length > 0 && probe.gpus.length === 0 && found.every((o) => !o.error) && !this.gpuAbsenceLogged) {
      this.gpuAbsenceLogged = true;
      this.opts.logger.info('GPU tools report no GPU: no GPU series', { receiver: this.opts.receiverId, tools: found.map((o) => o.tool) });
    } else if (probe.gpus.length > 0) {
      this.gpuAbsenceLogged = false;
    }
    return probe.gpus;
  }

  private toolFailed(e: ToolError): void {
    this.touchTool(e.tool);
    this.toolErrors.add({ receiver: this.opts.receiverId, tool: e.tool, reason: e.reason });
    this.problem(`tool:${e.tool}`, e.reason === 'exit' ? `exit:${e.exitCode ?? 'signal'}` : e.reason, 'GPU tool failed; its GPUs are left out of this round', {
      tool: e.tool,
      reason: e.reason,
      error: e.message,
    });
  }

  private statfsOutcome(stuck: readonly string[], failed: ReadonlyArray<{ mountpoint: string; error: Error }>): void {
    for (const mountpoint of stuck) {
      this.touchTool('statfs');
      this.toolErrors.add({ receiver: this.opts.receiverId, tool: 'statfs', reason: 'timeout' });
      this.problem(`statfs:${mountpoint}`, 'timeout', 'statfs did not answer; the file system is left out until it does', { mountpoint });
    }
    for (const { mountpoint, error } of failed) this.problem(`statfs:${mountpoint}`, error.message, 'statfs failed; the file system is left out', { mountpoint });
    const bad = new Set([...stuck, ...failed.map((f) => f.mountpoint)]);
    for (const key of this.problems.keys()) {
      if (key.startsWith('statfs:') && !bad.has(key.slice('statfs:'.length))) this.resolved(key);
    }
  }

  /** Counter series at 0 from the first time a tool is seen, so rate() works from its first failure. */
  private touchTool(tool: string): void {
    if (this.touchedTools.has(tool)) return;
    this.touchedTools.add(tool);
    for (const reason of tool === 'statfs' ? (['timeout'] as const) : TOOL_FAILURE_REASONS) {
      this.toolErrors.touch({ receiver: this.opts.receiverId, tool, reason });
    }
  }

  private problem(key: string, cause: string, msg: string, fields: Record<string, unknown> = {}): void {
    if (this.problems.get(key) === cause) return;
    this.problems.set(key, cause);
    this.opts.logger.warn(msg, { receiver: this.opts.receiverId, part: key, error: cause, ...fields });
  }

  private resolved(key: string): void {
    const was = this.problems.get(key);
    if (was === undefined || was === '') return;
    this.problems.set(key, '');
    this.opts.logger.info('host figures back', { receiver: this.opts.receiverId, part: key });
  }
}

function addGpu(list: HostMetricList, gpu: GpuReading): void {
  const labels: Record<string, string> = { gpu: String(gpu.index), vendor: gpu.vendor };
  if (gpu.name !== undefined) labels['gpu_name'] = gpu.name;
  if (gpu.uuid !== undefined) labels['gpu_uuid'] = gpu.uuid;
  list.add(F.gpuUtilization, gpu.utilizationRatio, labels);
  list.add(F.gpuMemoryUsed, gpu.memoryUsedBytes, labels);
  list.add(F.gpuMemoryTotal, gpu.memoryTotalBytes, labels);
  list.add(F.gpuMemoryUtilization, gpu.memoryUtilizationRatio, labels);
  list.add(F.gpuTemperature, gpu.temperatureCelsius, labels);
  list.add(F.gpuPower, gpu.powerWatts, labels);
}

/**
 * GPU figures from the vendors' command-line tools: nvidia-smi (CSV queries) and
 * rocm-smi (JSON), whichever are on PATH. A tool that is not installed is no
 * error: the host simply has no GPU of that vendor. A tool that hangs is killed
 * at the timeout; one that fails or prints what does not parse is reported
 * through `onToolError` and leaves only its own GPUs out.
 *
 * Used by the hostmetrics receiver (per-GPU series) and by anything that needs
 * to know which GPU a process runs on (readGpuProcesses).
 */
import { findOnPath } from './find-tool.js';
import { NVIDIA_APPS_ARGS, NVIDIA_GPU_ARGS, NVIDIA_NO_DEVICES_EXIT, parseNvidiaGpus, parseNvidiaProcesses } from './nvidia.js';
import { parseRocmGpus, parseRocmProcesses, ROCM_GPU_ARGS, ROCM_PID_GPUS_ARGS, ROCM_PIDS_ARGS } from './rocm.js';
import { runTool, ToolError } from './run-tool.js';
import { GPU_TOOLS, type GpuProcess, type GpuReading, type GpuToolName } from './types.js';

export { ToolError, type ToolFailureReason } from './run-tool.js';
export { GPU_TOOLS, type GpuProcess, type GpuReading, type GpuToolName, type GpuVendor } from './types.js';

export const DEFAULT_GPU_TOOL_TIMEOUT_MS = 5_000;

export interface GpuReadOptions {
  /** Each tool run is killed after this long (default 5s). */
  readonly timeoutMs?: number;
  /** Which tools to look for (default both). */
  readonly tools?: readonly GpuToolName[];
  /** The PATH the tools are looked up on and run with (default the collector's). */
  readonly path?: string;
  /** Told of every tool run that failed; the other tools' GPUs are still returned. */
  readonly onToolError?: (error: ToolError) => void;
  /** Aborting kills running tools at once; what they would have said is left out, not reported as a failure. */
  readonly signal?: AbortSignal;
}

/** What became of one tool in one reading. */
export interface GpuToolOutcome {
  readonly tool: GpuToolName;
  /** Where it was found on PATH; undefined when it is not installed. */
  readonly file: string | undefined;
  readonly error?: ToolError;
}

export interface GpuProbe {
  readonly gpus: GpuReading[];
  readonly tools: GpuToolOutcome[];
}

/** Every GPU the installed tools report, NVIDIA first; a failed tool's GPUs are left out. */
export async function readGpus(options: GpuReadOptions = {}): Promise<GpuReading[]> {
  return (await probeGpus(options)).gpus;
}

/** readGpus, plus what became of each tool (for counting failures and logging "no GPU tool"). */
export async function probeGpus(options: GpuReadOptions = {}): Promise<GpuProbe> {
  const results = await Promise.all(
    toolsOf(options).map(async (tool): Promise<{ outcome: GpuToolOutcome; gpus: GpuReading[] }> => {
      const file = findOnPath(tool, options.path);
      if (file === undefined) return { outcome: { tool, file }, gpus: [] };
      try {
        return { outcome: { tool, file }, gpus: await readTool(tool, file, options) };
      } catch (err) {
        const error = asToolError(tool, err);
        if (!options.signal?.aborted) options.onToolError?.(error);
        return { outcome: { tool, file, error }, gpus: [] };
      }
    }),
  );
  return { gpus: results.flatMap((r) => r.gpus), tools: results.map((r) => r.outcome) };
}

/**
 * Every process holding a GPU, with the GPU's index and uuid where the tool says
 * which one, and the memory it holds there.
 */
export async function readGpuProcesses(options: GpuReadOptions = {}): Promise<GpuProcess[]> {
  const results = await Promise.all(
    toolsOf(options).map(async (tool): Promise<GpuProcess[]> => {
      const file = findOnPath(tool, options.path);
      if (file === undefined) return [];
      try {
        return await readToolProcesses(tool, file, options);
      } catch (err) {
        if (!options.signal?.aborted) options.onToolError?.(asToolError(tool, err));
        return [];
      }
    }),
  );
  return results.flat();
}

async function readTool(tool: GpuToolName, file: string, options: GpuReadOptions): Promise<GpuReading[]> {
  if (tool === 'nvidia-smi') {
    const out = await runNvidia(file, NVIDIA_GPU_ARGS, options);
    return out === undefined ? [] : parseNvidiaGpus(out);
  }
  return parseRocmGpus((await run(tool, file, ROCM_GPU_ARGS, options)).stdout);
}

async function readToolProcesses(tool: GpuToolName, file: string, options: GpuReadOptions): Promise<GpuProcess[]> {
  if (tool === 'nvidia-smi') {
    const [gpus, apps] = await Promise.all([runNvidia(file, NVIDIA_GPU_ARGS, options), runNvidia(file, NVIDIA_APPS_ARGS, options)]);
    if (gpus === undefined || apps === undefined) return [];
    const indexByUuid = new Map<string, number>();
    for (const g of parseNvidiaGpus(gpus)) if (g.uuid !== undefined) indexByUuid.set(g.uuid, g.index);
    return parseNvidiaProcesses(apps, indexByUuid);
  }
  const [gpus, pids, pidGpus] = await Promise.all([
    run(tool, file, ROCM_GPU_ARGS, options),
    run(tool, file, ROCM_PIDS_ARGS, options),
    // Which GPUs each process uses is a refinement: without it, processes are still listed.
    run(tool, file, ROCM_PID_GPUS_ARGS, options).catch((err: unknown) => {
      options.onToolError?.(asToolError(tool, err));
      return undefined;
    }),
  ]);
  const uuidByIndex = new Map<number, string>();
  for (const g of parseRocmGpus(gpus.stdout)) if (g.uuid !== undefined) uuidByIndex.set(g.index, g.uuid);
  return parseRocmProcesses(pids.stdout, pidGpus?.stdout, uuidByIndex);
}

/** nvidia-smi's answer, or undefined when the driver sees no GPU (exit 6: not a failure). */
async function runNvidia(file: string, args: readonly string[], options: GpuReadOptions): Promise<string | undefined> {
  try {
    return (await run('nvidia-smi', file, args, options)).stdout;
  } catch (err) {
    if (err instanceof ToolError && err.reason === 'exit' && err.exitCode === NVIDIA_NO_DEVICES_EXIT) return undefined;
    throw err;
  }
}

function run(tool: GpuToolName, file: string, args: readonly string[], options: GpuReadOptions) {
  const env = options.path === undefined ? process.env : { ...process.env, PATH: options.path };
  return runTool(tool, file, args, { timeoutMs: options.timeoutMs ?? DEFAULT_GPU_TOOL_TIMEOUT_MS, env, signal: options.signal });
}

function toolsOf(options: GpuReadOptions): readonly GpuToolName[] {
  return options.tools ?? GPU_TOOLS;
}

function asToolError(tool: GpuToolName, err: unknown): ToolError {
  if (err instanceof ToolError) return err;
  return new ToolError(tool, 'parse', `${tool}: ${(err as Error)?.message ?? String(err)}`);
}

/**
 * Runs a command-line tool (nvidia-smi, rocm-smi) and returns what it printed,
 * or fails with the reason a self-metric counts it under.
 *
 * A GPU tool can hang (a wedged driver, a GPU fallen off the bus), so every run
 * has a deadline. The tool runs in its own process group, and at the deadline the
 * whole group is killed: a wrapper script whose child keeps the output pipe open
 * would otherwise keep the run waiting after the wrapper itself is gone.
 */
import { spawn } from 'node:child_process';

export type ToolFailureReason = 'timeout' | 'exit' | 'parse';

export class ToolError extends Error {
  constructor(
    readonly tool: string,
    readonly reason: ToolFailureReason,
    message: string,
    /** The exit code, for reason `exit` (null when a signal ended it). */
    readonly exitCode?: number | null,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

export interface RunToolOptions {
  readonly timeoutMs: number;
  /** Output beyond this fails the run as `parse` (a tool gone wrong, not a GPU list). */
  readonly maxOutputBytes?: number;
  /** Environment of the tool (PATH, LC_ALL); the collector's own by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Aborting kills the tool at once (the collector is stopping); the run rejects with reason `timeout`. */
  readonly signal?: AbortSignal;
}

export interface ToolOutput {
  readonly stdout: string;
  readonly exitCode: number;
}

const DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024;

/** Runs `file args…`; resolves with its stdout when it exits 0, rejects with a ToolError otherwise. */
export function runTool(tool: string, file: string, args: readonly string[], options: RunToolOptions): Promise<ToolOutput> {
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  return new Promise<ToolOutput>((resolve, reject) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    // The C locale keeps numbers as 12.5, never 12,5.
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...(options.env ?? process.env), LC_ALL: 'C' },
    });

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const finish = (err: ToolError | undefined, out?: ToolOutput) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      killGroup(); // nothing the tool started outlives the run
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (err) reject(err);
      else resolve(out!);
    };
    const timer = setTimeout(
      () => finish(new ToolError(tool, 'timeout', `${tool} did not finish within ${options.timeoutMs}ms; killed`)),
      options.timeoutMs,
    );
    timer.unref?.();
    const onAbort = () => finish(new ToolError(tool, 'timeout', `${tool} was stopped: the collector is stopping`));
    if (options.signal?.aborted) queueMicrotask(onAbort);
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout!.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxOutput) {
        finish(new ToolError(tool, 'parse', `${tool} printed more than ${maxOutput} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 2048) stderr += chunk.toString('utf8');
    });
    child.on('error', (err) => finish(new ToolError(tool, 'exit', `${tool} could not be run: ${err.message}`)));
    // 'close': the tool has exited and its output pipes are drained.
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(chunks).toString('utf8');
      if (code === 0) {
        finish(undefined, { stdout, exitCode: 0 });
        return;
      }
      const said = firstLine(stderr) || firstLine(stdout);
      const how = code === null ? `was ended by ${signal ?? 'a signal'}` : `exited with status ${code}`;
      finish(new ToolError(tool, 'exit', `${tool} ${how}${said ? `: ${said}` : ''}`, code));
    });
  });
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 200);
}

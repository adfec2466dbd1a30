/**
 * Figures of one process from /proc: resident memory and threads
 * (/proc/PID/status), CPU time (utime + stime in /proc/PID/stat, in clock ticks
 * of USER_HZ, which Linux fixes at 100 for what /proc reports), its command line
 * and working directory, and the machine's memory (/proc/meminfo MemTotal).
 *
 * Read synchronously (procText, procLink): /proc files are made in memory when read,
 * so a read costs microseconds, while each asynchronous one waits for a thread-pool
 * round trip and then an event-loop turn. A scrape's insight makes a dozen of them
 * one after another: on a loop kept busy by another target's large page, they took
 * 90–170 ms and held back the llama.cpp target's batch (`npm run bench -- stall`).
 */
import { readFileSync, readlinkSync } from 'node:fs';

/** USER_HZ: /proc's clock tick (100 on every Linux architecture that matters). */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessSample {
  readonly pid: number;
  /** Start time in ticks since boot: tells a reused pid from the same process. */
  readonly startTicks: number;
  readonly cpuTicks: number;
  readonly rssBytes: number | undefined;
  readonly threads: number | undefined;
  /** When it was read (ms, monotonic). */
  readonly atMs: number;
}

export async function readProcessSample(pid: number, atMs: number, procRoot = '/proc'): Promise<ProcessSample | undefined> {
  const stat = procText(`${procRoot}/${pid}/stat`);
  const status = procText(`${procRoot}/${pid}/status`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is fields[0]: utime is field 14, stime 15, starttime 22.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const startTicks = Number(fields[19]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return {
    pid,
    startTicks,
    cpuTicks: utime + stime,
    rssBytes: kib(status, 'VmRSS'),
    threads: statusNumber(status, 'Threads'),
    atMs,
  };
}

/** CPU use between two samples of the same process, in percent of one core (100 = one core busy). */
export function cpuPercent(before: ProcessSample | undefined, after: ProcessSample): number | undefined {
  if (before === undefined || before.pid !== after.pid || before.startTicks !== after.startTicks) return undefined;
  const seconds = (after.atMs - before.atMs) / 1000;
  if (!(seconds > 0) || after.cpuTicks < before.cpuTicks) return undefined;
  return ((after.cpuTicks - before.cpuTicks) / CLOCK_TICKS_PER_SECOND / seconds) * 100;
}

export async function readCommandLine(pid: number, procRoot = '/proc'): Promise<string[] | undefined> {
  const text = procText(`${procRoot}/${pid}/cmdline`);
  if (text === undefined || text === '') return undefined;
  return text.replace(/\0$/, '').split('\0');
}

export async function readWorkingDirectory(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  return procLink(`${procRoot}/${pid}/cwd`);
}

export async function readTotalMemory(procRoot = '/proc'): Promise<number | undefined> {
  return kib(procText(`${procRoot}/meminfo`), 'MemTotal');
}

/** A /proc file's text, or undefined if it cannot be read (gone, another user's). */
export function procText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Where a /proc link points, or undefined. */
export function procLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function statusNumber(text: string | undefined, key: string): number | undefined {
  if (text === undefined) return undefined;
  const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** A `Key:   1234 kB` line, in bytes. */
function kib(text: string | undefined, key: string): number | undefined {
  const n = statusNumber(text, key);
  return n === undefined ? undefined : n * 1024;
}

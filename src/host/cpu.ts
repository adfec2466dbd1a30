/**
 * CPU utilisation from /proc/stat: the share of CPU time not spent idle between
 * two readings, over all logical CPUs. One reading says nothing about now (its
 * counters run since boot), so the first figure needs a second reading.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CpuTimes {
  /** Jiffies spent busy (everything but idle and iowait), over all CPUs. */
  readonly busy: number;
  /** Jiffies of all kinds, over all CPUs. */
  readonly total: number;
  /** Logical CPUs online (the `cpuN` lines). */
  readonly logicalCount: number;
}

/** Parses /proc/stat's aggregate `cpu` line and counts the `cpuN` lines. */
export function parseProcStat(text: string): CpuTimes {
  let times: number[] | undefined;
  let logicalCount = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) times = line.trim().split(/\s+/).slice(1).map(Number);
    else if (/^cpu\d+\s/.test(line)) logicalCount++;
  }
  if (times === undefined || times.length < 4 || times.some((n) => !Number.isFinite(n))) {
    throw new Error('/proc/stat has no aggregate cpu line');
  }
  // user nice system idle iowait irq softirq steal guest guest_nice: guest time is
  // already counted in user (and guest_nice in nice), so it is left out of the sum.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = times;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total, logicalCount };
}

export async function readCpuTimes(procDir = '/proc'): Promise<CpuTimes> {
  return parseProcStat(await readFile(join(procDir, 'stat'), 'utf8'));
}

/** Busy share 0–1 between two readings; undefined when no time passed (or the counters went back). */
export function cpuUtilization(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  const busy = after.busy - before.busy;
  if (total <= 0 || busy < 0) return undefined;
  return Math.min(1, busy / total);
}

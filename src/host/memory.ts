/**
 * Memory from /proc/meminfo. "Available" is the kernel's MemAvailable: what can
 * be given to new work without swapping (free memory plus reclaimable caches).
 * "Used" is total minus available, the figure `free` shows as used and what
 * actually constrains loading another model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface MemoryReading {
  readonly totalBytes: number;
  readonly availableBytes: number;
  readonly usedBytes: number;
  /** used / total, 0–1. */
  readonly utilizationRatio: number;
}

/** Parses /proc/meminfo (values in kB, i.e. KiB). */
export function parseMeminfo(text: string): MemoryReading {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]) * 1024);
  }
  const total = kb.get('MemTotal');
  if (total === undefined || total <= 0) throw new Error('/proc/meminfo has no MemTotal');
  // Kernels before 3.14 have no MemAvailable: free plus page cache and buffers is the old estimate.
  const available = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  const used = Math.max(0, total - available);
  return { totalBytes: total, availableBytes: available, usedBytes: used, utilizationRatio: used / total };
}

export async function readMemory(procDir = '/proc'): Promise<MemoryReading> {
  return parseMeminfo(await readFile(join(procDir, 'meminfo'), 'utf8'));
}

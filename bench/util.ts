/** Small helpers shared by the benchmarks. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(2);
}

/** Exponential backoff with jitter, and the `Retry-After` header, as the Collector's retry sender uses them. */

export interface BackoffSettings {
  readonly initial_interval: number;
  readonly max_interval: number;
  readonly multiplier: number;
}

/** Jitter of ±50% around the nominal interval, so many collectors do not retry in step. */
const RANDOMIZATION = 0.5;

export class Backoff {
  private interval: number;

  constructor(private readonly settings: BackoffSettings) {
    this.interval = settings.initial_interval;
  }

  /** The next delay in milliseconds; each call grows the interval up to max_interval. */
  next(): number {
    const nominal = this.interval;
    this.interval = Math.min(this.interval * this.settings.multiplier, this.settings.max_interval);
    const spread = nominal * RANDOMIZATION;
    return Math.max(0, nominal - spread + Math.random() * 2 * spread);
  }
}

/** Milliseconds to wait from a `Retry-After` value (delay-seconds or an HTTP date); undefined when absent or invalid. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const trimmed = v.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

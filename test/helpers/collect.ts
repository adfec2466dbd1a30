import type { Consumer } from '../../src/component.js';
import type { Batch, Metric, ResourceBatch } from '../../src/model/batch.js';
import type { LogFields, Logger } from '../../src/telemetry/logger.js';

/** A consumer that records every batch, and can wait for the next one. */
export class CollectingConsumer implements Consumer {
  readonly batches: Batch[] = [];
  private waiters: Array<() => void> = [];

  consume(batch: Batch): void {
    this.batches.push(batch);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `count` batches in total have arrived. */
  async waitFor(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.batches.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} batches (got ${this.batches.length})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The latest snapshot whose resource has the given attribute value. */
  latest(attribute: string, value: string): ResourceBatch | undefined {
    for (let i = this.batches.length - 1; i >= 0; i--) {
      for (const rb of this.batches[i]!) if (rb.resource.attributes[attribute] === value) return rb;
    }
    return undefined;
  }
}

export function metricNamed(rb: ResourceBatch, name: string): Metric | undefined {
  for (const sm of rb.scopeMetrics) for (const m of sm.metrics) if (m.descriptor.name === name) return m;
  return undefined;
}

/** A logger that keeps every line, for asserting what was logged (and how often). */
export class RecordingLogger implements Logger {
  constructor(readonly lines: Array<{ level: string; msg: string } & LogFields> = []) {}
  debug(msg: string, f?: LogFields) { this.lines.push({ level: 'debug', msg, ...f }); }
  info(msg: string, f?: LogFields) { this.lines.push({ level: 'info', msg, ...f }); }
  warn(msg: string, f?: LogFields) { this.lines.push({ level: 'warn', msg, ...f }); }
  error(msg: string, f?: LogFields) { this.lines.push({ level: 'error', msg, ...f }); }
  child(): Logger { return this; }
  count(msg: string): number {
    return this.lines.filter((l) => l.msg === msg).length;
  }
}

/**
 * Runs a task on a steady cadence (see cadence.ts): first after an offset, then
 * every interval on the same grid, never two runs at once, and no run after stop().
 * A slow run shortens the next wait instead of shifting the cadence.
 */
import { Cadence } from './cadence.js';

export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  start(offsetMs: number): void {
    const cadence = new Cadence(this.intervalMs, offsetMs);
    this.schedule(cadence, cadence.firstDelay);
  }

  /** Runs the task now (tests, and the timer); resolves when it is done. Never rejects. */
  runOnce(): Promise<void> {
    const run = (this.running ?? Promise.resolve()).then(() => this.task()).catch(() => undefined);
    const tracked = run.finally(() => {
      if (this.running === tracked) this.running = undefined;
    });
    this.running = tracked;
    return tracked;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(cadence: Cadence, delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().then(() => this.schedule(cadence, cadence.next()));
    }, delayMs);
    this.timer.unref?.();
  }
}

/**
 * Runs a task on a steady cadence: first after an offset, then every interval
 * measured from the start of the previous run, never two runs at once, and no run
 * after stop(). A slow run shortens the next wait instead of shifting the cadence.
 */
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
    this.schedule(offsetMs);
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

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const startedAt = Date.now();
      void this.runOnce().then(() => this.schedule(Math.max(0, this.intervalMs - (Date.now() - startedAt))));
    }, delayMs);
    this.timer.unref?.();
  }
}

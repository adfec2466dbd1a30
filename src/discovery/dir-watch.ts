/**
 * Runs a refresh when files in some directories change (fs.watch) and every
 * refresh interval anyway, as Prometheus' file_sd does: watch events are fast
 * but not guaranteed (network file systems, a directory created later), the
 * timer is the floor. Refreshes never overlap; changes during one cause another.
 */
import { watch, type FSWatcher } from 'node:fs';

const DEBOUNCE_MS = 25;

export class DirWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  private interval: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly dirs: readonly string[],
    private readonly refreshMs: number,
    private readonly refresh: () => Promise<void>,
  ) {}

  start(): void {
    this.interval = setInterval(() => this.trigger(), this.refreshMs);
    this.interval.unref?.();
    this.trigger();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    clearTimeout(this.debounce);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.running;
  }

  /** Runs a refresh now, or right after the running one. */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        this.watchDirs();
        await this.refresh().catch(() => undefined);
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  /** (Re)starts watching each directory that exists and is not watched yet. */
  private watchDirs(): void {
    for (const dir of this.dirs) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.soon());
        w.on('error', () => {
          w.close();
          this.watchers.delete(dir); // e.g. the directory was removed; the timer tries again
        });
        this.watchers.set(dir, w);
      } catch {
        // Not there (yet): the refresh timer covers it.
      }
    }
  }

  private soon(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.trigger(), DEBOUNCE_MS);
    this.debounce.unref?.();
  }
}

/**
 * `socket_sd`: every Unix socket matching a glob (`/run/runners/*.sock`) is a
 * target scraped over that socket. The directory is watched and listed again
 * every refresh interval, so a runner whose socket appears is scraped, and one
 * whose socket is removed is dropped, within one interval at most. Only sockets
 * count: a regular file left behind with a matching name is not a target.
 */
import { stat } from 'node:fs/promises';
import { DirWatch } from './dir-watch.js';
import { expandGlob, parseGlob, type PathGlob } from './glob.js';
import type { Discoverer, TargetGroup } from './target-group.js';
import type { DiscoveryTelemetry } from './telemetry.js';

export interface SocketSdOptions {
  readonly paths: readonly string[];
  readonly refreshMs: number;
  /** Labels of every socket found (`__metrics_path__` included when set). */
  readonly labels: Readonly<Record<string, string>>;
}

/** For the config: why a socket glob cannot be used, or undefined. */
export function socketGlobProblem(path: string): string | undefined {
  try {
    parseGlob(path);
    return path.startsWith('/') ? undefined : `"${path}" must be an absolute path`;
  } catch (err) {
    return (err as Error).message;
  }
}

export class SocketSdDiscoverer implements Discoverer {
  readonly mechanism = 'socket_sd';
  private readonly globs: PathGlob[];
  private readonly watch: DirWatch;
  private onUpdate: ((groups: TargetGroup[]) => void) | undefined;
  private last: string | undefined;

  constructor(
    private readonly opts: SocketSdOptions,
    private readonly telemetry: DiscoveryTelemetry,
  ) {
    this.globs = opts.paths.map(parseGlob);
    this.watch = new DirWatch([...new Set(this.globs.map((g) => g.dir))], opts.refreshMs, () => this.refresh());
  }

  run(onUpdate: (groups: TargetGroup[]) => void): void {
    this.onUpdate = onUpdate;
    this.watch.start();
  }

  stop(): Promise<void> {
    this.onUpdate = undefined;
    return this.watch.stop();
  }

  private async refresh(): Promise<void> {
    const sockets = new Set<string>();
    const groups: TargetGroup[] = [];
    for (const glob of this.globs) {
      let paths: string[];
      try {
        paths = await expandGlob(glob);
        this.telemetry.clear(glob.text, this.mechanism, { paths: glob.text });
      } catch (err) {
        this.telemetry.error(this.mechanism, 'read', glob.text, `${glob.text}: ${(err as Error).message}`, { paths: glob.text });
        return; // keep the last set rather than drop every target of an unreadable directory
      }
      const found: string[] = [];
      for (const path of paths) {
        if (sockets.has(path) || !(await isSocket(path))) continue;
        sockets.add(path);
        found.push(`unix:${path}`);
      }
      if (found.length > 0) groups.push({ targets: found, labels: this.opts.labels, source: glob.text });
    }
    const text = JSON.stringify(groups);
    if (text === this.last) return;
    this.last = text;
    this.onUpdate?.(groups);
  }
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false; // gone since the listing, or a dangling link
  }
}

/**
 * `socket_sd`: every Unix socket matching a glob (`/run/runners/*.sock`) is a
 * target scraped over that socket. The directory is watched and listed again
 * every refresh interval, so a runner whose socket appears is scraped, and one
 * whose socket is removed is dropped, within one interval at most. Only sockets
 * count: a regular file left behind with a matching name is not a target.
 */
import { stat } from 'node:fs/promises';
import { GlobDiscoverer } from './glob-discoverer.js';
import { expandGlob, globProblem } from './glob.js';
import type { TargetGroup } from './target-group.js';
import type { DiscoveryTelemetry } from './telemetry.js';

export interface SocketSdOptions {
  readonly paths: readonly string[];
  readonly refreshMs: number;
  /** Labels of every socket found (`__metrics_path__` included when set). */
  readonly labels: Readonly<Record<string, string>>;
}

/** For the config: why a socket glob cannot be used, or undefined. */
export function socketGlobProblem(path: string): string | undefined {
  return globProblem(path) ?? (path.startsWith('/') ? undefined : `"${path}" must be an absolute path`);
}

export class SocketSdDiscoverer extends GlobDiscoverer {
  readonly mechanism = 'socket_sd';

  constructor(
    private readonly opts: SocketSdOptions,
    private readonly telemetry: DiscoveryTelemetry,
  ) {
    super(opts.paths, opts.refreshMs);
  }

  protected async look(): Promise<TargetGroup[] | undefined> {
    const sockets = new Set<string>();
    const groups: TargetGroup[] = [];
    for (const glob of this.globs) {
      let paths: string[];
      try {
        paths = await expandGlob(glob);
        this.telemetry.clear(glob.text, this.mechanism, { paths: glob.text });
      } catch (err) {
        this.telemetry.error(this.mechanism, 'read', glob.text, `${glob.text}: ${(err as Error).message}`, { paths: glob.text });
        return undefined; // keep the last set rather than drop every target of an unreadable directory
      }
      const found: string[] = [];
      for (const path of paths) {
        if (sockets.has(path) || !(await isSocket(path))) continue;
        sockets.add(path);
        found.push(`unix:${path}`);
      }
      if (found.length > 0) groups.push({ targets: found, labels: this.opts.labels, source: glob.text });
    }
    return groups;
  }
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false; // gone since the listing, or a dangling link
  }
}

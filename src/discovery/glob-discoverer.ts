/**
 * What file_sd and socket_sd share: their paths are globs whose directories are
 * watched (fs.watch, plus a look every refresh interval), and each look's
 * target groups are handed on only when they differ from the last ones.
 */
import { DirWatch } from './dir-watch.js';
import { parseGlob, type PathGlob } from './glob.js';
import type { Discoverer, TargetGroup } from './target-group.js';

export abstract class GlobDiscoverer implements Discoverer {
  abstract readonly mechanism: string;
  protected readonly globs: PathGlob[];
  private readonly watch: DirWatch;
  private onUpdate: ((groups: TargetGroup[]) => void) | undefined;
  private last: string | undefined;

  constructor(paths: readonly string[], refreshMs: number) {
    this.globs = paths.map(parseGlob);
    this.watch = new DirWatch([...new Set(this.globs.map((g) => g.dir))], refreshMs, () => this.refresh());
  }

  run(onUpdate: (groups: TargetGroup[]) => void): void {
    this.onUpdate = onUpdate;
    this.watch.start();
  }

  stop(): Promise<void> {
    this.onUpdate = undefined;
    return this.watch.stop();
  }

  /** The groups the globs give now; undefined keeps the last ones. */
  protected abstract look(): Promise<TargetGroup[] | undefined>;

  private async refresh(): Promise<void> {
    const groups = await this.look();
    if (groups === undefined) return;
    const text = JSON.stringify(groups);
    if (text === this.last) return;
    this.last = text;
    this.onUpdate?.(groups);
  }
}

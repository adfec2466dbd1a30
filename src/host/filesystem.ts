/**
 * Disk figures per mounted file system: the mounts of /proc/self/mounts, minus
 * pseudo file systems and whatever the filters leave out, each measured with
 * statfs(2), the call `df` makes.
 *
 *  - size = blocks × block size; used = (blocks − free) × block size;
 *    available = blocks available to unprivileged users × block size, as `df`.
 *    Utilisation is used / (used + available), `df`'s Use%: it reaches 1 when
 *    an ordinary process can no longer write, root's reserve notwithstanding.
 *  - A mount point mounted over is measured once (statfs sees the top mount), and
 *    one block device mounted at several places (bind mounts, Docker's
 *    /etc/hosts) is reported once, at its shortest mount point.
 *  - A file system with no blocks at all (an empty pseudo mount) is left out.
 *  - statfs on a dead network mount can block forever, and blocks a libuv
 *    thread while it does: a call that has not answered within the timeout is
 *    given up, reported, and that mount point is not asked again until the
 *    stuck call has returned, so stuck calls can never take every thread.
 */
import { readFile, statfs } from 'node:fs/promises';

export type MatchType = 'strict' | 'regexp';

export interface MatchList {
  readonly values: readonly string[];
  readonly matchType: MatchType;
}

export interface FilesystemFilter {
  readonly includeDevices?: MatchList;
  readonly excludeDevices?: MatchList;
  readonly includeFsTypes?: MatchList;
  readonly excludeFsTypes?: MatchList;
  readonly includeMountPoints?: MatchList;
  readonly excludeMountPoints?: MatchList;
  /** Measure pseudo file systems (proc, sysfs, tmpfs, …) too. */
  readonly includeVirtualFilesystems: boolean;
}

/**
 * File system types that hold no disk data (kernel interfaces, memory-backed
 * mounts) or are read-only images always 100% full (squashfs snaps, ISO images).
 * overlay is kept: it is the root file system of a container.
 */
export const VIRTUAL_FS_TYPES: ReadonlySet<string> = new Set([
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'cpuset', 'debugfs', 'devpts', 'devtmpfs',
  'efivarfs', 'fusectl', 'hugetlbfs', 'mqueue', 'nsfs', 'pipefs', 'proc', 'procfs', 'pstore', 'ramfs',
  'rpc_pipefs', 'securityfs', 'selinuxfs', 'sockfs', 'sysfs', 'tmpfs', 'tracefs', 'nfsd',
  'squashfs', 'erofs', 'iso9660',
  'fuse.lxcfs', 'fuse.gvfsd-fuse', 'fuse.portal', 'fuse.snapfuse',
]);

export interface Mount {
  readonly device: string;
  readonly mountpoint: string;
  readonly type: string;
}

export interface FilesystemReading extends Mount {
  readonly sizeBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
  /** used / (used + available), 0–1; undefined when both are 0. */
  readonly utilizationRatio: number | undefined;
}

export interface FilesystemRound {
  readonly filesystems: FilesystemReading[];
  /** Mount points whose statfs did not answer in time (this round or an earlier one still stuck). */
  readonly stuck: string[];
  /** Mount points whose statfs failed, with the error. */
  readonly failed: Array<{ mountpoint: string; error: Error }>;
}

/** Parses /proc/self/mounts (fstab format, with octal escapes for blanks and backslashes). */
export function parseMounts(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 3 || f[1] === undefined || f[1] === '') continue;
    mounts.push({ device: unescapeMount(f[0]!), mountpoint: unescapeMount(f[1]), type: unescapeMount(f[2]!) });
  }
  return mounts;
}

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The mounts to measure, in /proc order: filtered, one per mount point, one per block device. */
export function selectMounts(mounts: readonly Mount[], filter: FilesystemFilter): Mount[] {
  // The last mount at a mount point is the one visible there.
  const byMountpoint = new Map<string, Mount>();
  for (const m of mounts) {
    byMountpoint.delete(m.mountpoint);
    byMountpoint.set(m.mountpoint, m);
  }
  const kept: Mount[] = [];
  const byDevice = new Map<string, number>();
  for (const m of byMountpoint.values()) {
    if (!filter.includeVirtualFilesystems && VIRTUAL_FS_TYPES.has(m.type)) continue;
    if (!passes(m.device, filter.includeDevices, filter.excludeDevices)) continue;
    if (!passes(m.type, filter.includeFsTypes, filter.excludeFsTypes)) continue;
    if (!passes(m.mountpoint, filter.includeMountPoints, filter.excludeMountPoints)) continue;
    if (m.device.startsWith('/dev/')) {
      const at = byDevice.get(m.device);
      if (at !== undefined) {
        if (m.mountpoint.length < kept[at]!.mountpoint.length) kept[at] = m;
        continue;
      }
      byDevice.set(m.device, kept.length);
    }
    kept.push(m);
  }
  return kept;
}

function passes(value: string, include: MatchList | undefined, exclude: MatchList | undefined): boolean {
  if (include && include.values.length > 0 && !matches(value, include)) return false;
  if (exclude && exclude.values.length > 0 && matches(value, exclude)) return false;
  return true;
}

/** strict: equal to one of the values; regexp: one of the patterns matches somewhere in it (as the Collector's filters). */
export function matches(value: string, list: MatchList): boolean {
  if (list.matchType === 'strict') return list.values.includes(value);
  let patterns = compiled.get(list);
  if (patterns === undefined) compiled.set(list, (patterns = list.values.map((p) => new RegExp(p))));
  return patterns.some((re) => re.test(value));
}

const compiled = new WeakMap<MatchList, RegExp[]>();

export interface FilesystemReaderOptions {
  readonly filter: FilesystemFilter;
  /** Give up on one statfs after this long. */
  readonly timeoutMs: number;
  readonly mountsFile?: string;
  /** statfs(2); replaceable only to stand in for a call that never returns (a dead NFS server) in tests. */
  readonly statfs?: (path: string) => Promise<StatfsFigures>;
}

export interface StatfsFigures {
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
}

export class FilesystemReader {
  /** statfs calls that outlived their round, by mount point. */
  private readonly stuck = new Map<string, Promise<unknown>>();

  constructor(private readonly options: FilesystemReaderOptions) {}

  async read(): Promise<FilesystemRound> {
    const mounts = selectMounts(parseMounts(await readFile(this.options.mountsFile ?? '/proc/self/mounts', 'utf8')), this.options.filter);
    const filesystems: FilesystemReading[] = [];
    const stuck: string[] = [];
    const failed: FilesystemRound['failed'] = [];
    await Promise.all(
      mounts.map(async (mount) => {
        if (this.stuck.has(mount.mountpoint)) {
          stuck.push(mount.mountpoint);
          return;
        }
        const outcome = await this.measure(mount);
        if (outcome === 'stuck') stuck.push(mount.mountpoint);
        else if (outcome instanceof Error) failed.push({ mountpoint: mount.mountpoint, error: outcome });
        else if (outcome !== undefined) filesystems.push(outcome);
      }),
    );
    // Promise.all finishes in completion order: report in mount order.
    const order = new Map(mounts.map((m, i) => [m.mountpoint, i]));
    filesystems.sort((a, b) => order.get(a.mountpoint)! - order.get(b.mountpoint)!);
    return { filesystems, stuck, failed };
  }

  private async measure(mount: Mount): Promise<FilesystemReading | undefined | Error | 'stuck'> {
    const call = (this.options.statfs ?? statfs)(mount.mountpoint);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'stuck'>((resolve) => {
      timer = setTimeout(() => resolve('stuck'), this.options.timeoutMs);
    });
    try {
      const result = await Promise.race([call, deadline]);
      if (result === 'stuck') {
        const settled = call.then(
          () => undefined,
          () => undefined,
        ).finally(() => this.stuck.delete(mount.mountpoint));
        this.stuck.set(mount.mountpoint, settled);
        return 'stuck';
      }
      return reading(mount, result);
    } catch (err) {
      // Unmounted between reading the list and measuring it, or not ours to see: not a figure.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') return undefined;
      return err as Error;
    } finally {
      clearTimeout(timer);
    }
  }
}

function reading(mount: Mount, s: StatfsFigures): FilesystemReading | undefined {
  if (s.blocks === 0) return undefined;
  const size = s.blocks * s.bsize;
  const used = (s.blocks - s.bfree) * s.bsize;
  const available = s.bavail * s.bsize;
  return {
    ...mount,
    sizeBytes: size,
    usedBytes: used,
    availableBytes: available,
    utilizationRatio: used + available > 0 ? used / (used + available) : undefined,
  };
}

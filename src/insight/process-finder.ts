/**
 * Finds the process listening on a TCP port or a Unix socket of this host, from
 * /proc alone: the listening socket's inode from /proc/net/tcp, tcp6 or unix,
 * then the process holding that inode among /proc/PID/fd/* (`socket:[INODE]`).
 *
 * Only processes whose fd directory this collector may read are found (its own
 * user's, or all when it runs as root); anything else is "not found", never an
 * error. Linux only: elsewhere nothing is found.
 */
import { readdir, readlink } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { procText } from './process-stats.js';

/** TCP state 0A: LISTEN (include/net/tcp_states.h). */
const TCP_LISTEN = '0A';
/** __SO_ACCEPTCON in /proc/net/unix flags: a listening socket. */
const SO_ACCEPTCON = 0x10000;

export type ListenAddress = { readonly port: number } | { readonly socketPath: string };

/** The inode of the socket listening there, or undefined (the tables are read synchronously: see process-stats.ts). */
export async function listeningInode(address: ListenAddress, procRoot = '/proc'): Promise<number | undefined> {
  if ('port' in address) {
    for (const file of ['net/tcp', 'net/tcp6']) {
      const text = procText(`${procRoot}/${file}`) ?? '';
      const inode = tcpListener(text, address.port);
      if (inode !== undefined) return inode;
    }
    return undefined;
  }
  const text = procText(`${procRoot}/net/unix`) ?? '';
  return unixListener(text, address.socketPath);
}

/** The inode of a LISTEN socket on `port` in a /proc/net/tcp{,6} table. */
export function tcpListener(table: string, port: number): number | undefined {
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f.length < 10 || f[3] !== TCP_LISTEN) continue;
    const local = f[1]!;
    if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) !== port) continue;
    const inode = Number(f[9]);
    if (inode > 0) return inode;
  }
  return undefined;
}

/**
 * The inode of a listening Unix socket bound at `path`. A server that bound a
 * relative path is listed with that relative path: it matches the end of `path`.
 */
export function unixListener(table: string, path: string): number | undefined {
  for (const line of table.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    if ((parseInt(f[3]!, 16) & SO_ACCEPTCON) === 0) continue;
    const bound = f.slice(7).join(' ');
    const same = bound === path || (!isAbsolute(bound) && path.endsWith('/' + bound.replace(/^\.\//, '')));
    if (!same) continue;
    const inode = Number(f[6]);
    if (inode > 0) return inode;
  }
  return undefined;
}

/** The process holding socket `inode` open, or undefined. */
export async function processOfInode(inode: number, procRoot = '/proc', hint?: number): Promise<number | undefined> {
  const wanted = `socket:[${inode}]`;
  // The last owner first: most lookups confirm it.
  if (hint !== undefined && (await holds(procRoot, hint, wanted))) return hint;
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid !== hint && (await holds(procRoot, pid, wanted))) return pid;
  }
  return undefined;
}

async function holds(procRoot: string, pid: number, wanted: string): Promise<boolean> {
  const dir = `${procRoot}/${pid}/fd`;
  const fds = await readdir(dir).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`${dir}/${fd}`).catch(() => '');
    if (target === wanted) return true;
  }
  return false;
}

/**
 * Remembers which process listens where, so a lookup costs one read of the
 * socket table while the listener stays the same, and a full /proc walk only
 * when it changed (a restart: new inode, new process). A listener whose process
 * could not be found (another user's) is not searched for again until it changes.
 */
export class ProcessFinder {
  /** The listening inode last searched for, and its owner (undefined: not readable by this collector). */
  private inode: number | undefined;
  private pid: number | undefined;

  constructor(private readonly procRoot = '/proc') {}

  async find(address: ListenAddress): Promise<number | undefined> {
    const inode = await listeningInode(address, this.procRoot);
    if (inode === undefined) {
      this.inode = this.pid = undefined;
      return undefined;
    }
    // Same listener as last time: same owner, found or not (an unreadable process is not searched for again).
    if (inode === this.inode) return this.pid;
    this.pid = await processOfInode(inode, this.procRoot, this.pid);
    this.inode = inode;
    return this.pid;
  }
}

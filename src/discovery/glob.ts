/**
 * File globs as Prometheus' file_sd takes them: wildcards (`*`, `?`) only in the
 * last path segment, so a glob is one directory listing, and watching that
 * directory is enough to see files come and go.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface PathGlob {
  /** The glob as written, for messages. */
  readonly text: string;
  /** Absolute directory listed. */
  readonly dir: string;
  readonly matches: (name: string) => boolean;
}

const WILDCARD = /[*?[\]]/;

/** Throws with a message for the config when the glob cannot be used. */
export function parseGlob(text: string): PathGlob {
  if (text.trim() === '') throw new Error('an empty path');
  const dir = dirname(text);
  if (WILDCARD.test(dir)) throw new Error(`"${text}": wildcards are allowed only in the last path segment`);
  const name = basename(text);
  if (/[[\]]/.test(name)) throw new Error(`"${text}": only * and ? are supported as wildcards`);
  const re = new RegExp('^' + name.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  // A hidden file is matched only by a glob that names the dot, as in a shell.
  const hiddenOk = name.startsWith('.');
  return { text, dir: resolve(dir), matches: (n) => (hiddenOk || !n.startsWith('.')) && re.test(n) };
}

/** For the config: why the glob cannot be used, or undefined. */
export function globProblem(text: string): string | undefined {
  try {
    parseGlob(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The paths matching the glob now, sorted; a missing directory matches nothing. */
export async function expandGlob(glob: PathGlob): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(glob.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  return names.filter(glob.matches).sort().map((n) => resolve(glob.dir, n));
}

import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (two levels up from dist/src/). */
export const VERSION: string = readVersion();

function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown'; // run from an unusual build layout: the version is only informative
  }
}

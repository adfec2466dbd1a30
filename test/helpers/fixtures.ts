/** Test fixtures live in test/fixtures/; tests run from the repository root (npm test does). */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

function findRoot(): string {
  let dir = process.cwd();
  for (;;) {
    if (existsSync(join(dir, 'test', 'fixtures')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('run the tests from the repository root (test/fixtures not found)');
    dir = up;
  }
}

export const REPO_ROOT = findRoot();

export function fixturePath(...parts: string[]): string {
  return join(REPO_ROOT, 'test', 'fixtures', ...parts);
}

export function readFixture(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), 'utf8');
}

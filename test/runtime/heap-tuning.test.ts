import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = promisify(execFile);
const TUNING = new URL('../../src/runtime/heap-tuning.js', import.meta.url).href;

/**
 * A child process keeps objects of one literal site alive through scavenges until V8
 * would tenure the site, then reports whether a new object of that site is young.
 * `%InYoungGeneration` needs --allow-natives-syntax, so it runs in its own process.
 */
const PROBE = `
const tune = process.argv[2] === 'tuned';
if (tune) (await import(${JSON.stringify(TUNING)})).tuneHeap();
function make(i) { return { value: i, next: null }; }
const kept = [];
let young = true;
for (let round = 0; round < 100 && young; round++) {
  for (let i = 0; i < 5000; i++) kept.push(make(i));
  globalThis.gc({ type: 'minor' });
  young = %InYoungGeneration(make(-1));
}
process.stdout.write(JSON.stringify({ young, kept: kept.length }));
`;

async function probe(dir: string, mode: 'tuned' | 'default'): Promise<{ young: boolean; kept: number }> {
  const file = join(dir, 'probe.mjs');
  await writeFile(file, PROBE);
  const { stdout } = await run(process.execPath, ['--allow-natives-syntax', '--expose-gc', file, mode]);
  return JSON.parse(stdout) as { young: boolean; kept: number };
}

test('tuneHeap: objects of a site whose earlier objects all survived are still made young', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'heap-tuning-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tuned = await probe(dir, 'tuned');
  assert.equal(tuned.young, true, `a literal was allocated in the old generation after ${tuned.kept} survivors`);
  // The same workload without it shows what it prevents, where this V8 tenures the site
  // (Node 20 and 24 do; Node 22 did not in this probe).
  const untuned = await probe(dir, 'default');
  if (untuned.young) t.diagnostic(`this V8 did not tenure the site in ${untuned.kept} survivors`);
  else assert.ok(untuned.kept < tuned.kept, 'the untuned run stops when the site is tenured');
});

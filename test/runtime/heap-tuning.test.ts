import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, writeFile, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { START_FLAGS } from '../../src/runtime/heap-tuning.js';

const run = promisify(execFile);
const TUNING = new URL('../../src/runtime/heap-tuning.js', import.meta.url).href;
const CLI = new URL('../../src/cli.js', import.meta.url);
const PACKAGE = new URL('../../../package.json', import.meta.url);

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

/**
 * A child process holds about 50 MB of lasting state, then makes garbage that lives
 * long enough to be promoted (a ring of recent objects), and reports the old
 * generation's peak as a multiple of what was live: V8's own factor lets it reach 4×.
 */
const GROWTH = `
const tune = process.argv[2] === 'tuned';
if (tune) (await import(${JSON.stringify(TUNING)})).tuneHeap();
const v8 = await import('node:v8');
const used = () => v8.getHeapStatistics().used_heap_size;
const state = [];
for (let i = 0; i < 400_000; i++) state.push({ id: i, name: 'series-' + i, value: i / 3 });
globalThis.gc();
const live = used();
const ring = new Array(50_000);
let peak = 0;
for (let i = 0; i < 4_000_000; i++) {
  ring[i % ring.length] = { i, text: 'sample ' + i };
  if (i % 10_000 === 0) peak = Math.max(peak, used());
}
// The state is read here so that it stays alive until then.
process.stdout.write(JSON.stringify(state.length + ring.length > 0 ? peak / live : 0));
`;

async function growth(dir: string, mode: 'tuned' | 'default', nodeFlags: readonly string[] = []): Promise<number> {
  const file = join(dir, 'growth.mjs');
  await writeFile(file, GROWTH);
  const { stdout } = await run(process.execPath, [...START_FLAGS, '--expose-gc', ...nodeFlags, file, mode]);
  return Number(stdout);
}

test('tuneHeap: the heap grows 30 % past its live size before a full GC, unless node was told otherwise', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'heap-tuning-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tuned = await growth(dir, 'tuned');
  const untuned = await growth(dir, 'default');
  const overridden = await growth(dir, 'tuned', ['--heap-growing-percent=200']);
  // 1.3× the live state, plus the young generation and the ring: about 1.6×.
  assert.ok(tuned < 2, `the heap peaked at ${tuned.toFixed(2)}× its live size`);
  assert.ok(untuned > tuned + 1, `without tuning it peaks higher (${untuned.toFixed(2)}×)`);
  assert.ok(overridden > tuned + 0.5, `a --heap-growing-percent given to node wins (${overridden.toFixed(2)}×)`);
});

test('the runner-metrics command and npm start pass the start flags to node', async () => {
  const shebang = (await readFile(CLI, 'utf8')).split('\n', 1)[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${START_FLAGS.join(' ')}`);
  const scripts = (JSON.parse(await readFile(PACKAGE, 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.equal(scripts.start, `exec node ${START_FLAGS.join(' ')} dist/src/cli.js`);
});

test('START_FLAGS keep the young generation small under a scrape-like churn', async () => {
  // Short-lived garbage plus a growing set of survivors: without the cap, V8 grows the
  // young generation to its default maximum (16 MB or more per semi-space).
  const churn = `
    const v8 = require('node:v8');
    const kept = [];
    for (let i = 0; i < 2e6; i++) { const o = { i, s: 'x' + i }; if (i % 4 === 0) kept.push(o); }
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    // The survivors are read here so that they stay alive until then.
    process.stdout.write(String(kept.length > 0 ? young.space_size : 0));
  `;
  const size = async (flags: readonly string[]) => Number((await run(process.execPath, [...flags, '-e', churn])).stdout);
  const capped = await size(START_FLAGS);
  const uncapped = await size([]);
  assert.ok(capped <= 2 * 4 * 1024 * 1024 + 1024 * 1024, `young generation ${capped} bytes with ${START_FLAGS.join(' ')}`);
  assert.ok(uncapped > capped, `the churn grows an uncapped young generation (${uncapped} bytes) beyond the capped one`);
});

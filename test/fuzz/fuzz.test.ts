/**
 * A short, fixed-seed fuzz run (`npm run fuzz` runs a million pages): mutated
 * fixture pages, several scrapes in a row per ScrapeState, must each be accepted
 * or rejected with a parse error; nothing else may escape the parser or the
 * conversion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../helpers/fixtures.js';
import { loadCorpus } from './pages.js';
import { makeSession, runFuzz } from './fuzz.js';

const corpus = loadCorpus(fixturePath());

test('the same seed gives the same sessions', () => {
  assert.deepEqual(makeSession(7, 42, corpus), makeSession(7, 42, corpus));
  assert.notDeepEqual(makeSession(7, 42, corpus).pages, makeSession(7, 43, corpus).pages);
});

test('30 000 mutated pages: no exception but parse errors and limits, each read as a fresh state reads it', async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'fuzz-'));
  try {
    const report = await runFuzz({ seed: 1, pages: 30_000, corpus, outDir, maxFailures: 3 });
    assert.deepEqual(
      report.failures.map((f) => `session ${f.sessionSeed} page ${f.page}: ${f.error}`),
      [],
    );
    assert.ok(report.pages >= 30_000);
    // Both outcomes are exercised: enough pages are accepted for state across scrapes to matter.
    assert.ok(report.accepted > report.pages * 0.3, `accepted ${report.accepted} of ${report.pages}`);
    assert.ok(report.rejected > report.pages * 0.1, `rejected ${report.rejected} of ${report.pages}`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

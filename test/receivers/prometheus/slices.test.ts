import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ScrapeError } from '../../../src/receivers/prometheus/fetch.js';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';
import { readFixture } from '../../helpers/fixtures.js';

const TEXT = 'text/plain; version=0.0.4';
const resource = resourceFromAttributes({ backend: 'vllm' });

/** A page of `n` gauge series and one histogram, large enough to need many slices. */
function bigPage(n: number, value = 1): string {
  const lines = ['# TYPE g gauge'];
  for (let i = 0; i < n; i++) lines.push(`g{i="${i}"} ${value}`);
  lines.push('# TYPE h histogram', 'h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 2', 'h_sum 3', 'h_count 2');
  return lines.join('\n') + '\n';
}

/** Runs `work` and counts the event-loop turns (setImmediate callbacks) that ran meanwhile. */
async function turnsDuring<T>(work: Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let done = false;
  const tick = (): void => {
    if (done) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await work;
  done = true;
  return { result, turns };
}

describe('ScrapeState.convertInSlices', () => {
  it('gives the same snapshot as convert(), scrape after scrape', async () => {
    const sync = new ScrapeState(resource);
    const sliced = new ScrapeState(resource);
    const page = readFixture('runners', 'vllm.prom');
    for (const time of [1_000_000, 1_005_000]) {
      const a = sync.convert(page, TEXT, time);
      const b = await sliced.convertInSlices(page, TEXT, time, 0);
      assert.deepEqual(b, a);
    }
  });

  it('hands the event loop back while it works', async () => {
    const state = new ScrapeState(resource);
    const { result, turns } = await turnsDuring(state.convertInSlices(bigPage(20_000), TEXT, 1_000_000, 0));
    assert.equal(result.samples, 20_004);
    // With a 0 ms slice it yields at every look at the clock: every 16 KiB of work, ~200 of these lines.
    assert.ok(turns >= 20_000 / 256 / 2, `${turns} event-loop turns during the conversion`);
    // convert() does it all in one go.
    const again = await turnsDuring(Promise.resolve(state.convert(bigPage(20_000, 2), TEXT, 1_005_000)));
    assert.equal(again.turns, 0);
  });

  it('refuses a second page while one is being converted, and finishes the first', async () => {
    const state = new ScrapeState(resource);
    const first = state.convertInSlices(bigPage(5_000), TEXT, 1_000_000, 0);
    await assert.rejects(state.convertInSlices('a 1\n', TEXT, 1_000_000, 0), /already being converted/);
    assert.throws(() => state.convert('a 1\n', TEXT, 1_000_000), /already being converted/);
    assert.equal((await first).samples, 5_004);
    assert.equal(state.convert('a 1\n', TEXT, 1_005_000).samples, 1, 'free again once done');
  });

  it('is still page-or-nothing: a page failing after many slices leaves the state as it was', async () => {
    const state = new ScrapeState(resource);
    state.convert(bigPage(1_000), TEXT, 1_000_000);
    const before = state.seriesCount;
    const bad = bigPage(20_000) + 'broken{\n';
    await assert.rejects(state.convertInSlices(bad, TEXT, 1_005_000, 0), (e: unknown) => e instanceof ScrapeError && e.reason === 'parse');
    assert.equal(state.seriesCount, before);
    const next = await state.convertInSlices(bigPage(1_000, 5), TEXT, 1_010_000, 0);
    assert.equal(next.seriesAdded, 0);
    assert.equal(next.duplicates, 0);
  });
});

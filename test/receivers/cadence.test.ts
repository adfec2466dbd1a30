/** A periodic task's slots: snapped to a shared grid at first, fixed from then on, never two runs in a row. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cadence, PHASE_MS } from '../../src/receivers/cadence.js';

/** A clock the test moves by hand. */
function clock(start: number): { now: () => number; at: (t: number) => void } {
  let t = start;
  return { now: () => t, at: (next) => (t = next) };
}

describe('Cadence', () => {
  it('starts on the shared grid, no earlier than the offset', () => {
    const c = clock(1_234.5);
    const cadence = new Cadence(1_000, 170, c.now);
    assert.equal(cadence.firstDelay, 1_500 - 1_234.5, 'first slot: 1,404.5 rounded up to the 100 ms grid');
  });

  it('targets whose offsets fall in one step share their slots, whenever each was started', () => {
    const c = clock(10_003);
    const slots = (offset: number): number[] => {
      const cadence = new Cadence(1_000, offset, c.now);
      const first = c.now() + cadence.firstDelay;
      return [first, first + 1_000, first + 2_000];
    };
    const a = slots(420);
    c.at(10_041); // another target, started 38 ms later, with an offset 30 ms shorter
    const b = slots(390);
    assert.deepEqual(b, a);
    assert.equal(a[0]! % PHASE_MS, 0);
    // An offset in the next step gets the next slot.
    c.at(10_003);
    assert.equal(slots(520)[0], a[0]! + PHASE_MS);
  });

  it('keeps its grid: a run that took a while shortens the wait to the next slot', () => {
    const c = clock(0);
    const cadence = new Cadence(1_000, 0, c.now);
    assert.equal(cadence.firstDelay, 0);
    c.at(37); // the first run ended 37 ms in
    assert.equal(cadence.next(), 963);
    c.at(1_000 + 412);
    assert.equal(cadence.next(), 588);
    c.at(2_000 + 1);
    assert.equal(cadence.next(), 999, 'still on the grid after three runs');
  });

  it('skips the slots a run overran instead of running again at once', () => {
    const c = clock(0);
    const cadence = new Cadence(1_000, 0, c.now);
    c.at(2_500); // the first run took two and a half intervals
    assert.equal(cadence.next(), 500, 'the next free slot is at 3,000');
    c.at(3_000 + 10);
    assert.equal(cadence.next(), 990);
  });

  it('refuses an interval that would never reach a next slot', () => {
    for (const interval of [0, -1_000, Number.NaN]) {
      assert.throws(() => new Cadence(interval, 0), RangeError, String(interval));
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { hrTimeToMillis, type DataPoint, type ResourceBatch } from '../../src/model/batch.js';
import { ScrapeError } from '../../src/receivers/prometheus/fetch.js';
import { ScrapeState } from '../../src/receivers/prometheus/scrape-state.js';
import { metricNamed } from '../helpers/collect.js';

// The scrape receiver caches series by their raw text, which is what lets the parser
// leave label validation to labels(): these tests hold the two together.

const TEXT = 'text/plain; version=0.0.4';

describe('ScrapeState: a malformed series on a warm cache', () => {
  for (const [bad, message] of [
    ['foo{a-b="1"} 2', /invalid label name/],
    ['foo{a="1",a="2"} 2', /duplicate label name "a"/],
    ['foo{a=1} 2', /quoted string/],
    ['foo{"foo"} 2', /metric name given twice/],
  ] as const) {
    it(`fails the scrape for ${bad} although another series of the family is cached`, () => {
      const state = new ScrapeState(resourceFromAttributes({}));
      state.convert('# TYPE foo gauge\nfoo{a="1"} 1\n', TEXT, 1_000_000);
      assert.equal(state.seriesCount, 1);
      assert.throws(
        () => state.convert(`# TYPE foo gauge\nfoo{a="1"} 1\nnew{b="2"} 1\n${bad}\n`, TEXT, 1_005_000),
        (error: unknown) => {
          assert.ok(error instanceof ScrapeError, `expected ScrapeError, got ${String(error)}`);
          assert.equal(error.reason, 'parse');
          assert.match(error.message, /line 4: /);
          assert.match(error.message, message);
          return true;
        },
      );
      assert.equal(state.seriesCount, 1, 'series from the failed page were rolled back');
      // And again on the next scrape: the bad series never entered the cache.
      assert.throws(
        () => state.convert(`foo{a="1"} 1\n${bad}\n`, TEXT, 1_010_000),
        (error: unknown) => error instanceof ScrapeError && error.reason === 'parse' && /line 2: /.test(error.message),
      );
    });
  }
});

describe('ScrapeState: series matched by raw text', () => {
  /** `instance → [value, start time]` of counter `c`. */
  function points(batch: ResourceBatch): Record<string, [number, number]> {
    const metric = metricNamed(batch, 'c');
    assert.ok(metric);
    const out: Record<string, [number, number]> = {};
    for (const point of metric.dataPoints as DataPoint<number>[]) {
      out[String(point.attributes['i'])] = [point.value, hrTimeToMillis(point.startTime)];
    }
    return out;
  }

  const page = (...series: [string, number][]): string =>
    '# TYPE c counter\n' + series.map(([i, v]) => `c{i="${i}"} ${v}\n`).join('');

  it('keeps each series its own state when the page reorders, inserts or drops series', () => {
    const state = new ScrapeState(resourceFromAttributes({}));
    state.convert(page(['a', 10], ['b', 20], ['c', 30]), TEXT, 1_000);
    assert.deepEqual(points(state.convert(page(['c', 31], ['a', 11], ['b', 21]), TEXT, 2_000).batch), {
      a: [11, 1_000],
      b: [21, 1_000],
      c: [31, 1_000],
    });
    // A new series first shifts every position; a reset of `b` is told apart from `a` and `c`.
    assert.deepEqual(points(state.convert(page(['new', 1], ['c', 32], ['a', 12], ['b', 2]), TEXT, 3_000).batch), {
      new: [1, 3_000],
      a: [12, 1_000],
      b: [2, 3_000],
      c: [32, 1_000],
    });
    assert.deepEqual(points(state.convert(page(['a', 13], ['b', 3]), TEXT, 4_000).batch), { a: [13, 1_000], b: [3, 3_000] });
    assert.equal(state.seriesCount, 2);
  });

  it('matches by the last committed page, not by a page that failed', () => {
    const state = new ScrapeState(resourceFromAttributes({}));
    state.convert(page(['a', 10], ['b', 20]), TEXT, 1_000);
    assert.throws(() => state.convert(page(['b', 1], ['a', 1]) + 'bad{\n', TEXT, 2_000), ScrapeError);
    assert.deepEqual(points(state.convert(page(['b', 21], ['a', 11]), TEXT, 3_000).batch), { a: [11, 1_000], b: [21, 1_000] });
    assert.deepEqual(points(state.convert(page(['a', 12], ['b', 22]), TEXT, 4_000).batch), { a: [12, 1_000], b: [22, 1_000] });
  });
});

/**
 * next(expected): a line that starts with the series the caller expects is matched in
 * place, and must read exactly as a line parsed without any expectation, whatever the
 * expectation was (right, wrong, a prefix of the real key, a key with more after it).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ExpositionParser, type EntryKind } from '../../src/prometheus/parser.js';
import { fixturePath, readFixture } from '../helpers/fixtures.js';

interface Read {
  kind: EntryKind | 'error';
  key?: string;
  name?: string;
  labels?: string[] | string;
  value?: number;
  timestamp?: number | undefined;
  matched?: boolean;
}

/** Every entry of `text`, each read with the expectation `expect(i)` for the i-th series. */
function readAll(text: string, openMetrics: boolean, expect: (series: number) => string | undefined): Read[] {
  const parser = new ExpositionParser(text, { openMetrics });
  const out: Read[] = [];
  let series = 0;
  for (;;) {
    let kind: EntryKind;
    try {
      kind = parser.next(expect(series));
    } catch (error) {
      out.push({ kind: 'error', key: (error as Error).message });
      return out;
    }
    if (kind === 'eof') return out;
    if (kind !== 'series') {
      out.push({ kind });
      continue;
    }
    series++;
    let labels: string[] | string;
    try {
      labels = parser.labels();
    } catch (error) {
      labels = `error: ${(error as Error).message}`;
    }
    out.push({ kind, key: parser.seriesKey(), name: parser.metricName(), labels, value: parser.value, timestamp: parser.timestamp, matched: parser.matchedExpected });
  }
}

function withoutMatched(reads: Read[]): Read[] {
  return reads.map(({ matched: _, ...rest }) => rest);
}

const TRICKY = [
  'foo 1\nfoo {a="1"} 2\nfoo_bar 3\nfoo{} 4\n',
  '{"name.with.dots",a="b"} 1\n{"name.with.dots",a="b"}  2\n',
  'a{b="}"} 1\na{b="}"}x 2\n',
  'x{a="q\\"uote",b="\\\\"} 1 1700000000000\nx{a="q\\"uote",b="\\\\"} 2\n',
  'm{a="1"} 1\nm{a="1"}\t2\nm{a="1"}3\n',
  'm 1\nm\n',
  'm{a="1",a="2"} 1\n',
];

describe('ExpositionParser next(expected)', () => {
  it('matches the expected key in place and reads the series as a scan would', () => {
    const text = 'llamacpp:x{slot="0"} 1\nllamacpp:x{slot="1"} 2\n';
    const parser = new ExpositionParser(text);
    assert.equal(parser.next('llamacpp:x{slot="0"}'), 'series');
    assert.equal(parser.matchedExpected, true);
    assert.equal(parser.seriesKey(), 'llamacpp:x{slot="0"}');
    assert.equal(parser.metricName(), 'llamacpp:x');
    assert.deepEqual(parser.labels(), ['slot', '0']);
    assert.equal(parser.value, 1);
    assert.equal(parser.next('llamacpp:x{slot="0"}'), 'series');
    assert.equal(parser.matchedExpected, false);
    assert.equal(parser.seriesKey(), 'llamacpp:x{slot="1"}');
  });

  it('does not take a key for a prefix of a longer one', () => {
    const parser = new ExpositionParser('foo {a="1"} 2\nfoo_bar 3\n');
    parser.next('foo');
    assert.equal(parser.matchedExpected, false);
    assert.equal(parser.seriesKey(), 'foo {a="1"}');
    parser.next('foo');
    assert.equal(parser.matchedExpected, false);
    assert.equal(parser.seriesKey(), 'foo_bar');
  });

  it('still validates a label set matched in place when its labels are asked for', () => {
    // The scraper only expects keys it has read before, but the parser must not rely on it.
    const parser = new ExpositionParser('m{a="1",a="2"} 1\n');
    parser.next('m{a="1",a="2"}');
    assert.equal(parser.matchedExpected, true);
    assert.throws(() => parser.labels(), /duplicate label name/);
    assert.throws(() => parser.next(), /duplicate label name/);
  });

  const fixtures: [string, string][] = [];
  for (const dir of ['runners', 'llamacpp-real', 'prometheus-textparse']) {
    for (const name of readdirSync(fixturePath(dir)).sort()) if (/\.(prom|txt)$/.test(name)) fixtures.push([dir, name]);
  }
  const pages: [string, string, boolean][] = [
    ...fixtures.map(([dir, name]): [string, string, boolean] => [`${dir}/${name}`, readFixture(dir, name), name.includes('.om.')]),
    ...TRICKY.map((text, i): [string, string, boolean] => [`tricky ${i}`, text, false]),
  ];
  for (const [label, text, openMetrics] of pages) {
    it(`${label}: reads the same with right, wrong and shifted expectations`, () => {
      const plain = readAll(text, openMetrics, () => undefined);
      const keys = plain.filter((r) => r.kind === 'series').map((r) => r.key!);
      const right = readAll(text, openMetrics, (i) => keys[i]);
      const shifted = readAll(text, openMetrics, (i) => keys[i + 1]);
      const prefixes = readAll(text, openMetrics, (i) => keys[i]?.slice(0, Math.max(1, keys[i]!.length - 1)));
      assert.deepEqual(withoutMatched(right), withoutMatched(plain));
      assert.deepEqual(withoutMatched(shifted), withoutMatched(plain));
      assert.deepEqual(withoutMatched(prefixes), withoutMatched(plain));
      // The right expectation is taken for every series (all of them if the page parses).
      if (keys.length > 0 && plain.at(-1)?.kind !== 'error') assert.ok(right.filter((r) => r.kind === 'series').every((r) => r.matched));
    });
  }
});

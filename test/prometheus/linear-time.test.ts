import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExpositionParser } from '../../src/prometheus/parser.js';
import { parseFamilies } from '../../src/prometheus/families.js';
import { ScrapeState } from '../../src/receivers/prometheus/scrape-state.js';

// Parsing and converting a page must cost time linear in the page, whatever its shape:
// one runner's page shares the event loop with every other target and with /metrics.
//
// Two checks, neither of which asserts a wall-clock time:
//  - native searches (indexOf) are counted: the characters they pass over must stay
//    within a small multiple of the body, a count that machine load cannot change;
//  - the CPU time of each shape is compared at n and 8n in the same test: a linear
//    cost grows about 8x (up to ~16x once the larger page no longer fits the caches,
//    or with a sort's log factor), a quadratic one 64x. The bound, 32x, sits between
//    (each figure is the best of several runs, in CPU time, which other processes on a
//    loaded machine hardly change).

const TEXT = 'text/plain; version=0.0.4';

/** Every series with its labels read, as a scrape of new series does. */
function parseAll(text: string): number {
  const parser = new ExpositionParser(text);
  let n = 0;
  for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
    if (kind === 'series') n += parser.labels().length + 1;
  }
  return n;
}

/** Only next() and seriesKey(): the cached fast path of a scrape. */
function parseCached(text: string): number {
  const parser = new ExpositionParser(text);
  let n = 0;
  for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
    if (kind === 'series') n += parser.seriesKey().length;
  }
  return n;
}

/** HELP, TYPE and comment lines, their texts read. */
function readMetadata(text: string): number {
  const parser = new ExpositionParser(text);
  let n = 0;
  for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
    if (kind === 'help') n += parser.familyName().length + parser.helpText().length;
    else if (kind === 'type') n += parser.familyName().length;
  }
  return n;
}

function convertTwice(text: string): number {
  // Limits off: the point is the cost of pages the default limits would refuse.
  const state = new ScrapeState(resourceFromAttributes({}), 0, {});
  state.convert(text, TEXT, 1_000_000);
  return state.convert(text, TEXT, 1_005_000).samples;
}

/** A flat string, as a scrape decodes it from bytes (join() would build a rope). */
function flat(s: string): string {
  return Buffer.from(s).toString('utf8');
}

const lines = (n: number, line: (i: number) => string): string => flat(Array.from({ length: n }, (_, i) => line(i)).join('\n') + '\n');

interface Shape {
  readonly name: string;
  readonly page: (n: number) => string;
  readonly run: (text: string) => number;
  /** Small size: large enough for its time to be measurable, small enough for 8x to be quick. */
  readonly n: number;
}

const SHAPES: readonly Shape[] = [
  { name: 'many labels on one series', page: (n) => flat(`m{${Array.from({ length: n }, (_, i) => `l${i}="v"`).join(',')}} 1\n`), run: parseAll, n: 2_000 },
  { name: 'many quoted label names on one series', page: (n) => flat(`{"m",${Array.from({ length: n }, (_, i) => `"l.${i}"="v"`).join(',')}} 1\n`), run: parseAll, n: 2_000 },
  { name: 'many escaped label names on one series', page: (n) => flat(`m{${Array.from({ length: n }, (_, i) => `"l\\\\${i}"="v"`).join(',')}} 1\n`), run: parseAll, n: 2_000 },
  { name: 'empty label sets, cached', page: (n) => lines(n, (i) => `m${i}{} ${i}`), run: parseCached, n: 10_000 },
  { name: 'empty label sets, new', page: (n) => lines(n, (i) => `m${i}{} ${i}`), run: parseAll, n: 10_000 },
  { name: 'label sets without quotes after them', page: (n) => lines(n, (i) => `m{a="${i}"} ${i}`) + lines(n, (i) => `n${i}{} 1`), run: parseCached, n: 5_000 },
  { name: 'braces inside values, one escape far away', page: (n) => lines(n, (i) => `m{a="}",b="${i}"} 1`) + 'e{a="\\\\"} 1\n', run: parseAll, n: 5_000 },
  { name: 'an escape on each line, then a quoted string', page: (n) => lines(n, (i) => `m{a="\\\\",b="}${i}"} 1`), run: parseAll, n: 5_000 },
  { name: 'one huge value full of escapes', page: (n) => flat(`m{a="${'\\\\\\"\\n'.repeat(n)}"} 1\n`), run: parseAll, n: 20_000 },
  { name: 'comments and HELP with escapes', page: (n) => lines(n, (i) => `# HELP m${i} a\\\\b\\n${i}\n# TYPE m${i} gauge\n# a comment\nm${i} 1`), run: readMetadata, n: 3_000 },
  { name: 'long metric names in parseFamilies', page: (n) => lines(n, (i) => `# TYPE ${'m'.repeat(17_000)}${String(i).padStart(5, '0')} gauge`), run: (t) => parseFamilies(t).length, n: 40 },
  { name: 'series keys longer than V8 hashes by content', page: (n) => lines(n, (i) => `m{a="${'x'.repeat(17_000)}${String(i).padStart(5, '0')}"} 1`), run: convertTwice, n: 40 },
  { name: 'histogram groups with long label sets', page: (n) => '# TYPE h histogram\n' + lines(n, (i) => `h_bucket{a="${'x'.repeat(17_000)}${String(i).padStart(5, '0')}",le="+Inf"} 1`), run: convertTwice, n: 40 },
  { name: 'many labels through the receiver', page: (n) => flat(`m{${Array.from({ length: n }, (_, i) => `l${i}="v"`).join(',')}} 1\n`), run: convertTwice, n: 2_000 },
  { name: 'a histogram with its buckets in reverse', page: (n) => '# TYPE h histogram\n' + lines(n, (i) => `h_bucket{le="${n - i}"} ${n - i}`), run: convertTwice, n: 2_000 },
  { name: 'counters with _created', page: (n) => '# TYPE c counter\n' + lines(n, (i) => `c_total{a="${i}"} 1\nc_created{a="${i}"} 1700000000`), run: convertTwice, n: 2_000 },
];

/** Best-of-`runs` CPU milliseconds of run(text). */
function cpuMs(run: (text: string) => number, text: string, runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = process.cpuUsage();
    run(text);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

describe('parsing and converting take linear time', () => {
  for (const shape of SHAPES) {
    it(`${shape.name}: 8x the input costs well under 64x the time`, () => {
      const small = shape.page(shape.n);
      const large = shape.page(shape.n * 8);
      // Same result shape at both sizes, and the JIT warmed up on both.
      assert.ok(shape.run(small) > 0);
      assert.ok(shape.run(large) > 0);
      const a = cpuMs(shape.run, small, 5);
      const b = cpuMs(shape.run, large, 3);
      // A floor of 1 ms keeps a tiny small-size figure from inflating the ratio.
      const ratio = b / Math.max(a, 1);
      assert.ok(ratio < 32, `${shape.name}: ${a.toFixed(1)} ms for n, ${b.toFixed(1)} ms for 8n (x${ratio.toFixed(1)})`);
    });
  }
});

describe('native searches stay on the line', () => {
  /** Characters passed over by String.prototype.indexOf while `run` works. */
  function scanned(run: () => void): number {
    const original = String.prototype.indexOf;
    let count = 0;
    String.prototype.indexOf = function (this: string, search: string, position?: number): number {
      const from = Math.max(0, Math.min(position ?? 0, this.length));
      const at = original.call(this, search, position);
      count += (at < 0 ? this.length : at) - from;
      return at;
    };
    try {
      run();
    } finally {
      String.prototype.indexOf = original;
    }
    return count;
  }

  for (const shape of SHAPES.filter((s) => s.run === parseAll || s.run === parseCached)) {
    it(`${shape.name}: indexOf reads each character a few times at most`, () => {
      const text = shape.page(shape.n);
      const count = scanned(() => shape.run(text));
      // Each search may pass a character once: the line's end, braces, quotes, backslashes,
      // and the blanks that end a value (spaces, tabs, carriage returns).
      assert.ok(count <= 7 * text.length, `${count} characters searched in a ${text.length}-character body`);
    });
  }
});

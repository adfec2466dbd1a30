import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { parseFamilies } from '../../src/prometheus/families.js';
import { ExpositionParser, ParseError, type ParserOptions } from '../../src/prometheus/parser.js';
import { ScrapeError } from '../../src/receivers/prometheus/fetch.js';
import { ScrapeState } from '../../src/receivers/prometheus/scrape-state.js';
import { readFixture } from '../helpers/fixtures.js';

/** Reads every entry, labels included, so that any error surfaces. */
function drain(text: string, options?: ParserOptions): void {
  const parser = new ExpositionParser(text, options);
  for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
    if (kind === 'series') {
      parser.seriesKey();
      parser.metricName();
      parser.labels();
    } else if (kind !== 'comment') {
      parser.familyName();
    }
  }
}

/** Reads every entry as a scraper with every series cached does: next(), seriesKey() and value only. */
function drainCached(text: string, options?: ParserOptions): void {
  const parser = new ExpositionParser(text, options);
  for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
    if (kind === 'series') parser.seriesKey();
  }
}

function expectParseError(line: number, message: RegExp): (error: unknown) => true {
  return (error: unknown) => {
    assert.ok(error instanceof ParseError, `expected ParseError, got ${String(error)}`);
    assert.equal(error.line, line);
    assert.match(error.message, new RegExp(`^line ${line}: `));
    assert.match(error.message, message);
    return true;
  };
}

function contentType(options?: ParserOptions): string {
  return options?.openMetrics ? 'application/openmetrics-text; version=1.0.0' : 'text/plain; version=0.0.4';
}

/**
 * A malformed body is rejected, with the same line and message, by every reader: the
 * parser with labels(), parseFamilies, and the scrape receiver on a cold cache.
 */
function assertParseError(text: string, line: number, message: RegExp, options?: ParserOptions): void {
  assert.throws(() => drain(text, options), expectParseError(line, message));
  assert.throws(() => parseFamilies(text, options), expectParseError(line, message));
  const state = new ScrapeState(resourceFromAttributes({}));
  assert.throws(
    () => state.convert(text, contentType(options), 1_000_000),
    (error: unknown) => {
      assert.ok(error instanceof ScrapeError, `expected ScrapeError, got ${String(error)}`);
      assert.equal(error.reason, 'parse');
      assert.match(error.message, new RegExp(`line ${line}: `));
      assert.match(error.message, message);
      return true;
    },
  );
  assert.equal(state.seriesCount, 0);
}

/** A structural error: next() throws it on its own, without labels() being called. */
function assertStructuralError(text: string, line: number, message: RegExp, options?: ParserOptions): void {
  assertParseError(text, line, message, options);
  assert.throws(() => drainCached(text, options), expectParseError(line, message));
}

/** An error inside a `name{…}` label set: next() lets the line through, labels() throws. */
function assertLabelError(text: string, line: number, message: RegExp, options?: ParserOptions): void {
  assertParseError(text, line, message, options);
  assert.doesNotThrow(() => drainCached(text, options));
}

describe('ExpositionParser: malformed input', () => {
  const ok = '# HELP ok Fine.\n# TYPE ok gauge\nok 1\n';

  it('rejects an unterminated label set', () => {
    assertStructuralError(ok + 'foo{a="b" 1\n', 4, /label set/);
    assertStructuralError(ok + 'foo{a="b",\n', 4, /unterminated label set/);
    assertStructuralError('foo{a="b\nc"} 1\n', 1, /unterminated quoted string/);
    assertStructuralError('foo{a="b\\', 1, /unterminated quoted string/);
  });

  it('rejects a bad or missing value', () => {
    assertStructuralError(ok + 'foo 1.2.3\n', 4, /invalid value "1\.2\.3"/);
    assertStructuralError(ok + 'foo abc\n', 4, /invalid value/);
    assertStructuralError(ok + 'foo 0x\n', 4, /invalid value/);
    assertStructuralError(ok + 'foo +nan\n', 4, /invalid value/);
    assertStructuralError(ok + 'foo\n', 4, /missing value/);
    assertStructuralError(ok + 'foo{a="b"}\n', 4, /missing value/);
    assertStructuralError(ok + 'foo{a="b"}   \r\n', 4, /missing value/);
    assertStructuralError(ok + 'foo{a="b"}1\n', 4, /unexpected "1"/);
  });

  it('rejects a bad timestamp and trailing garbage', () => {
    assertStructuralError('foo 1 12.5\n', 1, /invalid timestamp/);
    assertStructuralError('foo 1 abc\n', 1, /invalid timestamp/);
    assertStructuralError('foo 1 2 3\n', 1, /at end of line/);
    assertStructuralError('foo 1 # {a="b"}\n', 1, /exemplar/);
    assertStructuralError('foo 1 #\n', 1, /exemplar/);
  });

  it('rejects invalid label names', () => {
    assertLabelError('foo{a:b="c"} 1\n', 1, /invalid label name/);
    assertLabelError('foo{1a="c"} 1\n', 1, /invalid label name/);
    assertLabelError('foo{a-b="c"} 1\n', 1, /invalid label name/);
    assertLabelError('foo{,} 1\n', 1, /invalid label name/);
    assertLabelError('foo{a="b",,} 1\n', 1, /invalid label name/);
    assertLabelError('foo{a=b} 1\n', 1, /quoted string/);
    assertLabelError('foo{""="b"} 1\n', 1, /empty label name/);
  });

  it('rejects duplicate label names', () => {
    assertLabelError('foo{a="1",b="2",a="3"} 1\n', 1, /duplicate label name "a"/);
    assertLabelError('foo{a="1","a"="2"} 1\n', 1, /duplicate label name "a"/);
  });

  it('rejects quoted names in the wrong place', () => {
    assertLabelError('foo{"bar"} 1\n', 1, /metric name given twice/);
    // A label set holding the metric name, and an exemplar's, are validated by next().
    assertStructuralError('{a="b"} 1\n', 1, /metric name missing/);
    assertStructuralError('{"x", a-b="c"} 1\n', 1, /invalid label name/);
    assertStructuralError('foo 1 # {"x"} 1\n', 1, /unexpected quoted string/);
    assertStructuralError('foo 1 # {a-b="c"} 1\n', 1, /invalid label name/);
  });

  it('rejects bad metadata lines', () => {
    assertStructuralError('# TYPE foo\n', 1, /missing metric type/);
    assertStructuralError('# TYPE foo countr\n', 1, /invalid metric type "countr"/);
    assertStructuralError('# TYPE foo counter extra\n', 1, /at end of line/);
    assertStructuralError('# HELP\n', 1, /missing metric name/);
    assertStructuralError('# HELP 1foo x\n', 1, /invalid metric name/);
    assertStructuralError('# TYPE foo-bar gauge\n', 1, /invalid metric name/);
  });

  it('rejects garbage and binary bodies', () => {
    assertStructuralError(ok + '\u0000\u0001\u0002\n', 4, /expected a metric name, found U\+0000/);
    assertStructuralError('foo-bar 1\n', 1, /unexpected "-"/);
    assertStructuralError('<html><body>502 Bad Gateway</body></html>\n', 1, /expected a metric name/);
    assertStructuralError('{"error":{"code":503,"message":"Loading model"}}\n', 1, /expected "=" |expected "," or "}"|invalid label name/);
    const gzipHeader = String.fromCharCode(0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03);
    assertStructuralError(gzipHeader + '\ufffd\ufffd', 1, /expected a metric name/);
  });

  it('counts lines across blank lines, comments and CRLF', () => {
    assertStructuralError('# c\r\n\r\n\r\nok 1\r\nbad{\r\n', 5, /unterminated label set/);
    assertLabelError('# c\r\n\r\nok 1\r\nbad{a="1",a="2"} 1\r\nok 2\r\n', 4, /duplicate label name/);
  });

  it('finds the end of a label set past quoted braces and escaped quotes before validating it', () => {
    assertLabelError('foo{a="}\\"}", b-c="d"} 1\n', 1, /invalid label name/);
    assertStructuralError('foo{a="\\"} 1\n', 1, /unterminated quoted string/);
  });
});

describe('ExpositionParser: mutated fixtures', () => {
  const fixtures: [string, ParserOptions | undefined][] = [
    [readFixture('runners', 'llamacpp-completion.prom'), undefined],
    [readFixture('runners', 'torchserve.prom'), undefined],
    [readFixture('runners', 'vllm.prom'), undefined],
    [readFixture('runners', 'tgi.prom'), undefined],
    [readFixture('prometheus-textparse', 'alltypes.5mfs.om.txt'), { openMetrics: true }],
  ];
  const specials = ['{', '}', '"', '\\', ',', '=', '#', ' ', '\n', '\r', '\t', 'e', '+', '-', '.', ':', '\u0000', '\ufffd', 'é'];

  // A small deterministic PRNG (mulberry32) so a failure reproduces.
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function mutate(text: string, rand: () => number): string {
    const at = Math.floor(rand() * text.length);
    switch (Math.floor(rand() * 5)) {
      case 0:
        return text.slice(0, at); // truncation
      case 1:
        return text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 8)); // deletion
      case 2:
        return text.slice(0, at) + specials[Math.floor(rand() * specials.length)] + text.slice(at); // insertion
      case 3:
        return text.slice(0, at) + specials[Math.floor(rand() * specials.length)] + text.slice(at + 1); // replacement
      default:
        return text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 0x10000)) + text.slice(at + 1); // any code unit
    }
  }

  it('only ever throws ParseError, and always terminates', () => {
    const rand = random(20261123);
    let errors = 0;
    let runs = 0;
    for (const [text, options] of fixtures) {
      for (let i = 0; i < 600; i++) {
        let mutated = mutate(text, rand);
        if (i % 3 === 0) mutated = mutate(mutated, rand);
        runs++;
        let failure: ParseError | undefined;
        try {
          drain(mutated, options);
        } catch (error) {
          if (!(error instanceof ParseError)) {
            assert.fail(`non-ParseError ${String(error)} for input ${JSON.stringify(mutated.slice(0, 200))}`);
          }
          assert.ok(error.line >= 1 && error.line <= mutated.split('\n').length + 1);
          failure = error;
          errors++;
        }
        // parseFamilies agrees exactly; next() alone never rejects a valid body.
        if (failure === undefined) {
          assert.doesNotThrow(() => parseFamilies(mutated, options));
          assert.doesNotThrow(() => drainCached(mutated, options));
        } else {
          assert.throws(() => parseFamilies(mutated, options), { name: 'ParseError', message: failure.message });
        }
      }
    }
    // Mutations do hit errors (the test is not vacuous), but not all of them (most edits inside values stay valid).
    assert.ok(errors > runs / 10 && errors < runs, `${errors} errors in ${runs} runs`);
  });

  it('handles random bytes decoded as UTF-8', () => {
    const rand = random(7);
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
      try {
        drain(bytes.toString('utf8'));
      } catch (error) {
        assert.ok(error instanceof ParseError, String(error));
      }
    }
  });
});

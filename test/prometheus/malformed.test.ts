import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpositionParser, ParseError, type ParserOptions } from '../../src/prometheus/parser.js';
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

function assertParseError(text: string, line: number, message: RegExp, options?: ParserOptions): void {
  assert.throws(
    () => drain(text, options),
    (error: unknown) => {
      assert.ok(error instanceof ParseError, `expected ParseError, got ${String(error)}`);
      assert.equal(error.line, line);
      assert.match(error.message, new RegExp(`^line ${line}: `));
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('ExpositionParser: malformed input', () => {
  const ok = '# HELP ok Fine.\n# TYPE ok gauge\nok 1\n';

  it('rejects an unterminated label set', () => {
    assertParseError(ok + 'foo{a="b" 1\n', 4, /label set/);
    assertParseError(ok + 'foo{a="b",\n', 4, /unterminated label set/);
    assertParseError('foo{a="b\nc"} 1\n', 1, /unterminated quoted string/);
    assertParseError('foo{a="b\\', 1, /unterminated quoted string/);
  });

  it('rejects a bad or missing value', () => {
    assertParseError(ok + 'foo 1.2.3\n', 4, /invalid value "1\.2\.3"/);
    assertParseError(ok + 'foo abc\n', 4, /invalid value/);
    assertParseError(ok + 'foo 0x\n', 4, /invalid value/);
    assertParseError(ok + 'foo +nan\n', 4, /invalid value/);
    assertParseError(ok + 'foo\n', 4, /missing value/);
    assertParseError(ok + 'foo{a="b"}\n', 4, /missing value/);
    assertParseError(ok + 'foo{a="b"}   \r\n', 4, /missing value/);
    assertParseError(ok + 'foo{a="b"}1\n', 4, /unexpected "1"/);
  });

  it('rejects a bad timestamp and trailing garbage', () => {
    assertParseError('foo 1 12.5\n', 1, /invalid timestamp/);
    assertParseError('foo 1 abc\n', 1, /invalid timestamp/);
    assertParseError('foo 1 2 3\n', 1, /at end of line/);
    assertParseError('foo 1 # {a="b"}\n', 1, /exemplar/);
    assertParseError('foo 1 #\n', 1, /exemplar/);
  });

  it('rejects invalid label names', () => {
    assertParseError('foo{a:b="c"} 1\n', 1, /invalid label name/);
    assertParseError('foo{1a="c"} 1\n', 1, /invalid label name/);
    assertParseError('foo{a-b="c"} 1\n', 1, /invalid label name/);
    assertParseError('foo{,} 1\n', 1, /invalid label name/);
    assertParseError('foo{a="b",,} 1\n', 1, /invalid label name/);
    assertParseError('foo{a=b} 1\n', 1, /quoted string/);
    assertParseError('foo{""="b"} 1\n', 1, /empty label name/);
  });

  it('rejects duplicate label names', () => {
    assertParseError('foo{a="1",b="2",a="3"} 1\n', 1, /duplicate label name "a"/);
    assertParseError('foo{a="1","a"="2"} 1\n', 1, /duplicate label name "a"/);
  });

  it('rejects quoted names in the wrong place', () => {
    assertParseError('foo{"bar"} 1\n', 1, /metric name given twice/);
    assertParseError('{a="b"} 1\n', 1, /metric name missing/);
    assertParseError('foo 1 # {"x"} 1\n', 1, /unexpected quoted string/);
  });

  it('rejects bad metadata lines', () => {
    assertParseError('# TYPE foo\n', 1, /missing metric type/);
    assertParseError('# TYPE foo countr\n', 1, /invalid metric type "countr"/);
    assertParseError('# TYPE foo counter extra\n', 1, /at end of line/);
    assertParseError('# HELP\n', 1, /missing metric name/);
    assertParseError('# HELP 1foo x\n', 1, /invalid metric name/);
    assertParseError('# TYPE foo-bar gauge\n', 1, /invalid metric name/);
  });

  it('rejects garbage and binary bodies', () => {
    assertParseError(ok + '\u0000\u0001\u0002\n', 4, /expected a metric name, found U\+0000/);
    assertParseError('foo-bar 1\n', 1, /unexpected "-"/);
    assertParseError('<html><body>502 Bad Gateway</body></html>\n', 1, /expected a metric name/);
    assertParseError('{"error":{"code":503,"message":"Loading model"}}\n', 1, /expected "=" |expected "," or "}"|invalid label name/);
    const gzipHeader = String.fromCharCode(0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03);
    assertParseError(gzipHeader + '\ufffd\ufffd', 1, /expected a metric name/);
  });

  it('counts lines across blank lines, comments and CRLF', () => {
    assertParseError('# c\r\n\r\n\r\nok 1\r\nbad{\r\n', 5, /unterminated label set/);
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
        try {
          drain(mutated, options);
        } catch (error) {
          if (!(error instanceof ParseError)) {
            assert.fail(`non-ParseError ${String(error)} for input ${JSON.stringify(mutated.slice(0, 200))}`);
          }
          assert.ok(error.line >= 1 && error.line <= mutated.split('\n').length + 1);
          errors++;
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

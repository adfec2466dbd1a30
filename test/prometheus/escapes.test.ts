import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromCharCodes, unescape } from '../../src/prometheus/escapes.js';

/** The rule, written the obvious way: `\\`, `\"`, `\n` unescaped left to right, any other escape kept. */
function reference(raw: string): string {
  return raw.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

describe('unescape', () => {
  const cases = [
    'plain',
    'a\\\\b',
    'say \\"hi\\"',
    'line\\nbreak',
    '\\\\n is not a newline',
    'kept: \\t \\x \\',
    'trailing backslash \\',
    '\\\\\\"\\n',
    '\ufeff\\n leading BOM kept',
    'caf\u00e9 \ud83d\ude00 \\" non-ASCII',
  ];
  for (const raw of cases) {
    it(`agrees with the rule on ${JSON.stringify(raw)}, short and long`, () => {
      assert.equal(unescape(raw), reference(raw));
      // Long texts take the buffer path.
      const long = raw.repeat(Math.ceil(600 / raw.length));
      assert.ok(long.length >= 256);
      assert.equal(unescape(long), reference(long));
    });
  }

  it('returns the very string when there is nothing to unescape', () => {
    const raw = 'x'.repeat(1000);
    assert.equal(unescape(raw), raw);
  });
});

describe('fromCharCodes', () => {
  it('gives the same string through the decoder and through String.fromCharCode', () => {
    const text = 'a\u00e9\ud83d\ude00\n"\\'.repeat(3000);
    const codes = Uint16Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
    assert.equal(codes.length, text.length);
    assert.equal(fromCharCodes(codes, true), text);
    assert.equal(fromCharCodes(codes, false), text);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownCopy } from '../../src/model/own-copy.js';

test('ownCopy returns an equal string for every kind of text, lone surrogates and escapes included', () => {
  const page = 'prefix llamacpp:tokens_predicted_total{slot="0",model="caf\u00e9 \u{1F600} \ud800 \udfff \\"q\\" \n"} 1\n';
  for (let start = 0; start < page.length; start += 3) {
    for (const end of [start, start + 1, start + 12, start + 13, start + 40, page.length]) {
      const s = page.slice(start, Math.min(end, page.length));
      assert.equal(ownCopy(s), s);
    }
  }
  assert.equal(ownCopy('\ud800'.repeat(20)), '\ud800'.repeat(20));
  assert.equal(ownCopy('x'.repeat(20_000)), 'x'.repeat(20_000));
});

/**
 * BodyWriter writes what a mislabelled point holds instead of a number as
 * formatValue's text, whatever its length: the number fast path must not take it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BodyWriter } from '../../../src/exporters/prometheus/body-writer.js';
import { formatValue } from '../../../src/prometheus/writer.js';

const ODD: unknown[] = ['-5.50', '-3.0', '03', '1e3', '', 'x'.repeat(5000), null, undefined, true, -7n, { toString: () => '12' }];

describe('BodyWriter', () => {
  it("writes formatValue's text for values that are not numbers, in every kind of line", () => {
    const head = Buffer.from('h{a="1",');
    const tail = Buffer.from('le="1"} ');
    for (const v of ODD) {
      const value = v as number;
      const text = formatValue(value);
      const out = new BodyWriter().begin(16);
      out.value(value);
      out.line(head, value);
      out.line2(head, tail, value);
      const expected = Buffer.concat([Buffer.from(text, 'latin1'), head, Buffer.from(text + '\n', 'latin1'), head, tail, Buffer.from(text + '\n', 'latin1')]);
      assert.deepEqual(out.finish(), expected, `for ${typeof v} ${String(v).slice(0, 20)}`);
    }
  });

  it('writes numbers as formatValue does, growing past its first size', () => {
    const out = new BodyWriter().begin(16);
    const values = [0, -0, 1.5, -22.94, 1 / 7, 1e21, NaN, -Infinity, 2 ** 53];
    for (let round = 0; round < 200; round++) for (const v of values) out.line(Buffer.from('x '), v);
    const expected = values.map((v) => `x ${formatValue(v)}\n`).join('').repeat(200);
    assert.equal(out.finish().toString('latin1'), expected);
  });

  it('starts each body in a buffer of its own, so a body finished before is not overwritten', () => {
    const out = new BodyWriter();
    const first = out.begin(16);
    first.line(Buffer.from('a '), 1);
    const firstBody = out.finish();
    out.begin(16).line(Buffer.from('b '), 2);
    assert.equal(firstBody.toString('latin1'), 'a 1\n');
    assert.equal(out.finish().toString('latin1'), 'b 2\n');
  });
});

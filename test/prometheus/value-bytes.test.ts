/**
 * writeValue must write exactly formatValue's text for every number: compared
 * over edge cases and many seeded random values of every kind the fast paths
 * take (integers, short decimals) or give up on (long decimals, exponents, any
 * bit pattern).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatValue } from '../../src/prometheus/writer.js';
import { MAX_VALUE_BYTES, writeValue } from '../../src/prometheus/value-bytes.js';
import { Rng } from '../helpers/rng.js';

const SEED = Number(process.env['VALUE_BYTES_SEED'] ?? Math.floor(Math.random() * 2 ** 32));

const buf = Buffer.alloc(64);

/** writeValue's bytes, checking it wrote only where it said, within MAX_VALUE_BYTES. */
function written(v: number): string {
  buf.fill(0xff);
  const end = writeValue(buf, 3, v);
  assert.ok(end > 3 && end - 3 <= MAX_VALUE_BYTES, `length ${end - 3} for ${formatValue(v)}`);
  for (let i = 0; i < 3; i++) assert.equal(buf[i], 0xff, `wrote before its position for ${formatValue(v)}`);
  for (let i = end; i < buf.length; i++) assert.equal(buf[i], 0xff, `wrote past its end for ${formatValue(v)}`);
  return buf.toString('latin1', 3, end);
}

function check(v: number, context: string): void {
  const expected = formatValue(v);
  const got = written(v);
  if (got !== expected) assert.fail(`${context}: writeValue(${expected}) wrote ${got} (seed ${SEED}; VALUE_BYTES_SEED replays)`);
}

/** A double from 64 random bits: any exponent, subnormals, NaN payloads. */
function anyDouble(rng: Rng): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, Math.floor(rng.next() * 2 ** 32));
  view.setUint32(4, Math.floor(rng.next() * 2 ** 32));
  return view.getFloat64(0);
}

const EDGES = [
  0, -0, NaN, Infinity, -Infinity, 1, -1, 9, 10, 11, 99, 100, 0.5, -0.5,
  1e-6, -1e-6, 1.5e-6, 1e-7, 9.99e-7, 9.999999999999999e-7, 1.0000000000000002e-6, 5e-324, Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE,
  2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32, 2 ** 50 - 1, 2 ** 50, 2 ** 50 + 0.5, 2 ** 52 + 1, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53 - 1),
  99999999, 100000000, 100000001, 199999999, 999999999999999, 1e15, 1e16, 1e20, 1e21, 1e22, 123456789012345680000,
  0.1, 0.2, 0.3, 0.1 + 0.2, 1 / 3, 2 / 3, 1 / 7, 123.456, -22.94, 22.2 * 1.1, 0.000123, 0.0025, 1.0000001, 1.000000001, 1.0000000001,
  999999.9999999999, 0.9999999999999999, 1.758000000123456e9, 4503599627370495.5, 1125899906842623.8, 112589990684262.38,
  7.689368882420941e-7, 1700000000123, 1700000000.123, 6710886499999999, 9007199199999999, 1125899906842.9999,
];

describe('writeValue', () => {
  it("writes formatValue's text for edge cases", () => {
    for (const v of EDGES) {
      check(v, 'edge');
      check(-v, 'edge, negated');
    }
  });

  it(`writes formatValue's text for random values (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    for (let i = 0; i < 100_000; i++) {
      const magnitude = 10 ** (rng.int(40) - 12);
      const sign = rng.chance(0.2) ? -1 : 1;
      // An integer of any size up to past 2^53.
      check(sign * Math.floor(rng.next() * 2 ** rng.int(60)), 'integer');
      // A decimal of up to 12 decimals, as a runner would print it.
      const decimals = rng.int(13);
      check(sign * Number((rng.next() * magnitude).toFixed(Math.min(decimals, 100))), 'short decimal');
      check(sign * (Math.round(rng.next() * 10 ** rng.int(17)) / 10 ** decimals), 'short decimal');
      // Arithmetic results: long decimals (sums, ratios, rates).
      check(sign * rng.int(100_000) * 0.37, 'product');
      check(sign * (rng.int(1_000_000) / 7), 'quotient');
      check(sign * rng.next() * magnitude, 'random');
      check(anyDouble(rng), 'any bits');
      // Neighbours of powers of ten and of the fast paths' limits.
      const near = 10 ** (rng.int(30) - 8) * (1 + (rng.int(5) - 2) * Number.EPSILON);
      check(sign * near, 'near a power of ten');
      check(sign * (2 ** (30 + rng.int(25)) + (rng.int(9) - 4) * 0.25), 'near a power of two');
    }
  });
});

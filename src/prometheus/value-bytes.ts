/**
 * formatValue's text written straight into a byte buffer, without making a string
 * for the common values: integers and short decimals (`42`, `0.25`, `22.94`), the
 * counts, bucket counts and most gauges of a scrape. Any other value (long
 * decimals such as 1/7, exponents, NaN, ±Inf, -0) is formatted by formatValue
 * and copied, so the bytes are always exactly formatValue's.
 *
 * Why the fast path writes what JavaScript writes: `'' + v` is the shortest
 * decimal that reads back as v, in fixed notation for 1e-6 <= |v| < 1e21. For an
 * integer below 2^53 that is its digits. Otherwise, when m = round(|v| × 10^d)
 * gives m / 10^d === |v|, the text `m·10^-d` reads back as v (that division is
 * exact-then-rounded, as parsing the text is); while |v| × 10^d < 2^50 the
 * interval of numbers that read back as v is under a quarter of 10^-d wide, so no
 * other text of d decimals does, and the one with the fewest decimals (m without
 * its trailing zeros) is the shortest. So one test with the most decimals the
 * fast path takes finds every short decimal, and rejects long ones (1/7) at once.
 */
import { formatValue } from './writer.js';

/** formatValue's longest text: `-0.0000012345678901234567` (17 digits, the most a double needs). */
export const MAX_VALUE_BYTES = 25;

const TWO_53 = 2 ** 53;
const TWO_50 = 2 ** 50;
const MAX_DECIMALS = 9;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

/**
 * Writes formatValue(v) at `pos` and returns the position after it. The caller
 * makes sure MAX_VALUE_BYTES fit from `pos`, and that v is a number (what else a
 * mislabelled point may hold has no bound on its length).
 */
export function writeValue(buf: Uint8Array, pos: number, v: number): number {
  let a = v;
  if (v < 0) a = -v;
  // NaN, ±Inf, -0, 0 and |v| < 1e-6 (written with an exponent) fail this test.
  if (a < TWO_53 && a >= 1e-6) {
    let p = pos;
    if (v < 0) buf[p++] = MINUS;
    const whole = Math.floor(a);
    if (whole === a) return writeDigits(buf, p, a, digitCount(a));
    // One test for every d <= MAX_DECIMALS at once: a text with d decimals is also one with `decimals`.
    let decimals = MAX_DECIMALS;
    while (decimals > 0 && a * POW10[decimals]! >= TWO_50) decimals--;
    const scale = POW10[decimals]!;
    const m = Math.round(a * scale);
    if (decimals > 0 && m / scale === a) {
      // The fewest decimals: trailing zeros dropped. m / scale is a exactly, so floor(a) is its whole part.
      let fraction = (m - whole * scale) | 0; // < 10^9: an int32
      while (fraction % 10 === 0) {
        fraction = (fraction / 10) | 0;
        decimals--;
      }
      p = writeDigits(buf, p, whole, digitCount(whole));
      buf[p] = DOT;
      // Zero-padded on the left: 25 with 4 decimals is `0025`.
      return writeDigits(buf, p + 1, fraction, decimals);
    }
  } else if (v === 0 && 1 / v > 0) {
    buf[pos] = ZERO;
    return pos + 1;
  }
  return writeText(buf, pos, formatValue(v));
}

/** Number of decimal digits of an integer 0 <= x < 2^53. */
function digitCount(x: number): number {
  let n = 1;
  while (n < 16 && x >= POW10[n]!) n++;
  return n;
}

/** Integer 0 <= x < 2^53 as n digits (zero-padded on the left) at `pos`; returns the position after them. */
function writeDigits(buf: Uint8Array, pos: number, x: number, n: number): number {
  const end = pos + n;
  let p = end;
  if (x >= 2147483648) {
    // Past int32: the low 8 digits first, then the rest (< 2^27) as an int32.
    let high = Math.floor(x / 1e8);
    let low = x - high * 1e8;
    // Below 2^53 the quotient's fraction stays more than half an ulp from the next
    // integer, so this does not round across one; checked anyway, it costs a compare.
    if (low < 0) {
      high -= 1;
      low += 1e8;
    } else if (low >= 1e8) {
      high += 1;
      low -= 1e8;
    }
    let l = low | 0;
    for (let i = 0; i < 8; i++) {
      const q = (l / 10) | 0;
      buf[--p] = ZERO + l - q * 10;
      l = q;
    }
    x = high;
  }
  let i = x | 0;
  while (p > pos) {
    const q = (i / 10) | 0;
    buf[--p] = ZERO + i - q * 10;
    i = q;
  }
  return end;
}

function writeText(buf: Uint8Array, pos: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) buf[pos + i] = text.charCodeAt(i);
  return pos + n;
}

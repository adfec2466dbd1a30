/**
 * Number tokens, read in place from the body without slicing it.
 *
 * Plain decimals (`4934`, `0.0371`, `1.758e+09`) take an exact fast path:
 * when the digits fit in 2^53 and the decimal exponent is within ±22, both the
 * mantissa and the power of ten are exact doubles, so one multiply or divide
 * gives the correctly rounded result (Clinger's fast path). Everything else
 * falls back to `Number()` on the token.
 */
import { DOT, MINUS, PLUS } from './chars.js';

const POW10 = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
  1e19, 1e20, 1e21, 1e22,
];
const MAX_EXACT = 2 ** 53;

/** `NaN`, case-insensitive: the only token for which `parseFloatToken` legitimately returns NaN. */
export function isNaNToken(text: string, start: number, end: number): boolean {
  return (
    end - start === 3 &&
    (text.charCodeAt(start) | 0x20) === 0x6e &&
    (text.charCodeAt(start + 1) | 0x20) === 0x61 &&
    (text.charCodeAt(start + 2) | 0x20) === 0x6e
  );
}

/**
 * A float as Go's strconv.ParseFloat reads it (`NaN`, `+Inf`, `-Inf`, `Inf`,
 * exponents). Returns NaN for an invalid token too: check `isNaNToken` to tell them apart.
 */
export function parseFloatToken(text: string, start: number, end: number): number {
  let i = start;
  let c = text.charCodeAt(i);
  const negative = c === MINUS;
  if (negative || c === PLUS) i++;

  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  while (i < end && (c = text.charCodeAt(i) - 48) >= 0 && c <= 9) {
    mantissa = mantissa * 10 + c;
    digits++;
    i++;
  }
  if (i < end && text.charCodeAt(i) === DOT) {
    i++;
    while (i < end && (c = text.charCodeAt(i) - 48) >= 0 && c <= 9) {
      mantissa = mantissa * 10 + c;
      digits++;
      scale++;
      i++;
    }
  }
  let exponent = 0;
  if (i < end && (text.charCodeAt(i) | 0x20) === 0x65 /* e */) {
    i++;
    const sign = text.charCodeAt(i);
    const negativeExponent = sign === MINUS;
    if (negativeExponent || sign === PLUS) i++;
    const first = i;
    while (i < end && (c = text.charCodeAt(i) - 48) >= 0 && c <= 9 && i - first < 6) {
      exponent = exponent * 10 + c;
      i++;
    }
    if (i === first) return slowParseFloat(text, start, end);
    if (negativeExponent) exponent = -exponent;
  }
  if (i !== end || digits === 0) return slowParseFloat(text, start, end);

  const e10 = exponent - scale;
  if (mantissa > MAX_EXACT || e10 < -22 || e10 > 22) return slowParseFloat(text, start, end);
  const magnitude = e10 < 0 ? mantissa / POW10[-e10]! : mantissa * POW10[e10]!;
  return negative ? -magnitude : magnitude;
}

function slowParseFloat(text: string, start: number, end: number): number {
  // Number() trims Unicode whitespace and accepts other oddities: only hand it printable ASCII.
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c >= 127) return NaN;
  }
  const token = text.slice(start, end);
  const lower = token.toLowerCase();
  const sign = lower.charCodeAt(0);
  const unsigned = sign === PLUS || sign === MINUS ? lower.slice(1) : lower;
  if (unsigned === 'inf' || unsigned === 'infinity') return sign === MINUS ? -Infinity : Infinity;
  return Number(token);
}

/** A signed decimal integer (text-format timestamps are integer milliseconds); NaN when invalid. */
export function parseIntegerToken(text: string, start: number, end: number): number {
  let i = start;
  const sign = text.charCodeAt(i);
  const negative = sign === MINUS;
  if (negative || sign === PLUS) i++;
  if (i === end) return NaN;
  let value = 0;
  for (; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    value = value * 10 + d;
  }
  return negative ? -value : value;
}

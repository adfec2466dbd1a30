/**
 * Unescaping of label values, quoted names and HELP text: `\\`, `\"` and `\n`.
 * Any other escape is kept as written, as Prometheus does. (Text format HELP
 * only defines `\\` and `\n`, but OpenMetrics adds `\"` and no writer emits a
 * bare `\"` in HELP, so one rule serves both.) Callers only come here when the
 * raw text holds a backslash, so the common case never allocates.
 *
 * Linear in the text whatever it holds: a regular expression with a replacer
 * function, or a string grown piece by piece, slows down more than linearly on a
 * value made of hundreds of thousands of escapes (the garbage of one string per
 * escape). Long texts are unescaped into one buffer of char codes instead.
 */
import { BACKSLASH, LF, LOWER_N, QUOTE } from './chars.js';

/** Below this length, concatenation is cheaper than a buffer and a decoder. */
const SHORT = 256;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// ignoreBOM keeps a leading U+FEFF, which is text here. (A scraped body is decoded from UTF-8,
// so it holds no lone surrogates, which the decoder would replace.)
const utf16 = new TextDecoder('utf-16le', { ignoreBOM: true });

export function unescape(raw: string): string {
  const first = raw.indexOf('\\');
  if (first < 0) return raw;
  return raw.length < SHORT ? unescapeShort(raw, first) : unescapeLong(raw, first);
}

function unescapeShort(raw: string, first: number): string {
  let out = '';
  let from = 0;
  let at = first;
  while (at >= 0 && at + 1 < raw.length) {
    const c = raw.charCodeAt(at + 1);
    if (c === LOWER_N || c === QUOTE || c === BACKSLASH) {
      out += raw.slice(from, at) + (c === LOWER_N ? '\n' : c === QUOTE ? '"' : '\\');
      from = at + 2;
      at = raw.indexOf('\\', from);
    } else {
      at = raw.indexOf('\\', at + 2);
    }
  }
  return out + raw.slice(from);
}

function unescapeLong(raw: string, first: number): string {
  const length = raw.length;
  const codes = new Uint16Array(length);
  for (let i = 0; i < first; i++) codes[i] = raw.charCodeAt(i);
  let k = first;
  for (let p = first; p < length; p++) {
    let c = raw.charCodeAt(p);
    if (c === BACKSLASH && p + 1 < length) {
      const next = raw.charCodeAt(p + 1);
      if (next === LOWER_N) {
        c = LF;
        p++;
      } else if (next === QUOTE || next === BACKSLASH) {
        c = next;
        p++;
      }
    }
    codes[k++] = c;
  }
  return fromCharCodes(codes.subarray(0, k));
}

/** The string of UTF-16 code units: one native decode where the array is little-endian. */
export function fromCharCodes(codes: Uint16Array, littleEndian = LITTLE_ENDIAN): string {
  if (littleEndian) return utf16.decode(codes);
  const parts: string[] = [];
  for (let i = 0; i < codes.length; i += 8192) parts.push(String.fromCharCode(...codes.subarray(i, i + 8192)));
  return parts.join('');
}

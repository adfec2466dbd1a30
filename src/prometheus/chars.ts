/**
 * Character classes of the exposition format, as a lookup table over char codes:
 * one table read per character is cheaper than a chain of range comparisons.
 */
export const LF = 10;
export const CR = 13;
export const SPACE = 32;
export const TAB = 9;
export const QUOTE = 34;
export const HASH = 35;
export const PLUS = 43;
export const COMMA = 44;
export const MINUS = 45;
export const DOT = 46;
export const EQUALS = 61;
export const BACKSLASH = 92;
export const LOWER_N = 110;
export const LBRACE = 123;
export const RBRACE = 125;

const METRIC_START = 1;
const METRIC_CHAR = 2;
const LABEL_START = 4;
const LABEL_CHAR = 8;

const CLASSES = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // A-Z a-z _
  const digit = c >= 48 && c <= 57;
  if (letter || c === 58) CLASSES[c]! |= METRIC_START | METRIC_CHAR; // ':' only in metric names
  if (digit) CLASSES[c]! |= METRIC_CHAR | LABEL_CHAR;
  if (letter) CLASSES[c]! |= LABEL_START | LABEL_CHAR;
}

// Out-of-range codes (non-ASCII, or NaN past the end of the string) read as undefined, i.e. no class.
export function isMetricNameStart(c: number): boolean {
  return ((CLASSES[c] ?? 0) & METRIC_START) !== 0;
}

export function isMetricNameChar(c: number): boolean {
  return ((CLASSES[c] ?? 0) & METRIC_CHAR) !== 0;
}

export function isLabelNameStart(c: number): boolean {
  return ((CLASSES[c] ?? 0) & LABEL_START) !== 0;
}

export function isLabelNameChar(c: number): boolean {
  return ((CLASSES[c] ?? 0) & LABEL_CHAR) !== 0;
}

/** Space or tab; CR too, so a CRLF line ending reads as trailing blank + LF. */
export function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

/** True when `name` can be written bare (`[a-zA-Z_:][a-zA-Z0-9_:]*`), false when it must be quoted. */
export function isLegacyMetricName(name: string): boolean {
  if (name.length === 0 || !isMetricNameStart(name.charCodeAt(0))) return false;
  for (let i = 1; i < name.length; i++) if (!isMetricNameChar(name.charCodeAt(i))) return false;
  return true;
}

/** True when `name` can be written bare (`[a-zA-Z_][a-zA-Z0-9_]*`), false when it must be quoted. */
export function isLegacyLabelName(name: string): boolean {
  if (name.length === 0 || !isLabelNameStart(name.charCodeAt(0))) return false;
  for (let i = 1; i < name.length; i++) if (!isLabelNameChar(name.charCodeAt(i))) return false;
  return true;
}

/** A character as an error message shows it: printable ASCII quoted, anything else as a code point. */
export function describeChar(c: number): string {
  if (Number.isNaN(c)) return 'end of input';
  if (c === LF) return 'end of line';
  if (c > 32 && c < 127) return `"${String.fromCharCode(c)}"`;
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

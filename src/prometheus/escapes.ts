/**
 * Unescaping of label values, quoted names and HELP text: `\\`, `\"` and `\n`.
 * Any other escape is kept as written, as Prometheus does. (Text format HELP
 * only defines `\\` and `\n`, but OpenMetrics adds `\"` and no writer emits a
 * bare `\"` in HELP, so one rule serves both.) Callers only come here when the
 * raw text holds a backslash, so the common case never allocates.
 */
export function unescape(raw: string): string {
  return raw.replace(ESCAPE, replaceEscape);
}

const ESCAPE = /\\(["\\n])/g;

function replaceEscape(_match: string, c: string): string {
  return c === 'n' ? '\n' : c;
}

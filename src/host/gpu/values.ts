/** Reading one field of a GPU tool's output, where "not available" has many spellings. */

/**
 * The number in `text`, or undefined when the tool said it has none:
 * `[N/A]`, `[Not Supported]`, `N/A`, `[Unknown Error]`, an empty field, or
 * anything else that is not a plain number. Never 0 for a missing figure.
 */
export function optionalNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || !/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** A text field, or undefined for the tool's "not available" spellings. */
export function optionalText(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || /^\[.*\]$/.test(t) || /^n\/?a\b/i.test(t) || /^unknown$/i.test(t)) return undefined;
  return t;
}

/** A percentage as a 0–1 ratio. */
export function percentToRatio(percent: number | undefined): number | undefined {
  return percent === undefined ? undefined : percent / 100;
}

/** used / total, when both are known and total is not 0. */
export function ratio(used: number | undefined, total: number | undefined): number | undefined {
  return used === undefined || total === undefined || total <= 0 ? undefined : used / total;
}

export const MIB = 1024 * 1024;

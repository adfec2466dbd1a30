/**
 * Several config files combine in order: maps merge key by key, and for
 * anything else (scalars, lists) the later file wins. An empty value in a later
 * file (`filter:`) does not erase a map an earlier file filled in.
 */
import { isPlainObject, setOwn } from './paths.js';

export function mergeConfigs(trees: readonly unknown[]): unknown {
  return trees.reduce<unknown>((acc, tree) => mergeTwo(acc, tree), undefined);
}

function mergeTwo(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (over === null && isPlainObject(base)) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(base), ...Object.keys(over)])) {
    setOwn(out, key, mergeTwo(own(base, key), own(over, key)));
  }
  return out;
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

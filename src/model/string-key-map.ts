/**
 * A Map keyed by strings that stays O(1) per operation for long keys.
 *
 * V8 hashes a string of more than 16383 characters by its length alone, so long keys
 * of one length all land in one bucket and each lookup compares against every one of
 * them: a page of 1000 series whose label sets are 17 KB long costs seconds instead of
 * milliseconds. Keys that long are kept in a second map under their SHA-256 digest
 * (computing it is linear in the key, like reading it); short keys go straight to a
 * plain Map, so the common case costs one length check more.
 */
import { hash } from 'node:crypto';

/** Longest string V8 hashes by content (String::kMaxHashCalcLength). */
const MAX_CONTENT_HASHED = 16383;

/** The read side, for code that only looks names up. */
export interface StringLookup<V> {
  get(key: string): V | undefined;
}

export class StringKeyMap<V> implements StringLookup<V>, Iterable<[string, V]> {
  private readonly short = new Map<string, V>();
  /** Digest → [key, value]; the key is kept for iteration. */
  private readonly long = new Map<string, [string, V]>();

  get size(): number {
    return this.short.size + this.long.size;
  }

  get(key: string): V | undefined {
    if (key.length <= MAX_CONTENT_HASHED) return this.short.get(key);
    return this.long.get(digest(key))?.[1];
  }

  has(key: string): boolean {
    return key.length <= MAX_CONTENT_HASHED ? this.short.has(key) : this.long.has(digest(key));
  }

  set(key: string, value: V): this {
    if (key.length <= MAX_CONTENT_HASHED) this.short.set(key, value);
    else this.long.set(digest(key), [key, value]);
    return this;
  }

  delete(key: string): boolean {
    return key.length <= MAX_CONTENT_HASHED ? this.short.delete(key) : this.long.delete(digest(key));
  }

  clear(): void {
    this.short.clear();
    this.long.clear();
  }

  /** Entries, short keys first; deleting the current entry while iterating is safe, as with Map. */
  *[Symbol.iterator](): IterableIterator<[string, V]> {
    yield* this.short;
    for (const entry of this.long.values()) yield entry;
  }

  *values(): IterableIterator<V> {
    yield* this.short.values();
    for (const entry of this.long.values()) yield entry[1];
  }
}

function digest(key: string): string {
  return hash('sha256', key, 'base64');
}

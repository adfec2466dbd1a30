/**
 * Rendered scrape bodies, kept until the data they were rendered from changes.
 *
 * A body is stored whole, once rendered (rendering is synchronous), so a scrape
 * never gets half of one; its gzip is made once, on the first scrape that asks
 * for it, and shared by every scrape of that body, including those that arrive
 * while it is being compressed. Any change of the data clears every entry: the
 * next scrape renders afresh. Entries are keyed by what shapes the body (format,
 * `name[]` filter); there are at most `maxEntries` of them, least recently used
 * dropped first, so odd `name[]` queries cannot grow memory.
 */
import { gzip } from 'node:zlib';

export class CachedBody {
  private compressed: Promise<Buffer> | undefined;

  constructor(readonly bytes: Buffer) {}

  /** The gzip of `bytes`, compressed on libuv's thread pool the first time it is asked for. */
  gzipped(): Promise<Buffer> {
    this.compressed ??= new Promise((resolve, reject) => {
      gzip(this.bytes, (error, result) => (error ? reject(error) : resolve(result)));
    });
    return this.compressed;
  }
}

export class BodyCache {
  private readonly entries = new Map<string, CachedBody>();
  private version: unknown;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The body for `key` rendered from data at `version` (anything compared with
   * `===`), rendering it when there is none yet.
   */
  get(key: string, version: unknown, render: () => Buffer): CachedBody {
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
    let body = this.entries.get(key);
    if (body) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, body);
      return body;
    }
    body = new CachedBody(render());
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, body);
    return body;
  }
}

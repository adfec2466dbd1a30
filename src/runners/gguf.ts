/**
 * Reads the key-value header of a GGUF model file (llama.cpp's format), for the
 * figures llama-server does not give: the KV-cache size per token needs the
 * model's layer count, KV heads and head size.
 *
 * Layout (GGUF v2 and v3, little-endian): magic `GGUF`, uint32 version, uint64
 * tensor count, uint64 KV count, then KV pairs (string key, uint32 type, value).
 * Strings are a uint64 length and UTF-8 bytes; arrays a uint32 item type, a
 * uint64 count and the items.
 *
 * Reads are bounded: the file is read in chunks, never whole, and a header
 * longer than `maxHeadBytes` is refused. A tokenizer's vocabulary (32k to 256k
 * strings) is stepped over without keeping it: arrays of strings keep only their
 * type and length; numeric arrays (per-layer head counts) keep their items.
 */
import { open, type FileHandle } from 'node:fs/promises';

export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export type GgufScalar = number | boolean | string;

export type GgufValue =
  | { readonly type: Exclude<GgufType, GgufType.ARRAY>; readonly value: GgufScalar }
  | {
      readonly type: GgufType.ARRAY;
      readonly itemType: Exclude<GgufType, GgufType.ARRAY>;
      readonly length: number;
      /** Numeric and boolean items up to MAX_KEPT_ITEMS; undefined for strings and longer arrays. */
      readonly value: readonly GgufScalar[] | undefined;
    };

export interface GgufHeader {
  readonly version: number;
  readonly tensorCount: number;
  /** Key-value pairs in file order. */
  readonly kv: ReadonlyMap<string, GgufValue>;
}

export interface GgufReadOptions {
  /** Give up when the KV section is longer than this. Default 64 MiB. */
  readonly maxHeadBytes?: number;
}

export class GgufError extends Error {}

const MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
const DEFAULT_MAX_HEAD = 64 * 1024 * 1024;
const CHUNK = 256 * 1024;
const MAX_KV = 100_000;
const MAX_KEPT_ITEMS = 4096;

const FIXED_SIZE: Partial<Record<GgufType, number>> = {
  [GgufType.UINT8]: 1,
  [GgufType.INT8]: 1,
  [GgufType.UINT16]: 2,
  [GgufType.INT16]: 2,
  [GgufType.UINT32]: 4,
  [GgufType.INT32]: 4,
  [GgufType.FLOAT32]: 4,
  [GgufType.BOOL]: 1,
  [GgufType.UINT64]: 8,
  [GgufType.INT64]: 8,
  [GgufType.FLOAT64]: 8,
};

/** Reads a GGUF file's version, tensor count and KV pairs (not the tensor infos or data). */
export async function readGgufHeader(path: string, options: GgufReadOptions = {}): Promise<GgufHeader> {
  const file = await open(path, 'r');
  try {
    const r = new ChunkReader(file, options.maxHeadBytes ?? DEFAULT_MAX_HEAD);
    await r.need(24, 'the header');
    if (r.u32() !== MAGIC) throw new GgufError(`${path} is not a GGUF file (no GGUF magic)`);
    const version = r.u32();
    if (version < 2 || version > 3) throw new GgufError(`${path}: GGUF version ${version} is not supported (2 and 3 are)`);
    const tensorCount = r.u64();
    const kvCount = r.u64();
    if (kvCount > MAX_KV) throw new GgufError(`${path}: ${kvCount} key-value pairs is not a plausible header`);
    const kv = new Map<string, GgufValue>();
    for (let i = 0; i < kvCount; i++) {
      const key = await r.string();
      await r.need(4, 'a value type');
      const type = r.u32() as GgufType;
      kv.set(key, await readValue(r, type));
    }
    return { version, tensorCount, kv };
  } finally {
    await file.close();
  }
}

async function readValue(r: ChunkReader, type: GgufType): Promise<GgufValue> {
  if (type === GgufType.ARRAY) {
    await r.need(12, 'an array header');
    const itemType = r.u32() as GgufType;
    const length = r.u64();
    if (itemType === GgufType.ARRAY || !(itemType in GgufType)) throw new GgufError(`array of unsupported item type ${itemType}`);
    const size = FIXED_SIZE[itemType];
    if (size === undefined) {
      // Strings (a vocabulary): stepped over one by one, nothing kept.
      // Synchronously while the buffer holds the next string; awaiting only to refill it.
      for (let i = 0; i < length; i++) if (!r.skipBufferedString()) await r.skipString();
      return { type, itemType: itemType as Exclude<GgufType, GgufType.ARRAY>, length, value: undefined };
    }
    if (length > MAX_KEPT_ITEMS) {
      await r.skip(length * size);
      return { type, itemType: itemType as Exclude<GgufType, GgufType.ARRAY>, length, value: undefined };
    }
    await r.need(length * size, 'an array');
    const items: GgufScalar[] = [];
    for (let i = 0; i < length; i++) items.push(r.scalar(itemType));
    return { type, itemType: itemType as Exclude<GgufType, GgufType.ARRAY>, length, value: items };
  }
  if (type === GgufType.STRING) return { type, value: await r.string() };
  const size = FIXED_SIZE[type];
  if (size === undefined) throw new GgufError(`unsupported value type ${type}`);
  await r.need(size, 'a value');
  return { type: type as Exclude<GgufType, GgufType.ARRAY>, value: r.scalar(type) };
}

/** Sequential reads over a file through one reused buffer, never past `limit` bytes. */
class ChunkReader {
  private buf = Buffer.alloc(CHUNK);
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private eof = false;

  constructor(
    private readonly file: FileHandle,
    private readonly limit: number,
  ) {}

  /** Makes `n` bytes available at the cursor. */
  async need(n: number, what: string): Promise<void> {
    if (this.base + this.start + n > this.limit) throw new GgufError(`the header is longer than ${this.limit} bytes (reading ${what})`);
    if (this.end - this.start >= n) return;
    // Move what is left to the front, grow the buffer if one item is larger than it.
    const left = this.end - this.start;
    if (n > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(n, this.buf.length * 2));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else {
      this.buf.copy(this.buf, 0, this.start, this.end);
    }
    this.base += this.start;
    this.start = 0;
    this.end = left;
    while (this.end < n && !this.eof) {
      const { bytesRead } = await this.file.read(this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      if (bytesRead === 0) this.eof = true;
      this.end += bytesRead;
    }
    if (this.end < n) throw new GgufError(`the file ends inside ${what}`);
  }

  async skip(n: number): Promise<void> {
    if (this.base + this.start + n > this.limit) throw new GgufError(`the header is longer than ${this.limit} bytes`);
    while (n > 0) {
      if (this.start === this.end) await this.need(Math.min(n, CHUNK), 'skipped bytes');
      const step = Math.min(n, this.end - this.start);
      this.start += step;
      n -= step;
    }
  }

  async string(): Promise<string> {
    await this.need(8, 'a string length');
    const length = this.u64();
    await this.need(length, 'a string');
    const s = this.buf.toString('utf8', this.start, this.start + length);
    this.start += length;
    return s;
  }

  /** Steps over a string wholly in the buffer; false (nothing consumed) otherwise. */
  skipBufferedString(): boolean {
    const left = this.end - this.start;
    if (left < 8) return false;
    const length = Number(this.buf.readBigUInt64LE(this.start));
    if (left - 8 < length || this.base + this.start + 8 + length > this.limit) return false;
    this.start += 8 + length;
    return true;
  }

  async skipString(): Promise<void> {
    if (this.end - this.start < 8) await this.need(8, 'a string length');
    await this.skip(this.u64());
  }

  u32(): number {
    const v = this.buf.readUInt32LE(this.start);
    this.start += 4;
    return v;
  }

  u64(): number {
    const v = this.buf.readBigUInt64LE(this.start);
    this.start += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError(`a 64-bit count (${v}) is beyond any real header`);
    return Number(v);
  }

  scalar(type: GgufType): GgufScalar {
    const b = this.buf;
    const at = this.start;
    this.start += FIXED_SIZE[type]!;
    switch (type) {
      case GgufType.UINT8: return b.readUInt8(at);
      case GgufType.INT8: return b.readInt8(at);
      case GgufType.UINT16: return b.readUInt16LE(at);
      case GgufType.INT16: return b.readInt16LE(at);
      case GgufType.UINT32: return b.readUInt32LE(at);
      case GgufType.INT32: return b.readInt32LE(at);
      case GgufType.FLOAT32: return b.readFloatLE(at);
      case GgufType.BOOL: return b.readUInt8(at) !== 0;
      case GgufType.UINT64: return Number(b.readBigUInt64LE(at));
      case GgufType.INT64: return Number(b.readBigInt64LE(at));
      case GgufType.FLOAT64: return b.readDoubleLE(at);
      default: throw new GgufError(`unsupported value type ${type}`);
    }
  }
}

/** A KV value as a number, if it is a numeric scalar. */
export function ggufNumber(header: GgufHeader, key: string): number | undefined {
  const v = header.kv.get(key);
  return v !== undefined && v.type !== GgufType.ARRAY && typeof v.value === 'number' ? v.value : undefined;
}

export function ggufString(header: GgufHeader, key: string): string | undefined {
  const v = header.kv.get(key);
  return v?.type === GgufType.STRING ? (v.value as string) : undefined;
}

/** A per-layer figure: one number for every layer, or an array with one per layer. */
export function ggufPerLayer(header: GgufHeader, key: string, layers: number): number[] | undefined {
  const v = header.kv.get(key);
  if (v === undefined) return undefined;
  if (v.type !== GgufType.ARRAY) return typeof v.value === 'number' ? new Array<number>(layers).fill(v.value) : undefined;
  if (v.value === undefined || v.value.length !== layers || !v.value.every((x) => typeof x === 'number')) return undefined;
  return v.value as number[];
}

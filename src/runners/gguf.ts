/**
 * A reader for the head of a GGUF file (llama.cpp's model format): the header,
 * the typed key-value pairs and the tensor infos, never the tensor data. It is
 * how the collector learns a model's shape (layers, KV heads, head size) from
 * the file a llama-server has loaded, e.g. to turn a context size in tokens into
 * KV-cache bytes.
 *
 * Layout (little-endian, GGUF v2 and v3): magic `GGUF`, version u32, tensor
 * count u64, KV count u64; each KV is a string key, a u32 value type and the
 * value (an array is an item type u32, a count u64 and the items); each tensor
 * info is a string name, n_dims u32, n_dims u64 sizes, a u32 ggml type and a u64
 * offset into the data section, which starts at the next multiple of
 * `general.alignment` (32 by default).
 *
 * Every read is bounded: a corrupt or hostile count or length fails with a
 * GgufError naming what was wrong and where, instead of allocating gigabytes.
 */
import { open, type FileHandle } from 'node:fs/promises';

export const GGUF_MAGIC = 'GGUF';
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** GGUF value types (`gguf_type` in ggml). */
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

/** ggml tensor types used by the tiny test models; other values are kept as numbers. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
}

/** A scalar: 64-bit integers are numbers when exact, bigints beyond 2^53. */
export type GgufScalar = number | bigint | boolean | string;

export type GgufValue =
  | { readonly type: Exclude<GgufType, GgufType.ARRAY>; readonly value: GgufScalar }
  | {
      readonly type: GgufType.ARRAY;
      readonly itemType: Exclude<GgufType, GgufType.ARRAY>;
      readonly length: number;
      /** The items, unless the reader was asked to skip array values (`arrayValues: false`). */
      readonly value: readonly GgufScalar[] | undefined;
    };

export interface GgufTensorInfo {
  readonly name: string;
  /** Sizes in ggml order: `dims[0]` is the innermost (a row's length). */
  readonly dims: readonly number[];
  readonly type: number;
  /** Offset from the start of the data section. */
  readonly offset: number;
}

export interface GgufHeader {
  readonly version: number;
  /** Key-value pairs in file order. */
  readonly kv: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  readonly alignment: number;
  /** Where the tensor data starts in the file. */
  readonly dataOffset: number;
}

export interface GgufReadOptions {
  /**
   * Read every array's items (tokenizer vocabularies are large). Default false:
   * only short numeric arrays (per-layer values, at most 4096 items) are read;
   * other arrays keep only their type and length.
   */
  readonly arrayValues?: boolean;
  /** Give up when the head (KVs and tensor infos) is longer than this. Default 256 MiB. */
  readonly maxHeadBytes?: number;
}

export class GgufError extends Error {}

const MAX_KV = 1_000_000;
const MAX_TENSORS = 1_000_000;
const MAX_DIMS = 4; // GGML_MAX_DIMS
const MAX_STRING = 16 * 1024 * 1024;
const MAX_ARRAY = 64 * 1024 * 1024;
const DEFAULT_MAX_HEAD = 256 * 1024 * 1024;
const CHUNK = 1024 * 1024;
/** Numeric arrays this short are read even without `arrayValues`: per-layer values, never a vocabulary. */
const SHORT_NUMERIC_ARRAY = 4096;

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

/** Reads a GGUF file's header, KV pairs and tensor infos (not the tensor data). */
export async function readGgufHeader(path: string, options: GgufReadOptions = {}): Promise<GgufHeader> {
  const file = await open(path, 'r');
  try {
    return await parse(new ChunkReader(file, path, options.maxHeadBytes ?? DEFAULT_MAX_HEAD), options.arrayValues ?? false);
  } finally {
    await file.close();
  }
}

async function parse(r: ChunkReader, arrayValues: boolean): Promise<GgufHeader> {
  const magic = (await r.bytes(4, 'the magic')).toString('latin1');
  if (magic !== GGUF_MAGIC) throw r.error(0, `not a GGUF file (starts with ${JSON.stringify(magic)})`);
  const version = await r.u32('the version');
  if (version !== 2 && version !== 3) throw r.error(4, `GGUF version ${version} is not supported (2 and 3 are)`);
  const tensorCount = await r.count('the tensor count', MAX_TENSORS);
  const kvCount = await r.count('the key-value count', MAX_KV);
  const kv = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const at = r.position;
    const key = await r.string(`key ${i}`);
    const type = await r.type(`the type of ${key}`);
    if (kv.has(key)) throw r.error(at, `key ${key} appears twice`);
    kv.set(key, await readValue(r, key, type, arrayValues));
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = await r.string(`tensor ${i}'s name`);
    const at = r.position;
    const nDims = await r.u32(`the dimension count of ${name}`);
    if (nDims < 1 || nDims > MAX_DIMS) throw r.error(at, `tensor ${name} has ${nDims} dimensions (1 to ${MAX_DIMS} allowed)`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(await r.count(`dimension ${d} of ${name}`, Number.MAX_SAFE_INTEGER));
    const type = await r.u32(`the type of ${name}`);
    const offset = await r.count(`the offset of ${name}`, Number.MAX_SAFE_INTEGER);
    tensors.push({ name, dims, type, offset });
  }
  const alignmentValue = kv.get('general.alignment');
  const alignment = alignmentValue === undefined ? GGUF_DEFAULT_ALIGNMENT : Number(alignmentValue.value);
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) throw new GgufError(`${r.path}: general.alignment ${String(alignmentValue?.value)} is not a positive multiple of 8`);
  const dataOffset = Math.ceil(r.position / alignment) * alignment;
  return { version, kv, tensors, alignment, dataOffset };
}

async function readValue(r: ChunkReader, key: string, type: GgufType, arrayValues: boolean): Promise<GgufValue> {
  if (type !== GgufType.ARRAY) return { type, value: await readScalar(r, key, type) };
  const itemType = await r.type(`the item type of ${key}`);
  if (itemType === GgufType.ARRAY) throw r.error(r.position - 4, `${key} is an array of arrays, which this reader does not read`);
  const length = await r.count(`the length of ${key}`, MAX_ARRAY);
  const shortNumeric = length <= SHORT_NUMERIC_ARRAY && itemType !== GgufType.STRING && itemType !== GgufType.BOOL;
  if (!arrayValues && !shortNumeric) {
    const size = FIXED_SIZE[itemType];
    if (size !== undefined) await r.skip(size * length, `the items of ${key}`);
    else for (let i = 0; i < length; i++) await r.skip(await r.count(`item ${i} of ${key}`, MAX_STRING), `item ${i} of ${key}`);
    return { type, itemType, length, value: undefined };
  }
  const value: GgufScalar[] = new Array(length);
  for (let i = 0; i < length; i++) value[i] = await readScalar(r, key, itemType);
  return { type, itemType, length, value };
}

async function readScalar(r: ChunkReader, key: string, type: Exclude<GgufType, GgufType.ARRAY>): Promise<GgufScalar> {
  const what = `the value of ${key}`;
  switch (type) {
    case GgufType.STRING:
      return r.string(what);
    case GgufType.BOOL: {
      const at = r.position;
      const b = (await r.bytes(1, what))[0]!;
      if (b > 1) throw r.error(at, `${key} is a bool of value ${b}`);
      return b === 1;
    }
    case GgufType.UINT64:
    case GgufType.INT64: {
      const buf = await r.bytes(8, what);
      const big = type === GgufType.UINT64 ? buf.readBigUInt64LE(0) : buf.readBigInt64LE(0);
      return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big;
    }
    default:
      return r.number(type, what);
  }
}

/** Sequential reads from a file through one buffer, refilled as needed; never past `maxHead` bytes. */
class ChunkReader {
  private buf = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private base = 0;
  private pos = 0;
  private eof = false;

  constructor(
    private readonly file: FileHandle,
    readonly path: string,
    private readonly maxHead: number,
  ) {}

  get position(): number {
    return this.base + this.pos;
  }

  error(at: number, message: string): GgufError {
    return new GgufError(`${this.path}: at byte ${at}: ${message}`);
  }

  async bytes(n: number, what: string): Promise<Buffer> {
    if (this.pos + n > this.buf.length) await this.fill(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A fixed-size number, read in place (no Buffer per value: vocabularies have 100k+ of them). */
  async number(type: GgufType, what: string): Promise<number> {
    const size = FIXED_SIZE[type]!;
    if (this.pos + size > this.buf.length) await this.fill(size, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += size;
    switch (type) {
      case GgufType.UINT8: return b.readUInt8(p);
      case GgufType.INT8: return b.readInt8(p);
      case GgufType.UINT16: return b.readUInt16LE(p);
      case GgufType.INT16: return b.readInt16LE(p);
      case GgufType.UINT32: return b.readUInt32LE(p);
      case GgufType.INT32: return b.readInt32LE(p);
      case GgufType.FLOAT32: return b.readFloatLE(p);
      case GgufType.FLOAT64: return b.readDoubleLE(p);
      default: throw this.error(p, `${what}: type ${type} is not a fixed-size number`);
    }
  }

  async skip(n: number, what: string): Promise<void> {
    if (this.pos + n <= this.buf.length) {
      this.pos += n;
      return;
    }
    const target = this.position + n;
    if (target > this.maxHead) throw this.error(this.position, `${what} would end past the ${this.maxHead}-byte limit for a GGUF head`);
    const { size } = await this.file.stat();
    if (target > size) throw this.error(this.position, `the file ends inside ${what}`);
    this.base = target;
    this.buf = Buffer.alloc(0);
    this.pos = 0;
  }

  async u32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }

  async type(what: string): Promise<GgufType> {
    const at = this.position;
    const t = await this.u32(what);
    if (!(t in GgufType)) throw this.error(at, `${what} is ${t}, not a GGUF value type`);
    return t as GgufType;
  }

  /** A u64 count or size, checked against a limit before anything is allocated for it. */
  async count(what: string, limit: number): Promise<number> {
    const at = this.position;
    const v = (await this.bytes(8, what)).readBigUInt64LE(0);
    if (v > BigInt(limit)) throw this.error(at, `${what} is ${v}, more than the limit of ${limit}`);
    return Number(v);
  }

  async string(what: string): Promise<string> {
    const length = await this.count(`the length of ${what}`, MAX_STRING);
    if (this.pos + length > this.buf.length) await this.fill(length, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return s;
  }

  private async fill(n: number, what: string): Promise<void> {
    const start = this.position;
    if (start + n > this.maxHead) throw this.error(start, `${what} would end past the ${this.maxHead}-byte limit for a GGUF head`);
    const kept = this.buf.subarray(this.pos);
    // Never buffer past the limit, so that every read beyond it comes here and fails.
    const want = Math.min(Math.max(n, CHUNK), this.maxHead - start);
    const next = Buffer.allocUnsafe(want);
    kept.copy(next, 0);
    let have = kept.length;
    while (have < want && !this.eof) {
      const { bytesRead } = await this.file.read(next, have, want - have, start + have);
      if (bytesRead === 0) this.eof = true;
      have += bytesRead;
    }
    this.buf = next.subarray(0, have);
    this.base = start;
    this.pos = 0;
    if (have < n) throw this.error(start, `the file ends inside ${what}`);
  }
}

/** A KV value as a number, if it is one (any integer or float type). */
export function ggufNumber(header: GgufHeader, key: string): number | undefined {
  const v = header.kv.get(key);
  if (v === undefined || v.type === GgufType.ARRAY || v.type === GgufType.STRING || v.type === GgufType.BOOL) return undefined;
  return typeof v.value === 'number' ? v.value : undefined;
}

/** A per-layer value: an array of `layers` numbers, or one number for every layer. */
export function ggufPerLayer(header: GgufHeader, key: string, layers: number): number[] | undefined {
  const v = header.kv.get(key);
  if (v === undefined) return undefined;
  if (v.type !== GgufType.ARRAY) return typeof v.value === 'number' ? new Array<number>(layers).fill(v.value) : undefined;
  if (v.value === undefined || v.value.length !== layers || !v.value.every((x) => typeof x === 'number')) return undefined;
  return v.value as number[];
}

export function ggufString(header: GgufHeader, key: string): string | undefined {
  const v = header.kv.get(key);
  return v?.type === GgufType.STRING ? (v.value as string) : undefined;
}

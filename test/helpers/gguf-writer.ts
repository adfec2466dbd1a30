/**
 * A small GGUF writer, and the two tiny random-weight models the end-to-end tests
 * run a real llama-server with: a llama completion model and a bert embedding model, each
 * n_embd 64, 2 layers, 4 heads, n_ff 128, with the tokenizer copied from the
 * vocab-only GGUFs of the llama.cpp source tree and seeded random weights, so
 * every run writes the same bytes. Their text is gibberish; a real server loads
 * them, answers every endpoint and moves every metric.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgmlType,
  GgufType,
  readGgufHeader,
  type GgufScalar,
  type GgufValue,
} from '../../src/runners/gguf.js';
import { Rng } from './rng.js';

export interface TensorToWrite {
  readonly name: string;
  /** ggml order: dims[0] is the innermost. */
  readonly dims: readonly number[];
  readonly type: GgmlType;
  readonly data: Buffer;
}

/** Writes a GGUF v3 file: header, KVs in the given order, tensor infos, then each tensor's data aligned to 32 bytes. */
export function writeGguf(path: string, kv: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly TensorToWrite[]): void {
  const head = new ByteWriter();
  head.raw(Buffer.from(GGUF_MAGIC, 'latin1'));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(kv.length);
  for (const [key, value] of kv) {
    head.string(key);
    head.u32(value.type);
    if (value.type === GgufType.ARRAY) {
      if (value.value === undefined) throw new Error(`${key}: array values were not read`);
      head.u32(value.itemType);
      head.u64(value.value.length);
      for (const item of value.value) head.scalar(value.itemType, item);
    } else head.scalar(value.type, value.value);
  }
  let offset = 0;
  for (const t of tensors) {
    head.string(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(t.type);
    head.u64(offset);
    offset += align(t.data.length);
  }
  const parts = [head.bytes()];
  parts.push(Buffer.alloc(align(parts[0]!.length) - parts[0]!.length));
  for (const t of tensors) parts.push(t.data, Buffer.alloc(align(t.data.length) - t.data.length));
  writeFileSync(path, Buffer.concat(parts));
}

function align(n: number): number {
  return Math.ceil(n / GGUF_DEFAULT_ALIGNMENT) * GGUF_DEFAULT_ALIGNMENT;
}

class ByteWriter {
  private chunks: Buffer[] = [];
  raw(b: Buffer): void {
    this.chunks.push(b);
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.chunks.push(b);
  }
  u64(n: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.chunks.push(b);
  }
  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.chunks.push(b);
  }
  scalar(type: GgufType, v: GgufScalar): void {
    const b = Buffer.alloc(8);
    switch (type) {
      case GgufType.STRING: return this.string(v as string);
      case GgufType.UINT8: b.writeUInt8(v as number); return this.raw(b.subarray(0, 1));
      case GgufType.INT8: b.writeInt8(v as number); return this.raw(b.subarray(0, 1));
      case GgufType.BOOL: b.writeUInt8(v ? 1 : 0); return this.raw(b.subarray(0, 1));
      case GgufType.UINT16: b.writeUInt16LE(v as number); return this.raw(b.subarray(0, 2));
      case GgufType.INT16: b.writeInt16LE(v as number); return this.raw(b.subarray(0, 2));
      case GgufType.UINT32: b.writeUInt32LE(v as number); return this.raw(b.subarray(0, 4));
      case GgufType.INT32: b.writeInt32LE(v as number); return this.raw(b.subarray(0, 4));
      case GgufType.FLOAT32: b.writeFloatLE(v as number); return this.raw(b.subarray(0, 4));
      case GgufType.FLOAT64: b.writeDoubleLE(v as number); return this.raw(b);
      case GgufType.UINT64: b.writeBigUInt64LE(BigInt(v as number)); return this.raw(b);
      case GgufType.INT64: b.writeBigInt64LE(BigInt(v as number)); return this.raw(b);
      default: throw new Error(`cannot write a value of GGUF type ${type}`);
    }
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Seeded, so the models are the same bytes on every run. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** float32 → IEEE half bits, rounding to nearest (the weights are small normals: no need for every corner). */
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);
function toHalf(f: number): number {
  scratchF32[0] = f;
  const x = scratchU32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    return sign | ((mant >> (14 - exp)) + ((mant >> (13 - exp)) & 1));
  }
  if (exp >= 31) return sign | 0x7c00;
  return (sign | (exp << 10) | (mant >> 13)) + ((mant >> 12) & 1);
}

type Fill = 'rand' | 'ones' | 'zeros';

class RandomTensors {
  readonly tensors: TensorToWrite[] = [];
  private readonly next: () => number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.next = prng(seed);
  }

  /** Matrices are f16 unless `f32`; 1-D tensors (norms, biases) are f32, as make_models.py writes them. */
  add(name: string, dims: readonly number[], fill: Fill = 'rand', f32 = false): void {
    const n = dims.reduce((a, b) => a * b, 1);
    const half = dims.length >= 2 && !f32;
    // Typed arrays are little-endian on every platform Node runs the tests on (x64, arm64).
    const values = half ? new Uint16Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = fill === 'ones' ? 1 : fill === 'zeros' ? 0 : this.normal() * 0.02;
      values[i] = half ? toHalf(v) : v;
    }
    const data = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    this.tensors.push({ name, dims, type: half ? GgmlType.F16 : GgmlType.F32, data });
  }

  /** Box–Muller: standard normal values from the uniform PRNG. */
  private normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

const u32 = (value: number): GgufValue => ({ type: GgufType.UINT32, value });
const f32 = (value: number): GgufValue => ({ type: GgufType.FLOAT32, value });
const str = (value: string): GgufValue => ({ type: GgufType.STRING, value });
const bool = (value: boolean): GgufValue => ({ type: GgufType.BOOL, value });

const SIZES = { embd: 64, layers: 2, heads: 4, ff: 128 } as const;
/** llama.cpp's LLAMA_FTYPE_MOSTLY_F16. */
const FILE_TYPE_F16 = 1;
/** llama.cpp's LLAMA_POOLING_TYPE_MEAN. */
const POOLING_MEAN = 1;

/** Every `tokenizer.*` KV of a vocab-only GGUF, in file order. */
async function tokenizerOf(vocabPath: string): Promise<Array<[string, GgufValue]>> {
  const header = await readGgufHeader(vocabPath, { arrayValues: true });
  return [...header.kv].filter(([k]) => k.startsWith('tokenizer.'));
}

function vocabSize(tok: ReadonlyArray<readonly [string, GgufValue]>): number {
  const tokens = tok.find(([k]) => k === 'tokenizer.ggml.tokens')?.[1];
  if (tokens?.type !== GgufType.ARRAY) throw new Error('the vocab file has no tokenizer.ggml.tokens');
  return tokens.length;
}

export async function writeTinyLlama(out: string, vocabPath: string, seed = 1234): Promise<void> {
  const { embd, layers, heads, ff } = SIZES;
  const tok = await tokenizerOf(vocabPath);
  const nVocab = vocabSize(tok);
  const kv: Array<[string, GgufValue]> = [
    ['general.architecture', str('llama')],
    ['general.name', str('tiny-llama-rand')],
    ['llama.context_length', u32(4096)],
    ['llama.embedding_length', u32(embd)],
    ['llama.block_count', u32(layers)],
    ['llama.feed_forward_length', u32(ff)],
    ['llama.attention.head_count', u32(heads)],
    ['llama.attention.head_count_kv', u32(heads)],
    ['llama.rope.dimension_count', u32(embd / heads)],
    ['llama.rope.freq_base', f32(10000)],
    ['llama.attention.layer_norm_rms_epsilon', f32(1e-5)],
    ['general.file_type', u32(FILE_TYPE_F16)],
    ...tok,
    ['llama.vocab_size', u32(nVocab)],
  ];
  const t = new RandomTensors(seed);
  t.add('token_embd.weight', [embd, nVocab]);
  t.add('output_norm.weight', [embd], 'ones');
  t.add('output.weight', [embd, nVocab]);
  for (let i = 0; i < layers; i++) {
    t.add(`blk.${i}.attn_norm.weight`, [embd], 'ones');
    t.add(`blk.${i}.attn_q.weight`, [embd, embd]);
    t.add(`blk.${i}.attn_k.weight`, [embd, embd]);
    t.add(`blk.${i}.attn_v.weight`, [embd, embd]);
    t.add(`blk.${i}.attn_output.weight`, [embd, embd]);
    t.add(`blk.${i}.ffn_norm.weight`, [embd], 'ones');
    t.add(`blk.${i}.ffn_gate.weight`, [embd, ff]);
    t.add(`blk.${i}.ffn_down.weight`, [ff, embd]);
    t.add(`blk.${i}.ffn_up.weight`, [embd, ff]);
  }
  writeGguf(out, kv, t.tensors);
}

export async function writeTinyBert(out: string, vocabPath: string, seed = 1235): Promise<void> {
  const { embd, layers, heads, ff } = SIZES;
  const nCtx = 512;
  const tok = await tokenizerOf(vocabPath);
  const has = (k: string) => tok.some(([key]) => key === k);
  const value = (k: string) => tok.find(([key]) => key === k)?.[1].value;
  // The bge vocab has no BOS/EOS; without them llama-server fails warm-up or answers /props with 500.
  if (!has('tokenizer.ggml.bos_token_id') && has('tokenizer.ggml.cls_token_id')) tok.push(['tokenizer.ggml.bos_token_id', u32(Number(value('tokenizer.ggml.cls_token_id')))]);
  if (!has('tokenizer.ggml.eos_token_id') && has('tokenizer.ggml.seperator_token_id')) tok.push(['tokenizer.ggml.eos_token_id', u32(Number(value('tokenizer.ggml.seperator_token_id')))]);
  const nVocab = vocabSize(tok);
  const nTypes = Number(value('tokenizer.ggml.token_type_count') ?? 2);
  const kv: Array<[string, GgufValue]> = [
    ['general.architecture', str('bert')],
    ['general.name', str('tiny-bert-rand')],
    ['bert.context_length', u32(nCtx)],
    ['bert.embedding_length', u32(embd)],
    ['bert.block_count', u32(layers)],
    ['bert.feed_forward_length', u32(ff)],
    ['bert.attention.head_count', u32(heads)],
    ['bert.attention.layer_norm_epsilon', f32(1e-12)],
    ['bert.attention.causal', bool(false)],
    ['bert.pooling_type', u32(POOLING_MEAN)],
    ['general.file_type', u32(FILE_TYPE_F16)],
    ...tok,
    ['bert.vocab_size', u32(nVocab)],
  ];
  const t = new RandomTensors(seed);
  t.add('token_embd.weight', [embd, nVocab]);
  // ggml's CPU add needs these two in f32.
  t.add('token_types.weight', [embd, nTypes], 'rand', true);
  t.add('position_embd.weight', [embd, nCtx], 'rand', true);
  t.add('token_embd_norm.weight', [embd], 'ones');
  t.add('token_embd_norm.bias', [embd], 'zeros');
  for (let i = 0; i < layers; i++) {
    for (const w of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) {
      t.add(`blk.${i}.${w}.weight`, [embd, embd]);
      t.add(`blk.${i}.${w}.bias`, [embd]);
    }
    t.add(`blk.${i}.attn_output_norm.weight`, [embd], 'ones');
    t.add(`blk.${i}.attn_output_norm.bias`, [embd], 'zeros');
    t.add(`blk.${i}.ffn_up.weight`, [embd, ff]);
    t.add(`blk.${i}.ffn_up.bias`, [ff]);
    t.add(`blk.${i}.ffn_down.weight`, [ff, embd]);
    t.add(`blk.${i}.ffn_down.bias`, [embd]);
    t.add(`blk.${i}.layer_output_norm.weight`, [embd], 'ones');
    t.add(`blk.${i}.layer_output_norm.bias`, [embd], 'zeros');
  }
  writeGguf(out, kv, t.tensors);
}

/** The vocab-only GGUFs of the llama.cpp source tree the tokenizers are copied from (llama, bert). */
export const VOCABS = ['ggml-vocab-llama-spm.gguf', 'ggml-vocab-bert-bge.gguf'] as const;

export const TINY_LLAMA = 'tiny-llama-rand';
export const TINY_BERT = 'tiny-bert-rand';

/**
 * Writes both tiny models into `dir` (once: they are the same bytes every time)
 * from the vocab files in `vocabDir`, and returns their paths. Each file is
 * written under a temporary name and renamed, so a concurrent test never reads
 * half a model.
 */
export async function tinyModels(dir: string, vocabDir: string): Promise<{ llama: string; bert: string }> {
  mkdirSync(dir, { recursive: true });
  const llama = join(dir, `${TINY_LLAMA}.gguf`);
  const bert = join(dir, `${TINY_BERT}.gguf`);
  const make = async (path: string, write: (out: string) => Promise<void>) => {
    if (existsSync(path)) return;
    const tmp = `${path}.${process.pid}.tmp`;
    await write(tmp);
    renameSync(tmp, path);
  };
  await make(llama, (out) => writeTinyLlama(out, join(vocabDir, VOCABS[0])));
  await make(bert, (out) => writeTinyBert(out, join(vocabDir, VOCABS[1])));
  return { llama, bert };
}

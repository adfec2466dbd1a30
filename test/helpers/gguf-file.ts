/**
 * Writes GGUF headers for tests: magic, version 3, a tensor count, and typed KV
 * pairs (no tensor infos or data: the reader under test stops after the KVs).
 */
import { GgufType } from '../../src/runners/gguf.js';

export type KvEntry =
  | { key: string; type: Exclude<GgufType, GgufType.ARRAY | GgufType.STRING>; value: number | boolean }
  | { key: string; type: GgufType.STRING; value: string }
  | { key: string; type: GgufType.ARRAY; itemType: GgufType; items: Array<number | string> };

function str(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([len, bytes]);
}

function scalar(type: GgufType, v: number | boolean | string): Buffer {
  if (type === GgufType.STRING) return str(String(v));
  const b = Buffer.alloc({ 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 }[type as number] ?? 0);
  switch (type) {
    case GgufType.UINT8: b.writeUInt8(Number(v)); break;
    case GgufType.INT8: b.writeInt8(Number(v)); break;
    case GgufType.UINT16: b.writeUInt16LE(Number(v)); break;
    case GgufType.INT16: b.writeInt16LE(Number(v)); break;
    case GgufType.UINT32: b.writeUInt32LE(Number(v)); break;
    case GgufType.INT32: b.writeInt32LE(Number(v)); break;
    case GgufType.FLOAT32: b.writeFloatLE(Number(v)); break;
    case GgufType.BOOL: b.writeUInt8(v ? 1 : 0); break;
    case GgufType.UINT64: b.writeBigUInt64LE(BigInt(v as number)); break;
    case GgufType.INT64: b.writeBigInt64LE(BigInt(v as number)); break;
    case GgufType.FLOAT64: b.writeDoubleLE(Number(v)); break;
    default: throw new Error(`type ${type}`);
  }
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

export function ggufBytes(entries: KvEntry[], tensorCount = 0): Buffer {
  const parts: Buffer[] = [Buffer.from('GGUF', 'latin1'), u32(3), u64(tensorCount), u64(entries.length)];
  for (const e of entries) {
    parts.push(str(e.key), u32(e.type));
    if (e.type === GgufType.ARRAY) {
      parts.push(u32(e.itemType), u64(e.items.length));
      for (const item of e.items) parts.push(scalar(e.itemType, item));
    } else parts.push(scalar(e.type, e.value));
  }
  return Buffer.concat(parts);
}

/** A llama-architecture header with a vocabulary of `vocab` token strings, as real models carry. */
export function llamaHeader(opts: { layers: number; embedding: number; heads: number; kvHeads?: number | number[]; vocab?: number; extra?: KvEntry[] }): Buffer {
  const entries: KvEntry[] = [
    { key: 'general.architecture', type: GgufType.STRING, value: 'llama' },
    { key: 'llama.block_count', type: GgufType.UINT32, value: opts.layers },
    { key: 'llama.embedding_length', type: GgufType.UINT32, value: opts.embedding },
    { key: 'llama.attention.head_count', type: GgufType.UINT32, value: opts.heads },
  ];
  if (Array.isArray(opts.kvHeads)) entries.push({ key: 'llama.attention.head_count_kv', type: GgufType.ARRAY, itemType: GgufType.INT32, items: opts.kvHeads });
  else if (opts.kvHeads !== undefined) entries.push({ key: 'llama.attention.head_count_kv', type: GgufType.UINT32, value: opts.kvHeads });
  const vocab = opts.vocab ?? 0;
  entries.push({ key: 'tokenizer.ggml.tokens', type: GgufType.ARRAY, itemType: GgufType.STRING, items: Array.from({ length: vocab }, (_, i) => `token-${i}`) });
  entries.push(...(opts.extra ?? []));
  return ggufBytes(entries);
}

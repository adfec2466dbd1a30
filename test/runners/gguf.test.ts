import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GgmlType,
  GgufError,
  GgufType,
  readGgufHeader,
  type GgufValue,
} from '../../src/runners/gguf.js';
import { writeGguf, type TensorToWrite } from '../helpers/gguf-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'rm-gguf-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `m${n++}.gguf`);

const u32 = (value: number): GgufValue => ({ type: GgufType.UINT32, value });
const str = (value: string): GgufValue => ({ type: GgufType.STRING, value });
const f16 = (name: string, dims: number[]): TensorToWrite => ({ name, dims, type: GgmlType.F16, data: Buffer.alloc(dims.reduce((a, b) => a * b, 2)) });

/** A llama-shaped head: what the KV-cache size is read from. */
function llamaKv(extra: Array<[string, GgufValue]> = []): Array<[string, GgufValue]> {
  return [
    ['general.architecture', str('llama')],
    ['llama.context_length', u32(4096)],
    ['llama.embedding_length', u32(64)],
    ['llama.block_count', u32(2)],
    ['llama.attention.head_count', u32(4)],
    ...extra,
  ];
}

test('every value type reads back as written, in file order, with the tensor infos and the data offset', async () => {
  const path = fresh();
  const kv: Array<[string, GgufValue]> = [
    ['u8', { type: GgufType.UINT8, value: 250 }],
    ['i8', { type: GgufType.INT8, value: -5 }],
    ['u16', { type: GgufType.UINT16, value: 65000 }],
    ['i16', { type: GgufType.INT16, value: -32000 }],
    ['u32', u32(4_000_000_000)],
    ['i32', { type: GgufType.INT32, value: -2_000_000_000 }],
    ['f32', { type: GgufType.FLOAT32, value: 0.5 }],
    ['bool', { type: GgufType.BOOL, value: true }],
    ['str', str('héllo')],
    ['u64', { type: GgufType.UINT64, value: 2 ** 40 }],
    ['u64big', { type: GgufType.UINT64, value: 2n ** 63n }],
    ['i64', { type: GgufType.INT64, value: -(2 ** 40) }],
    ['f64', { type: GgufType.FLOAT64, value: 1e-300 }],
    ['tokens', { type: GgufType.ARRAY, itemType: GgufType.STRING, length: 3, value: ['<unk>', '<s>', '</s>'] }],
    ['scores', { type: GgufType.ARRAY, itemType: GgufType.FLOAT32, length: 2, value: [0.25, -1] }],
  ];
  writeGguf(path, kv, [f16('a', [64, 3]), { name: 'b', dims: [5], type: GgmlType.F32, data: Buffer.alloc(20) }]);
  const h = await readGgufHeader(path, { arrayValues: true });
  assert.equal(h.version, 3);
  assert.deepEqual([...h.kv], kv);
  assert.deepEqual(h.tensors, [
    { name: 'a', dims: [64, 3], type: GgmlType.F16, offset: 0 },
    { name: 'b', dims: [5], type: GgmlType.F32, offset: 384 },
  ]);
  assert.equal(h.alignment, 32);
  assert.equal(h.dataOffset % 32, 0);
  assert.equal(readFileSync(path).length, h.dataOffset + 384 + 32, 'the data section follows the head');
});

test('without arrayValues, arrays give their type and length, and what follows them is still read right', async () => {
  const path = fresh();
  const tokens = Array.from({ length: 5000 }, (_, i) => `token-${i}`);
  writeGguf(
    path,
    llamaKv([
      ['tokenizer.ggml.tokens', { type: GgufType.ARRAY, itemType: GgufType.STRING, length: tokens.length, value: tokens }],
      ['tokenizer.ggml.token_type', { type: GgufType.ARRAY, itemType: GgufType.INT32, length: 3, value: [1, 2, 3] }],
      ['after', str('still here')],
    ]),
    [f16('token_embd.weight', [64, 10])],
  );
  const h = await readGgufHeader(path);
  assert.deepEqual(h.kv.get('tokenizer.ggml.tokens'), { type: GgufType.ARRAY, itemType: GgufType.STRING, length: 5000, value: undefined });
  assert.deepEqual(h.kv.get('after'), str('still here'));
  // Short numeric arrays (per-layer values such as head_count_kv) are read all the same.
  assert.deepEqual(h.kv.get('tokenizer.ggml.token_type'), { type: GgufType.ARRAY, itemType: GgufType.INT32, length: 3, value: [1, 2, 3] });
  assert.deepEqual(h.tensors.map((t) => t.name), ['token_embd.weight']);
});

/** A valid head, then the bytes at `at` overwritten. */
function corrupt(patch: (b: Buffer) => Buffer): string {
  const path = fresh();
  writeGguf(path, llamaKv([['x', str('abcdef')]]), [f16('t', [64, 2])]);
  writeFileSync(path, patch(readFileSync(path)));
  return path;
}

/** Byte offset of the first occurrence of `text` in the file. */
const offsetOf = (b: Buffer, text: string) => b.indexOf(Buffer.from(text));

test('broken files fail with a GgufError that names the file, the byte and what was wrong, without huge allocations', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['not GGUF', corrupt((b) => Buffer.concat([Buffer.from('PK\u0003\u0004'), b.subarray(4)])), /not a GGUF file \(starts with "PK/],
    ['version 1', corrupt((b) => (b.writeUInt32LE(1, 4), b)), /at byte 4: GGUF version 1 is not supported/],
    ['truncated', corrupt((b) => b.subarray(0, offsetOf(b, 'abcdef') + 2)), /the file ends inside the value of x/],
    ['empty', corrupt(() => Buffer.alloc(0)), /the file ends inside the magic/],
    [
      'a string length of 2^60',
      corrupt((b) => (b.writeBigUInt64LE(2n ** 60n, offsetOf(b, 'abcdef') - 8), b)),
      /the length of the value of x is 1152921504606846976, more than the limit/,
    ],
    ['a KV count of 2^40', corrupt((b) => (b.writeBigUInt64LE(2n ** 40n, 16), b)), /at byte 16: the key-value count is 1099511627776, more than the limit/],
    ['an unknown value type', corrupt((b) => (b.writeUInt32LE(77, offsetOf(b, 'abcdef') - 12), b)), /the type of x is 77, not a GGUF value type/],
    [
      'a tensor of 5 dimensions',
      corrupt((b) => {
        const at = b.lastIndexOf(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x74])) + 9; // the name "t", then n_dims
        b.writeUInt32LE(5, at);
        return b;
      }),
      /tensor t has 5 dimensions/,
    ],
  ];
  for (const [what, path, message] of cases) {
    await t.test(what, async () => {
      await assert.rejects(readGgufHeader(path), (err: Error) => {
        assert.ok(err instanceof GgufError, `${err}`);
        assert.match(err.message, message);
        assert.ok(err.message.startsWith(path), err.message);
        return true;
      });
    });
  }
});

test('a key written twice is an error, and so is a head longer than maxHeadBytes', async () => {
  const twice = fresh();
  writeGguf(twice, [['k', str('a')], ['k', str('b')]], []);
  await assert.rejects(readGgufHeader(twice), /key k appears twice/);
  const long = fresh();
  writeGguf(long, [['big', { type: GgufType.ARRAY, itemType: GgufType.UINT8, length: 100_000, value: new Array(100_000).fill(1) }]], []);
  await assert.rejects(readGgufHeader(long, { maxHeadBytes: 10_000 }), /the items of big would end past the 10000-byte limit/);
  await assert.rejects(readGgufHeader(long, { maxHeadBytes: 10_000, arrayValues: true }), /past the 10000-byte limit/);
  assert.equal((await readGgufHeader(long)).kv.get('big')?.type, GgufType.ARRAY);
});

/**
 * The GGUF header reader and the KV bytes per token it leads to: written
 * headers (a GQA model, per-layer KV heads, a vocabulary larger than the read
 * buffer, truncated and foreign files), and the real tiny test models when this
 * machine has them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgufError, GgufType, ggufNumber, ggufPerLayer, ggufString, readGgufHeader, type GgufHeader } from '../../src/runners/gguf.js';
import { kvBytesPerToken, kvShape, type KvShape } from '../../src/runners/llamacpp.js';
import { ggufBytes, llamaHeader } from '../helpers/gguf-file.js';
import { realLlamaServer } from '../helpers/real-llama-server.js';

const dir = mkdtempSync(join(tmpdir(), 'rm-gguf-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function lookup(h: GgufHeader) {
  return {
    number: (k: string) => ggufNumber(h, k),
    string: (k: string) => ggufString(h, k),
    perLayer: (k: string, n: number) => ggufPerLayer(h, k, n),
    has: (k: string) => h.kv.has(k),
  };
}

async function shapeOf(path: string): Promise<KvShape> {
  const shape = kvShape(lookup(await readGgufHeader(path)));
  assert.equal(typeof shape, 'object', String(shape));
  return shape as KvShape;
}

test('a GQA model behind a 100k-token vocabulary: keys after the vocabulary are read, the vocabulary is not kept', async () => {
  // Llama-3-8B's shape: 32 layers, n_embd 4096, 32 heads, 8 KV heads; its vocabulary is 128k tokens.
  const path = write('gqa.gguf', llamaHeader({ layers: 32, embedding: 4096, heads: 32, kvHeads: 8, vocab: 100_000, extra: [{ key: 'after.vocab', type: GgufType.UINT32, value: 7 }] }));
  const header = await readGgufHeader(path);
  assert.equal(header.version, 3);
  assert.equal(ggufNumber(header, 'after.vocab'), 7);
  const tokens = header.kv.get('tokenizer.ggml.tokens');
  assert.deepEqual(tokens, { type: GgufType.ARRAY, itemType: GgufType.STRING, length: 100_000, value: undefined });
  const shape = await shapeOf(path);
  // head size 4096 / 32 = 128; per layer K and V rows of 8 × 128 elements; f16 = 2 bytes:
  // 32 × 8 × (128 + 128) × 2 = 131,072 bytes per token (llama.cpp: 128 KiB per cell for this model).
  assert.equal(kvBytesPerToken(shape), 131_072);
  assert.equal(kvBytesPerToken(shape, 'f16', 'f16'), 131_072);
  // q8_0 stores 32 elements in 34 bytes: 32 × 8 × 256 × 34/32 = 69,632.
  assert.equal(kvBytesPerToken(shape, 'q8_0', 'q8_0'), 69_632);
  // K in q4_0 (18/32), V in f16: 32 × 8 × 128 × (18/32 + 2) = 83,968.
  assert.equal(kvBytesPerToken(shape, 'q4_0', 'f16'), 83_968);
  assert.equal(kvBytesPerToken(shape, 'no-such-type', 'f16'), undefined);
});

test('per-layer KV heads (an array), and no head_count_kv at all (= head_count)', async () => {
  const perLayer = await shapeOf(write('per-layer.gguf', llamaHeader({ layers: 3, embedding: 64, heads: 4, kvHeads: [4, 2, 0] })));
  // head size 16: (4 + 2 + 0) × (16 + 16) × 2 = 384.
  assert.deepEqual(perLayer.kvHeads, [4, 2, 0]);
  assert.equal(kvBytesPerToken(perLayer), 384);
  const plain = await shapeOf(write('mha.gguf', llamaHeader({ layers: 2, embedding: 64, heads: 4 })));
  assert.equal(kvBytesPerToken(plain), 2 * 4 * 32 * 2);
});

test('models without a per-token KV cache give a reason, not a figure', async () => {
  const bert = ggufBytes([{ key: 'general.architecture', type: GgufType.STRING, value: 'bert' }]);
  assert.match(String(kvShape(lookup(await readGgufHeader(write('bert.gguf', bert))))), /no KV cache/);
  const mamba = llamaHeader({ layers: 2, embedding: 64, heads: 4, extra: [{ key: 'llama.ssm.state_size', type: GgufType.UINT32, value: 16 }] });
  assert.match(String(kvShape(lookup(await readGgufHeader(write('ssm.gguf', mamba))))), /SSM/);
  const noLayers = ggufBytes([{ key: 'general.architecture', type: GgufType.STRING, value: 'llama' }]);
  assert.match(String(kvShape(lookup(await readGgufHeader(write('bare.gguf', noLayers))))), /block_count/);
});

test('not GGUF, cut short, or a header beyond the limit: a GgufError, never a hang or a huge read', async () => {
  await assert.rejects(readGgufHeader(write('text.gguf', Buffer.from('not a model file at all, just text'))), GgufError);
  const whole = llamaHeader({ layers: 2, embedding: 64, heads: 4, vocab: 1000 });
  await assert.rejects(readGgufHeader(write('cut.gguf', whole.subarray(0, whole.length - 5))), /ends inside/);
  await assert.rejects(readGgufHeader(write('big.gguf', whole), { maxHeadBytes: 4096 }), /4096-byte limit/);
  // A count no real header has is refused before anything is read for it.
  const bogus = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(8), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]);
  await assert.rejects(readGgufHeader(write('bogus.gguf', bogus)), GgufError);
});

// The tiny models a real llama-server loads, as our GGUF writer makes them (test/helpers/real-llama-server.ts).
const kit = await realLlamaServer();
test('the real tiny models: llama 512 bytes per token, bert none', { skip: typeof kit === 'string' && kit }, async () => {
  if (typeof kit === 'string') return;
  const llama = await readGgufHeader(kit.models.llama);
  assert.equal(ggufString(llama, 'general.architecture'), 'llama');
  assert.equal((llama.kv.get('tokenizer.ggml.tokens') as { length: number }).length, 32_000);
  const shape = kvShape(lookup(llama)) as KvShape;
  // 2 layers × 4 KV heads × (16 + 16) × 2 bytes = 512 bytes per token; 4096 cells = 2 MiB, as llama-server logs it.
  assert.equal(kvBytesPerToken(shape), 512);
  const bert = await readGgufHeader(kit.models.bert);
  assert.match(String(kvShape(lookup(bert))), /bert models have no KV cache/);
});

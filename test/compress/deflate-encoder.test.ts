/** DeflateEncoder writes deflate streams that zlib reads back, as small as zlib's level 5 on encoded pushes. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DeflateEncoder } from '../../src/compress/deflate-encoder.js';
import { encodedBody, mixedBytes } from './records.js';


function compress(input: Uint8Array, writes = 1, anchors?: Int32Array): Uint8Array {
  const encoder = new DeflateEncoder();
  const step = Math.max(1, Math.ceil(input.length / writes));
  for (let at = 0; at < input.length; at += step) {
    const end = Math.min(input.length, at + step);
    let part: Int32Array | undefined;
    if (anchors) {
      const own: number[] = [];
      for (let i = 0; i < anchors.length; i += 2) if (anchors[i]! >= at && anchors[i]! < end) own.push(anchors[i]! - at, anchors[i + 1]!);
      part = Int32Array.from(own);
    }
    encoder.write(input.subarray(at, end), part);
  }
  return encoder.finish();
}

/**
 * Records whose twin (same key) lies 64 records back, each carrying its key as
 * six bits spread over its bytes: a nearer record differs in a bit or two, so
 * the matches a search finds from a few bytes break at every differing bit;
 * only the anchor names the record that matches whole.
 */
function twinRecords(count: number): { bytes: Buffer; anchors: Int32Array } {
  const common = Buffer.from('resource_metrics{scope="llamacpp",backend="llama.cpp",model="ai/model",mode="completion"}');
  const parts: Buffer[] = [];
  const anchors: number[] = [];
  let offset = 0;
  for (let r = 0; r < count; r++) {
    const key = r % 64;
    const fields: Buffer[] = [];
    for (let bit = 0; bit < 6; bit++) fields.push(common.subarray(bit * 14, bit * 14 + 14), Buffer.from([(key >> bit) & 1]));
    fields.push(randomBytes(2));
    const record = Buffer.concat(fields);
    anchors.push(offset, key);
    parts.push(record);
    offset += record.length;
  }
  return { bytes: Buffer.concat(parts), anchors: Int32Array.from(anchors) };
}

describe('DeflateEncoder', () => {
  for (const [label, input, writes] of [
    ['nothing', Buffer.alloc(0), 1],
    ['one byte', Buffer.from([7]), 1],
    ['300 KB of random bytes', randomBytes(300_000), 3],
    ['3 MB of zeros (the longest matches, the window sliding)', Buffer.alloc(3_000_000), 2],
    ['2.5 MB mixed, in 7 writes across window slides', mixedBytes(2_500_000, 1), 7],
    ['40 KB mixed, a byte per write', mixedBytes(40_000, 2), 40_000],
  ] as const) {
    it(`round trip through zlib: ${label}`, () => {
      assert.deepEqual(inflateRawSync(compress(input, writes)), input);
    });
  }

  it('an encoder reset starts a new stream', () => {
    const encoder = new DeflateEncoder();
    encoder.write(mixedBytes(100_000, 4));
    encoder.finish();
    encoder.reset();
    const second = mixedBytes(200_000, 5);
    encoder.write(second);
    assert.deepEqual(inflateRawSync(encoder.finish()), second);
  });

  it('wrong anchors cost nothing but time: the stream still decodes', () => {
    const input = mixedBytes(500_000, 6);
    const anchors = new Int32Array(20_000);
    for (let i = 0; i < anchors.length; i += 2) {
      anchors[i] = Math.floor((i / anchors.length) * input.length);
      anchors[i + 1] = i % 7 === 0 ? -5 : (i * 2654435761) | 0; // negative and colliding keys too
    }
    assert.deepEqual(inflateRawSync(compress(input, 5, anchors)), input);
  });

  it('anchors find the twin that no hash candidate reaches', () => {
    const { bytes, anchors } = twinRecords(5000);
    const anchored = compress(bytes, 3, anchors);
    const plain = compress(bytes, 3);
    assert.deepEqual(inflateRawSync(anchored), bytes);
    assert.ok(anchored.length < plain.length * 0.9, `anchored ${anchored.length} B, without anchors ${plain.length} B`);
  });

  it('an encoded push, anchored as ProtoEncoder does, compresses as small as zlib level 5 (within 3 %)', () => {
    const body = encodedBody(10, 45, 20);
    const ours = compress(body.bytes, 4, body.anchors);
    const zlib5 = deflateRawSync(body.bytes, { level: 5 });
    assert.deepEqual(inflateRawSync(ours), body.bytes);
    assert.ok(ours.length <= zlib5.length * 1.03, `ours ${ours.length} B, zlib level 5 ${zlib5.length} B`);
    assert.ok(ours.length / body.points < 7, `${(ours.length / body.points).toFixed(2)} B per point`);
  });
});

/** ParallelGzip writes one standard gzip member, whatever the pieces: any gzip reader gets the input back. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { crc32Combine, ParallelGzip } from '../../../src/exporters/otlphttp/parallel-gzip.js';

/** Compressible and incompressible stretches, as an encoded push has both. */
function sample(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; ) {
    const run = Math.min(size - i, 1 + ((seed * 7919 + i) % 300));
    if ((seed + i) % 3 === 0) randomBytes(run).copy(out, i);
    else out.fill(`series{slot="${i % 17}"} `, i, i + run);
    i += run;
  }
  return out;
}

describe('ParallelGzip', () => {
  for (const [size, chunk, writes] of [
    [0, 1024, 1],
    [1, 1024, 1],
    [5000, 1024, 7],
    [300_000, 4096, 13],
    [2_500_000, 1 << 20, 5],
    [70_000, 65_536, 70_000], // one byte per write: pieces end at every chunk boundary exactly
  ] as const) {
    it(`${size} bytes in ${writes} writes, pieces of ${chunk}: one gzip member with the input's CRC and size`, async () => {
      const input = sample(size, size + chunk);
      const gz = new ParallelGzip(6, chunk);
      const step = Math.max(1, Math.ceil(size / writes));
      for (let at = 0; at < size; at += step) gz.write(input.subarray(at, at + step));
      const body = await gz.end();
      assert.deepEqual(gunzipSync(body), input);
      // One member: header, one raw deflate stream to the end, trailer.
      assert.deepEqual([...body.subarray(0, 4)], [0x1f, 0x8b, 8, 0]);
      assert.deepEqual(inflateRawSync(body.subarray(10, body.length - 8)), input);
      assert.equal(body.readUInt32LE(body.length - 8), crc32(input));
      assert.equal(body.readUInt32LE(body.length - 4), size);
    });
  }

  it('compresses about as well as one gzip call', async () => {
    const input = sample(3_000_000, 3);
    const gz = new ParallelGzip(6, 1 << 20);
    gz.write(input);
    const body = await gz.end();
    const { gzipSync } = await import('node:zlib');
    assert.ok(body.length <= gzipSync(input).length * 1.01, `${body.length} vs ${gzipSync(input).length}`);
  });
});

describe('crc32Combine', () => {
  it('gives the CRC-32 of the concatenation', () => {
    for (const [a, b] of [
      [0, 0],
      [0, 5],
      [5, 0],
      [1, 1],
      [13, 1000],
      [65_536, 65_537],
      [100_000, 3],
    ] as const) {
      const x = randomBytes(a);
      const y = randomBytes(b);
      assert.equal(crc32Combine(crc32(x), crc32(y), b), crc32(Buffer.concat([x, y])), `${a} + ${b}`);
    }
  });
});

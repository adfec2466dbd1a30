/** ParallelGzip writes one standard gzip member, whatever the pieces: any gzip reader gets the input back. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { ParallelGzip } from '../../../src/exporters/otlphttp/parallel-gzip.js';
import { mixedBytes } from '../../compress/records.js';


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
      const input = mixedBytes(size, size + chunk);
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

  it('copies what it is given: the writer may reuse its buffer at once, and bodies compressed side by side keep apart', async () => {
    // Chunk buffers are pooled and lent again once zlib has read them; a piece still
    // being compressed must never be overwritten, by this body or another one.
    const inputs = [mixedBytes(900_000, 11), mixedBytes(700_000, 12)];
    const bodies = [new ParallelGzip(1, 65_536), new ParallelGzip(1, 65_536)];
    const scratch = Buffer.alloc(10_000);
    for (let at = 0; at < 900_000; at += scratch.length) {
      for (let b = 0; b < 2; b++) {
        const part = inputs[b]!.subarray(at, at + scratch.length);
        if (part.length === 0) continue;
        part.copy(scratch);
        bodies[b]!.write(scratch.subarray(0, part.length));
        scratch.fill(0xee); // what a reused encoder buffer would do to the bytes just written
      }
    }
    const [first, second] = await Promise.all(bodies.map((b) => b.end()));
    assert.deepEqual(gunzipSync(first!), inputs[0]);
    assert.deepEqual(gunzipSync(second!), inputs[1]);
  });

  it('starts each piece with the window before it: what repeats across pieces compresses as in one stream', async () => {
    // 20 KB of noise, over and over: one stream stores it once; pieces that each
    // started afresh would store it once per piece (16 pieces here).
    const noise = randomBytes(20_000);
    const repeated = Buffer.concat(Array.from({ length: 50 }, () => noise));
    const gz = new ParallelGzip(6, 65_536);
    gz.write(repeated);
    const body = await gz.end();
    assert.deepEqual(gunzipSync(body), repeated);
    const single = gzipSync(repeated).length;
    assert.ok(body.length <= single * 1.1, `${body.length} bytes against ${single} in one stream`);
  });

  it('compresses about as well as one gzip call', async () => {
    const input = mixedBytes(3_000_000, 3);
    const gz = new ParallelGzip(6, 1 << 20);
    gz.write(input);
    const body = await gz.end();
    assert.ok(body.length <= gzipSync(input).length * 1.01, `${body.length} vs ${gzipSync(input).length}`);
  });
});

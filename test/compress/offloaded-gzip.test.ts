/** OffloadedGzip: one standard gzip member per body, compressed on the deflate thread; a thread that dies fails only what it held. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { OffloadedGzip, stopDeflateThread } from '../../src/compress/offloaded-gzip.js';
import { encodedBody } from './records.js';

/** Writes `bytes` in `writes` parts, each with its own anchors, as the request builder does per resource. */
function writeAll(gzip: OffloadedGzip, bytes: Buffer, anchors: Int32Array, writes: number): void {
  const step = Math.max(1, Math.ceil(bytes.length / writes));
  for (let at = 0; at < bytes.length; at += step) {
    const end = Math.min(bytes.length, at + step);
    const own: number[] = [];
    for (let i = 0; i < anchors.length; i += 2) if (anchors[i]! >= at && anchors[i]! < end) own.push(anchors[i]! - at, anchors[i + 1]!);
    gzip.write(bytes.subarray(at, end), Int32Array.from(own));
  }
}

describe('OffloadedGzip', () => {
  for (const [runners, writes, chunk] of [
    [0, 1, 1 << 20],
    [1, 1, 1 << 20],
    [12, 12, 1 << 20],
    [12, 50, 65_536], // chunks end inside writes and anchors fall on both sides of a chunk's end
  ] as const) {
    it(`${runners} runners in ${writes} writes, chunks of ${chunk}: one gzip member with the input's CRC and size`, async () => {
      const body = runners > 0 ? encodedBody(runners, 20, 30) : { bytes: Buffer.alloc(0), anchors: new Int32Array(0) };
      const gzip = new OffloadedGzip(chunk);
      writeAll(gzip, body.bytes, body.anchors, writes);
      const out = await gzip.end();
      assert.deepEqual(gunzipSync(out), body.bytes);
      assert.deepEqual([...out.subarray(0, 4)], [0x1f, 0x8b, 8, 0]);
      assert.deepEqual(inflateRawSync(out.subarray(10, out.length - 8)), body.bytes);
      assert.equal(out.readUInt32LE(out.length - 8), crc32(body.bytes));
      assert.equal(out.readUInt32LE(out.length - 4), body.bytes.length);
    });
  }

  it('bodies written at the same time, interleaved, come back each whole', async () => {
    const inputs = [encodedBody(6, 10, 20), encodedBody(3, 30, 8), encodedBody(9, 5, 40)];
    const gzips = inputs.map(() => new OffloadedGzip(32_768));
    for (let part = 0; part < 8; part++) {
      inputs.forEach((input, i) => {
        const step = Math.ceil(input.bytes.length / 8);
        gzips[i]!.write(input.bytes.subarray(part * step, (part + 1) * step));
      });
    }
    const bodies = await Promise.all(gzips.map((g) => g.end()));
    bodies.forEach((body, i) => assert.deepEqual(gunzipSync(body), inputs[i]!.bytes));
  });

  it('a thread that dies fails the bodies it held, with the reason; the next body gets a new thread', async () => {
    const input = encodedBody(4, 10, 20);
    const held = new OffloadedGzip(65_536);
    held.write(input.bytes);
    await stopDeflateThread();
    await assert.rejects(held.end(), /deflate thread was stopped/);
    const next = new OffloadedGzip(65_536);
    writeAll(next, input.bytes, input.anchors, 3);
    assert.deepEqual(gunzipSync(await next.end()), input.bytes);
  });
});

/**
 * One gzip member compressed in pieces on libuv's thread pool, while the caller
 * keeps encoding: the way pigz compresses.
 *
 * Compressing a whole push (megabytes of protobuf or JSON) with one gzip call
 * takes one core for longer than encoding it does, and only starts once the
 * encoding is done. Here every `chunkBytes` of input is handed to the thread
 * pool as soon as it is written, as raw deflate that ends on a byte boundary
 * (Z_SYNC_FLUSH: an empty stored block, no final bit); the last piece ends the
 * stream (Z_FINISH). Pieces of deflate data so ended can be concatenated into one
 * valid deflate stream, wrapped in one gzip header and trailer (CRC-32 and size of
 * the whole input), so any gzip reader decodes the body, not only those that
 * accept several members. Each piece starts without the previous one's window,
 * which costs a few bytes per piece, nothing per point.
 *
 * The CRC-32 is computed on the thread pool too (a level-0 gzip of the piece:
 * a copy, and its trailer holds the piece's CRC), and the pieces' CRCs are
 * combined here as zlib's crc32_combine does: on the event loop, a CRC of
 * megabytes costs more than encoding them.
 */
import { constants, deflateRaw, gzip } from 'node:zlib';

/** ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix), as zlib writes it. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

export class ParallelGzip {
  private readonly pieces: Promise<Buffer>[] = [];
  private readonly crcs: Promise<number>[] = [];
  private readonly sizes: number[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private size = 0;

  constructor(
    private readonly level: number,
    private readonly chunkBytes: number,
  ) {}

  /** Adds bytes to the body; `data` must not change afterwards (it may be compressed later). */
  write(data: Buffer): void {
    if (data.length === 0) return;
    this.size += data.length;
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= this.chunkBytes) this.compressPending(constants.Z_SYNC_FLUSH);
  }

  /** The gzip body of everything written. */
  async end(): Promise<Buffer> {
    this.compressPending(constants.Z_FINISH);
    const pieces = await Promise.all(this.pieces);
    const crcs = await Promise.all(this.crcs);
    let crc = 0;
    for (let i = 0; i < crcs.length; i++) crc = crc32Combine(crc, crcs[i]!, this.sizes[i]!);
    const trailer = Buffer.allocUnsafe(8);
    trailer.writeUInt32LE(crc, 0);
    trailer.writeUInt32LE(this.size % 0x1_0000_0000, 4); // ISIZE: the size modulo 2^32
    return Buffer.concat([GZIP_HEADER, ...pieces, trailer]);
  }

  private compressPending(flush: number): void {
    const input = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    // One output buffer that holds the whole result: with zlib's default 16 KiB, the pool
    // thread comes back to the event loop for every 16 KiB it writes (a callback, a copy,
    // the next write), which cost the main thread more than the encoding.
    const chunkSize = outputBound(input.length);
    const piece = new Promise<Buffer>((resolve, reject) => {
      deflateRaw(input, { level: this.level, finishFlush: flush, chunkSize }, (error, out) => (error ? reject(error) : resolve(out)));
    });
    const crc = new Promise<number>((resolve, reject) => {
      gzip(input, { level: 0, chunkSize }, (error, out) => (error ? reject(error) : resolve(out.readUInt32LE(out.length - 8))));
    });
    // A failure is reported by end(); until end() awaits it, it must not count as unhandled.
    piece.catch(() => undefined);
    crc.catch(() => undefined);
    this.pieces.push(piece);
    this.crcs.push(crc);
    this.sizes.push(input.length);
  }
}

/** At least the deflate (or stored) size of `n` input bytes, with room for headers. */
function outputBound(n: number): number {
  return Math.max(64 * 1024, n + (n >> 7) + 1024);
}

/**
 * The CRC-32 of A followed by B from crc(A), crc(B) and B's length: zlib's
 * crc32_combine (multiplication by x^(8·len) in GF(2), by repeated squaring of
 * the one-zero-bit operator).
 */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the CRC-32 polynomial: the operator for one zero bit
  let row = 1;
  for (let n = 1; n < 32; n++) {
    odd[n] = row;
    row = (row << 1) >>> 0;
  }
  square(even, odd); // two zero bits
  square(odd, even); // four zero bits
  let crc = crc1 >>> 0;
  let len = len2;
  for (;;) {
    square(even, odd); // apply len's bits, from one zero byte upwards
    if (len % 2 === 1) crc = times(even, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
    square(odd, even);
    if (len % 2 === 1) crc = times(odd, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
  }
  return (crc ^ crc2) >>> 0;
}

function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0; vector !== 0; i++, vector >>>= 1) if (vector & 1) sum ^= matrix[i]!;
  return sum >>> 0;
}

function square(out: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n++) out[n] = times(matrix, matrix[n]!);
}

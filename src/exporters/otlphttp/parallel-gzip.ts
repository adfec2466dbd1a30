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
 * accept several members. Each piece starts with the last 32 KiB of the input
 * before it as its dictionary (as pigz does), so it finds the matches a single
 * stream would; zlib copies the dictionary when the piece is queued.
 *
 * Input is copied into fixed chunk buffers lent by a pool and given back when
 * their piece is compressed, and zlib writes each piece into an output buffer
 * sized for compressed data: a push of 14 MB made about 70 MB of short-lived
 * off-heap buffers before (the encoder's, the joined pieces, zlib's outputs sized
 * for the worst case), whose collection took a sixth of the push's CPU.
 */
import { constants, crc32, deflateRaw } from 'node:zlib';
import { BufferPool } from '../../net/buffer-pool.js';

/** ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix), as zlib writes it. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

/**
 * zlib's output buffer per piece: a megabyte of encoded metrics deflates to
 * 30–60 KB, so one buffer takes a compressible piece whole; an incompressible
 * piece comes back in several (a callback each), which costs little beside the
 * deflate of that megabyte.
 */
const OUTPUT_CHUNK_BYTES = 128 * 1024;

/** deflate's window: matches reach at most this far back. */
const WINDOW_BYTES = 32 * 1024;

/** Input chunks kept between pushes: the few that are in flight at once; more are made when needed. */
const CHUNKS = new BufferPool(4 * 1024 * 1024, 64 * 1024);

export class ParallelGzip {
  private readonly pieces: Promise<Buffer>[] = [];
  private chunk: Buffer | undefined;
  private filled = 0;
  private size = 0;
  private crc = 0;
  /** The last 32 KiB of input already handed to zlib: the window the next piece starts with. */
  private window: Buffer | undefined;

  constructor(
    private readonly level: number,
    private readonly chunkBytes: number,
  ) {}

  /** Adds bytes to the body. They are copied: the caller may reuse `data` at once. */
  write(data: Uint8Array): void {
    this.size += data.length;
    this.crc = crc32(data, this.crc);
    let at = 0;
    while (at < data.length) {
      this.chunk ??= CHUNKS.take(this.chunkBytes);
      const n = Math.min(data.length - at, this.chunkBytes - this.filled);
      this.chunk.set(data.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.chunkBytes) this.compressChunk(constants.Z_SYNC_FLUSH);
    }
  }

  /** The gzip body of everything written. */
  async end(): Promise<Buffer> {
    this.compressChunk(constants.Z_FINISH);
    const pieces = await Promise.all(this.pieces);
    const trailer = Buffer.allocUnsafe(8);
    trailer.writeUInt32LE(this.crc, 0);
    trailer.writeUInt32LE(this.size % 0x1_0000_0000, 4); // ISIZE: the size modulo 2^32
    return Buffer.concat([GZIP_HEADER, ...pieces, trailer]);
  }

  private compressChunk(flush: number): void {
    const chunk = this.chunk;
    const input = chunk ? chunk.subarray(0, this.filled) : Buffer.alloc(0);
    this.chunk = undefined;
    this.filled = 0;
    const dictionary = this.window;
    if (input.length > 0) this.window = Buffer.from(input.subarray(Math.max(0, input.length - WINDOW_BYTES)));
    const piece = new Promise<Buffer>((resolve, reject) => {
      deflateRaw(input, { level: this.level, finishFlush: flush, chunkSize: OUTPUT_CHUNK_BYTES, ...(dictionary ? { dictionary } : {}) }, (error, out) => {
        // zlib has read the chunk on its thread; only now may another piece fill it.
        if (chunk) CHUNKS.give(chunk);
        if (error) reject(error);
        else resolve(out);
      });
    });
    // A failure is reported by end(); until end() awaits it, it must not count as unhandled.
    piece.catch(() => undefined);
    this.pieces.push(piece);
  }
}

/**
 * A request body gzipped on a thread of its own by DeflateEncoder, while the
 * event loop goes on encoding: the body's bytes go to the thread in chunks as
 * they are written, and `end()` resolves with the whole gzip member.
 *
 * Why not zlib on libuv's thread pool (ParallelGzip): for 14 MB of OTLP
 * protobuf, zlib's level 5 spends 28 ms of CPU, which on two cores left a push
 * bound by compression. DeflateEncoder, given where each record's earlier twin
 * lies (`anchors`), compresses the same bytes as small in about 0.6× the CPU,
 * and a thread of its own is where JavaScript can run beside the event loop.
 *
 * One thread serves every body in the process, stream after stream; it is
 * started at the first body and lets the process exit while it has nothing to
 * do. If it dies, the bodies it held fail and the next body starts a new one.
 * One thread, not two: on two cores a second one took CPU from the event loop
 * while it encoded, and pieces compressed apart each start by hashing the 32 KiB
 * before them: 2.5× the library exporter's points/s against 3.4× with one.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import type { FromDeflateThread, ToDeflateThread } from './deflate-protocol.js';

/** Why a body failed: its deflate thread died, was stopped, or its encoder threw. */
export class DeflateThreadError extends Error {
  override readonly name = 'DeflateThreadError';
}

/** Chunk buffers kept for reuse: a push's worth in flight at once needs no more. */
const MAX_FREE_CHUNKS = 16;

interface Waiting {
  readonly resolve: (body: Buffer) => void;
  readonly reject: (error: Error) => void;
}

class DeflateThread {
  private static current: DeflateThread | undefined;
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private readonly freeChunks: ArrayBuffer[] = [];
  private nextStream = 1;
  private gone: DeflateThreadError | undefined;

  /** Stops the thread, failing what it holds (as if it had died); the next body starts a new one. For tests. */
  static async stop(): Promise<void> {
    const thread = DeflateThread.current;
    if (thread === undefined || thread.gone) return;
    thread.worker.ref(); // an idle thread is unreferenced: its exit alone would not keep the process up to be awaited
    thread.fail(new DeflateThreadError('the deflate thread was stopped'));
    await once(thread.worker, 'exit');
  }

  static shared(): DeflateThread {
    if (DeflateThread.current === undefined || DeflateThread.current.gone) DeflateThread.current = new DeflateThread();
    return DeflateThread.current;
  }

  private constructor() {
    this.worker = new Worker(new URL('./deflate-worker.js', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (message: FromDeflateThread) => this.receive(message));
    this.worker.on('error', (error) => this.fail(new DeflateThreadError(`the deflate thread failed: ${error.message}`, { cause: error })));
    this.worker.on('exit', (code) => this.fail(new DeflateThreadError(`the deflate thread exited (code ${code})`)));
  }

  /** A new stream and the promise of its body (already guarded against going unhandled). */
  open(): { stream: number; body: Promise<Buffer> } {
    const stream = this.nextStream++;
    const body = new Promise<Buffer>((resolve, reject) => {
      if (this.gone) reject(this.gone);
      else this.waiting.set(stream, { resolve, reject });
    });
    body.catch(() => undefined);
    if (this.waiting.size === 1) this.worker.ref(); // a body is owed: keep the process up for it
    return { stream, body };
  }

  takeChunk(minBytes: number): ArrayBuffer {
    const free = this.freeChunks.pop();
    return free !== undefined && free.byteLength >= minBytes ? free : new ArrayBuffer(minBytes);
  }

  send(message: ToDeflateThread): void {
    if (this.gone) return; // the stream's promise has already failed
    this.worker.postMessage(message, message.chunk ? [message.chunk] : []);
  }

  private receive(message: FromDeflateThread): void {
    if (message.type === 'chunk') {
      if (this.freeChunks.length < MAX_FREE_CHUNKS) this.freeChunks.push(message.chunk);
      return;
    }
    const waiting = this.waiting.get(message.stream);
    this.waiting.delete(message.stream);
    if (this.waiting.size === 0) this.worker.unref();
    if (message.type === 'done') waiting?.resolve(Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength));
    else waiting?.reject(new DeflateThreadError(`gzip failed: ${message.message}`));
  }

  private fail(error: DeflateThreadError): void {
    if (this.gone) return;
    this.gone = error;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
    void this.worker.terminate();
  }
}

/** Stops the shared deflate thread: what it holds fails, the next body starts a new one. For tests. */
export function stopDeflateThread(): Promise<void> {
  return DeflateThread.stop();
}

export class OffloadedGzip {
  private readonly thread = DeflateThread.shared();
  private readonly stream: number;
  private readonly body: Promise<Buffer>;
  private chunk: Uint8Array | undefined;
  private filled = 0;
  private anchors = new Int32Array(1024);
  private anchorCount = 0;
  private crc = 0;
  private size = 0;

  constructor(private readonly chunkBytes: number) {
    ({ stream: this.stream, body: this.body } = this.thread.open());
  }

  /**
   * Adds bytes to the body; they are copied, so the caller may reuse `data` at
   * once. `anchors`: (offset in data, key) pairs in offset order, as
   * DeflateEncoder.write takes them.
   */
  write(data: Uint8Array, anchors?: Int32Array): void {
    // The CRC here, not on the thread: the event loop has the shorter share of the work.
    this.crc = crc32(data, this.crc);
    this.size += data.length;
    let next = 0;
    for (let at = 0; at < data.length; ) {
      this.chunk ??= new Uint8Array(this.thread.takeChunk(this.chunkBytes));
      const n = Math.min(data.length - at, this.chunk.length - this.filled);
      this.chunk.set(data.subarray(at, at + n), this.filled);
      if (anchors !== undefined) {
        for (; next < anchors.length && anchors[next]! < at + n; next += 2) this.addAnchor(this.filled + anchors[next]! - at, anchors[next + 1]!);
      }
      this.filled += n;
      at += n;
      if (this.filled === this.chunk.length) this.send(false);
    }
  }

  /** The gzip body of everything written. */
  end(): Promise<Buffer> {
    this.send(true);
    return this.body;
  }

  private addAnchor(offset: number, key: number): void {
    if (this.anchorCount + 2 > this.anchors.length) {
      const grown = new Int32Array(this.anchors.length * 2);
      grown.set(this.anchors);
      this.anchors = grown;
    }
    this.anchors[this.anchorCount++] = offset;
    this.anchors[this.anchorCount++] = key;
  }

  private send(end: boolean): void {
    const chunk = this.chunk;
    this.thread.send({
      stream: this.stream,
      chunk: chunk?.buffer as ArrayBuffer | undefined,
      length: this.filled,
      anchors: this.anchorCount > 0 ? this.anchors.slice(0, this.anchorCount) : undefined,
      ...(end ? { end: { crc: this.crc, size: this.size } } : {}),
    });
    this.chunk = undefined;
    this.filled = 0;
    this.anchorCount = 0;
  }
}

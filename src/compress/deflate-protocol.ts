/** Messages between OffloadedGzip and its deflate thread. */

/** A chunk of a stream's input, in order, and/or its end. */
export interface ToDeflateThread {
  readonly stream: number;
  /** Input bytes: the first `length` of this buffer, which comes back in a `chunk` message. */
  readonly chunk?: ArrayBuffer;
  readonly length: number;
  /** (offset in the chunk, key) pairs: where records start and which earlier record each repeats (see DeflateEncoder.write). */
  readonly anchors?: Int32Array;
  /** The stream's last message: the CRC-32 and size of all its input, for the gzip trailer. */
  readonly end?: { readonly crc: number; readonly size: number };
}

export type FromDeflateThread =
  | { readonly type: 'chunk'; readonly chunk: ArrayBuffer }
  | { readonly type: 'done'; readonly stream: number; readonly body: Uint8Array }
  | { readonly type: 'failed'; readonly stream: number; readonly message: string };

/** ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix), as zlib writes it. */
export const GZIP_HEADER = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

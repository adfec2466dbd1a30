/**
 * The thread that compresses request bodies for OffloadedGzip (offloaded-gzip.ts):
 * it takes a stream's input in chunks, in order, and answers each finished
 * stream with its whole gzip member (the sender gives the CRC and size). One
 * encoder per open stream; a few are kept for the next streams, as each holds
 * 2.6 MB of window and tables.
 */
import { parentPort } from 'node:worker_threads';
import { DeflateEncoder } from './deflate-encoder.js';
import { GZIP_HEADER, type FromDeflateThread, type ToDeflateThread } from './deflate-protocol.js';

interface OpenStream {
  readonly encoder: DeflateEncoder;
}

const port = parentPort;
if (port === null) throw new Error('deflate-worker.js runs as a worker thread');

/** Encoders kept for the next streams: bodies are built one or two at a time. */
const MAX_IDLE_ENCODERS = 2;

const open = new Map<number, OpenStream>();
const idle: DeflateEncoder[] = [];

port.on('message', (message: ToDeflateThread) => {
  const { stream } = message;
  let state = open.get(stream);
  try {
    if (state === undefined) {
      state = { encoder: idle.pop() ?? new DeflateEncoder() };
      open.set(stream, state);
    }
    if (message.chunk !== undefined) {
      const input = new Uint8Array(message.chunk, 0, message.length);
      state.encoder.write(input, message.anchors);
      post({ type: 'chunk', chunk: message.chunk }, [message.chunk]);
    }
    if (message.end !== undefined) {
      open.delete(stream);
      const deflated = state.encoder.finish();
      const body = new Uint8Array(GZIP_HEADER.length + deflated.length + 8);
      body.set(GZIP_HEADER, 0);
      body.set(deflated, GZIP_HEADER.length);
      const trailer = new DataView(body.buffer, GZIP_HEADER.length + deflated.length);
      trailer.setUint32(0, message.end.crc >>> 0, true);
      trailer.setUint32(4, message.end.size % 0x1_0000_0000, true); // ISIZE: the size modulo 2^32
      state.encoder.reset();
      if (idle.length < MAX_IDLE_ENCODERS) idle.push(state.encoder);
      post({ type: 'done', stream, body }, [body.buffer]);
    }
  } catch (error) {
    // A stream that failed is dropped whole; its encoder, in an unknown state, with it.
    open.delete(stream);
    post({ type: 'failed', stream, message: error instanceof Error ? error.message : String(error) });
  }
});

function post(message: FromDeflateThread, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

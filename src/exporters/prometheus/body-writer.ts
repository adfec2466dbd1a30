/**
 * Writes an exposition body straight into one Buffer: the bytes a scrape is
 * served, without building a string of the whole body first (joining 100k
 * pieces into a string, then encoding it as UTF-8, cost more than writing them).
 *
 * Cached label texts are copied in as bytes (one memcpy each); only the values
 * are formatted afresh, straight into the buffer (value-bytes.ts).
 */
import { MAX_VALUE_BYTES, writeValue } from '../../prometheus/value-bytes.js';
import { formatValue } from '../../prometheus/writer.js';

const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

export class BodyWriter {
  private buf: Buffer = EMPTY;
  private pos = 0;

  /**
   * Starts a new body in a new buffer of `capacity` bytes (the expected size: the
   * last body of this shape), which grows past it if needed. A body finished
   * before stays valid: it keeps its own buffer.
   */
  begin(capacity: number): this {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 1024));
    this.pos = 0;
    return this;
  }

  get length(): number {
    return this.pos;
  }

  /** The body written: a view of the bytes written, valid until the writer is used again. */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.pos + n > this.buf.length) this.ensure(n);
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }

  byte(c: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** Any text, as UTF-8 (HELP and TYPE lines). */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A sample value, exactly as formatValue writes it (ASCII: digits, `.`, `e`, `+`, `-`, NaN, Inf). */
  value(v: number): void {
    if (typeof v !== 'number') return this.oddValue(v);
    if (this.pos + MAX_VALUE_BYTES > this.buf.length) this.ensure(MAX_VALUE_BYTES);
    this.pos = writeValue(this.buf, this.pos, v);
  }

  /** A sample line: `text` (the series up to its value), the value, a newline; bytes(), value() and byte() in one. */
  line(text: Uint8Array, v: number): void {
    if (typeof v !== 'number') return this.oddLine(text, undefined, v);
    const n = text.length;
    if (this.pos + n + MAX_VALUE_BYTES + 1 > this.buf.length) this.ensure(n + MAX_VALUE_BYTES + 1);
    const buf = this.buf;
    buf.set(text, this.pos);
    const end = writeValue(buf, this.pos + n, v);
    buf[end] = LF;
    this.pos = end + 1;
  }

  /** line() for a text in two parts: a bucket's series and its `le` label. */
  line2(head: Uint8Array, tail: Uint8Array, v: number): void {
    if (typeof v !== 'number') return this.oddLine(head, tail, v);
    const n = head.length + tail.length;
    if (this.pos + n + MAX_VALUE_BYTES + 1 > this.buf.length) this.ensure(n + MAX_VALUE_BYTES + 1);
    const buf = this.buf;
    buf.set(head, this.pos);
    buf.set(tail, this.pos + head.length);
    const end = writeValue(buf, this.pos + n, v);
    buf[end] = LF;
    this.pos = end + 1;
  }

  private oddLine(head: Uint8Array, tail: Uint8Array | undefined, v: unknown): void {
    this.bytes(head);
    if (tail !== undefined) this.bytes(tail);
    this.oddValue(v);
    this.byte(LF);
  }

  /**
   * What a mislabelled point holds instead of a number (a histogram's sum, a
   * bucket count): formatValue's text, of any length, one byte per UTF-16 unit.
   */
  private oddValue(v: unknown): void {
    const s = formatValue(v as number);
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }
}

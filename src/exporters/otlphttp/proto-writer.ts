/**
 * A minimal protobuf writer: varints, fixed64, doubles, strings and nested
 * messages, into one growing buffer.
 *
 * Nested messages reserve one byte for their length and shift their content
 * only when it turns out longer than 127 bytes, so the common small message
 * (a data point, a key/value) costs no second pass and no copy.
 */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;

const TWO_32 = 0x1_0000_0000;

export class ProtoWriter {
  private buf: Buffer;
  private view: DataView;
  pos = 0;
  /** (offset, key) pairs: positions noted by `anchor`, kept pointing at the same bytes as messages close. */
  private anchorPairs = new Int32Array(256);
  private anchorCount = 0;

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** The bytes written so far, copied out so the writer can be reused. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** The bytes written so far, without a copy: valid until the writer is reset or written to again. */
  written(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
    this.anchorCount = 0;
  }

  /** Notes the current position with a key; `anchors()` gives it back where those bytes end up. */
  anchor(key: number): void {
    if (this.anchorCount + 2 > this.anchorPairs.length) {
      const grown = new Int32Array(this.anchorPairs.length * 2);
      grown.set(this.anchorPairs);
      this.anchorPairs = grown;
    }
    this.anchorPairs[this.anchorCount++] = this.pos;
    this.anchorPairs[this.anchorCount++] = key;
  }

  /** The anchors noted since the last reset, as (offset, key) pairs: valid until the writer is reset or written to again. */
  anchors(): Int32Array {
    return this.anchorPairs.subarray(0, this.anchorCount);
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  tag(field: number, wireType: number): void {
    this.varint32((field << 3) | wireType);
  }

  /** Unsigned varint for values below 2^32. */
  varint32(value: number): void {
    this.ensure(5);
    let v = value >>> 0;
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  /** Varint for an int64 given as a JS number (negative values in two's complement). */
  varint64(value: number): void {
    if (value >= 0 && value < TWO_32) {
      this.varint32(value);
      return;
    }
    this.ensure(10);
    let [lo, hi] = split64(value);
    while (hi > 0 || lo > 0x7f) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, lo >>> 0, true);
    this.view.setUint32(this.pos + 4, hi >>> 0, true);
    this.pos += 8;
  }

  /**
   * A non-negative integer (a count) as fixed64. A negative or NaN count would
   * wrap to a huge unsigned one (-2 becomes 2^64-2); it is written as 0 instead,
   * so one bad value cannot corrupt the whole message's meaning.
   */
  fixed64Number(value: number): void {
    if (!(value > 0)) {
      this.fixed64(0, 0);
      return;
    }
    this.fixed64(value % TWO_32, Math.floor(value / TWO_32));
  }

  /** A signed integer as sfixed64. */
  sfixed64(value: number): void {
    const [lo, hi] = split64(value);
    this.fixed64(lo, hi);
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  string(value: string): void {
    // Metric names and label values are mostly short ASCII: copy char codes directly.
    const n = value.length;
    if (n < 128) {
      this.ensure(1 + n * 3);
      const lenPos = this.pos++;
      let p = this.pos;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          this.pos = lenPos;
          this.stringUtf8(value);
          return;
        }
        this.buf[p++] = c;
      }
      this.buf[lenPos] = n;
      this.pos = p;
      return;
    }
    this.stringUtf8(value);
  }

  private stringUtf8(value: string): void {
    const len = Buffer.byteLength(value, 'utf8');
    this.varint32(len);
    this.ensure(len);
    this.buf.write(value, this.pos, len, 'utf8');
    this.pos += len;
  }

  bytes(value: Uint8Array): void {
    this.varint32(value.length);
    this.raw(value);
  }

  /** Appends already-encoded protobuf (e.g. a cached field sequence). */
  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Starts a length-delimited field; pass the result to `end`. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  end(lengthPos: number): void {
    const len = this.pos - lengthPos - 1;
    if (len < 0x80) {
      this.buf[lengthPos] = len;
      return;
    }
    const size = varintSize(len);
    this.ensure(size - 1);
    this.buf.copyWithin(lengthPos + size, lengthPos + 1, this.pos);
    this.pos += size - 1;
    // Anchors inside the message moved with its content; they are the last ones noted.
    const anchors = this.anchorPairs;
    for (let i = this.anchorCount - 2; i >= 0 && anchors[i]! > lengthPos; i -= 2) anchors[i]! += size - 1;
    let p = lengthPos;
    let v = len;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x20_0000 ? 3 : v < 0x1000_0000 ? 4 : 5;
}

/** Two's-complement low/high 32-bit halves of an integer-valued number. */
function split64(value: number): [number, number] {
  const abs = Math.abs(Math.trunc(value));
  let lo = abs % TWO_32 >>> 0;
  let hi = Math.floor(abs / TWO_32) >>> 0;
  if (value < 0) {
    lo = ~lo >>> 0;
    hi = ~hi >>> 0;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
  }
  return [lo, hi];
}

/**
 * Nanoseconds since the epoch for an HrTime, as exact fixed64 halves.
 * `seconds * 1e9` exceeds 2^53, so it is assembled from 16-bit pieces instead.
 */
export function hrTimeHalves(seconds: number, nanos: number): [number, number] {
  const sHi = Math.floor(seconds / 0x1_0000);
  const sLo = seconds % 0x1_0000;
  const x = sLo * 1e9 + nanos; // < 2^47, exact
  const y = sHi * 1e9; // < 2^45, exact; shifted left by 16 below
  let lo = (x % TWO_32) + (y % 0x1_0000) * 0x1_0000;
  let hi = Math.floor(x / TWO_32) + Math.floor(y / 0x1_0000);
  if (lo >= TWO_32) {
    lo -= TWO_32;
    hi += 1;
  }
  return [lo, hi];
}

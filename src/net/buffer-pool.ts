/**
 * Body buffers lent to one response at a time and given back once its bytes are
 * read, so that scrape after scrape the same few buffers carry every page.
 *
 * Why: a new buffer per page lives outside the heap until a GC finds its view dead.
 * At 300 targets × a 63 KB page per second, about 50 MB of such dead bodies were
 * waiting at any time (`process.memoryUsage().arrayBuffers`), a seventh of the RSS.
 * Bodies of different targets are read at the same moment only as often as their
 * answers overlap, so a handful of buffers serves hundreds of targets.
 */

export class BufferPool {
  /** Free buffers, smallest first. */
  private readonly free: Buffer[] = [];
  private freeBytes = 0;

  constructor(
    /** Most bytes kept free for the next borrower; beyond it a given-back buffer is left to the GC. */
    private readonly maxFreeBytes: number,
    /** Smallest buffer made: sizes are rounded up to a power of two from here, so that pages that grow a little still fit. */
    private readonly minBytes: number,
  ) {}

  /** A buffer of at least `size` bytes, of unspecified content, until it is given back. */
  take(size: number): Buffer {
    const free = this.free;
    for (let i = 0; i < free.length; i++) {
      const buffer = free[i]!;
      if (buffer.length >= size) {
        free.splice(i, 1);
        this.freeBytes -= buffer.length;
        return buffer;
      }
    }
    return Buffer.allocUnsafeSlow(roundedSize(Math.max(size, this.minBytes)));
  }

  /** Takes a buffer back; nothing may read or write it afterwards. */
  give(buffer: Buffer): void {
    if (buffer.length < this.minBytes || this.freeBytes + buffer.length > this.maxFreeBytes) return;
    const free = this.free;
    let at = 0;
    while (at < free.length && free[at]!.length < buffer.length) at++;
    free.splice(at, 0, buffer);
    this.freeBytes += buffer.length;
  }

  /** Bytes held free, for tests. */
  get heldBytes(): number {
    return this.freeBytes;
  }
}

function roundedSize(size: number): number {
  let rounded = 1;
  while (rounded < size) rounded *= 2;
  return rounded;
}

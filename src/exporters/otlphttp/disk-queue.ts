/**
 * A sending queue kept in a directory, one file per encoded request, so a
 * collector killed during an outage sends what it had queued when it starts again.
 *
 * - A file appears whole or not at all: it is written under a temporary name
 *   and renamed (rename is atomic within a directory).
 * - A file is deleted only once its request is settled (a 2xx, or given up),
 *   so a kill mid-send means that request is sent again, never lost.
 * - File names are zero-padded sequence numbers: directory order is send order.
 *
 * File layout: magic `RMQ1`, a 4-byte big-endian header length, a JSON header
 * (points, encoding, compression), then the request body exactly as sent.
 */
import { mkdir, open, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EncodedRequest, QueuedRequest, RequestQueue } from './queue.js';

const MAGIC = Buffer.from('RMQ1');
const SUFFIX = '.otlp';
const TMP_SUFFIX = '.tmp';
const NAME = /^(\d{16})\.otlp$/;

interface Header {
  points: number;
  encoding: QueuedRequest['encoding'];
  compression: QueuedRequest['compression'];
}

export class DiskQueue implements RequestQueue {
  readonly persistent = true;
  private readonly waiting: QueuedRequest[] = [];
  private nextSeq = 0;

  constructor(
    private readonly dir: string,
    readonly capacity: number,
    /** Called for a file that cannot be read back; it is then deleted. */
    private readonly onCorrupt: (file: string, error: unknown) => void = () => {},
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  async open(): Promise<QueuedRequest[]> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).sort();
    for (const name of names) {
      if (name.endsWith(TMP_SUFFIX)) {
        // A write the previous run did not finish: never renamed, so never promised to anyone.
        await rm(join(this.dir, name), { force: true });
        continue;
      }
      const m = NAME.exec(name);
      if (!m) continue;
      const seq = Number(m[1]);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      try {
        const header = await readHeader(this.path(seq));
        this.waiting.push({ seq, ...header });
      } catch (err) {
        this.onCorrupt(name, err);
        await rm(this.path(seq), { force: true });
      }
    }
    return this.evictOverflow();
  }

  async push(request: EncodedRequest): Promise<QueuedRequest[]> {
    const seq = this.nextSeq++;
    const header: Header = { points: request.points, encoding: request.encoding, compression: request.compression };
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    const tmp = join(this.dir, fileName(seq) + TMP_SUFFIX);
    await writeFile(tmp, Buffer.concat([MAGIC, length, json, request.body]));
    await rename(tmp, this.path(seq));
    this.waiting.push({ seq, ...header });
    return this.evictOverflow();
  }

  shift(): QueuedRequest | undefined {
    return this.waiting.shift();
  }

  async body(entry: QueuedRequest): Promise<Uint8Array> {
    const fh = await open(this.path(entry.seq), 'r');
    try {
      const data = await fh.readFile();
      return data.subarray(8 + data.readUInt32BE(4));
    } finally {
      await fh.close();
    }
  }

  async ack(entry: QueuedRequest): Promise<void> {
    await unlink(this.path(entry.seq)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  private async evictOverflow(): Promise<QueuedRequest[]> {
    if (this.waiting.length <= this.capacity) return [];
    const evicted = this.waiting.splice(0, this.waiting.length - this.capacity);
    for (const e of evicted) await this.ack(e);
    return evicted;
  }

  private path(seq: number): string {
    return join(this.dir, fileName(seq) + SUFFIX);
  }
}

function fileName(seq: number): string {
  return String(seq).padStart(16, '0');
}

async function readHeader(path: string): Promise<Header> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    if (!head.subarray(0, 4).equals(MAGIC)) throw new Error('not a queued request');
    const length = head.readUInt32BE(4);
    const json = Buffer.alloc(length);
    const { bytesRead } = await fh.read(json, 0, length, 8);
    if (bytesRead !== length) throw new Error('truncated header');
    const header = JSON.parse(json.toString('utf8')) as Header;
    if (typeof header.points !== 'number') throw new Error('invalid header');
    return header;
  } finally {
    await fh.close();
  }
}

/**
 * The sending queue: encoded requests waiting for the backend, oldest first.
 *
 * It holds encoded bytes, so what waits is immutable and cheap to persist. The
 * sender leases the oldest request with `shift()` and settles it with `ack()`
 * once it is delivered or given up; a persistent queue keeps it until then, so
 * a crash mid-send leaves it for the next start.
 */
export type Encoding = 'proto' | 'json';
export type Compression = 'gzip' | 'none';

export interface EncodedRequest {
  readonly body: Uint8Array;
  /** Data points in the request, for the collector's own counters. */
  readonly points: number;
  readonly encoding: Encoding;
  readonly compression: Compression;
}

export interface QueuedRequest {
  readonly seq: number;
  readonly points: number;
  readonly encoding: Encoding;
  readonly compression: Compression;
}

export interface RequestQueue {
  /** How many requests may wait (the one being sent not included). */
  readonly capacity: number;
  /** Requests waiting, the one being sent not included. */
  readonly size: number;
  /** Loads what a previous run left behind; returns the requests evicted to fit the capacity. */
  open(): Promise<QueuedRequest[]>;
  /** Appends a request; returns the oldest ones evicted to stay within capacity. */
  push(request: EncodedRequest): Promise<QueuedRequest[]>;
  /** Leases the oldest waiting request, or undefined when none waits. */
  shift(): QueuedRequest | undefined;
  body(entry: QueuedRequest): Promise<Uint8Array>;
  /** Forgets a leased request for good (delivered, or dropped). */
  ack(entry: QueuedRequest): Promise<void>;
  /** Whether requests still waiting survive this process (then shutdown need not count them lost). */
  readonly persistent: boolean;
}

interface MemoryEntry extends QueuedRequest {
  readonly data: Uint8Array;
}

export class MemoryQueue implements RequestQueue {
  readonly persistent = false;
  private readonly waiting: MemoryEntry[] = [];
  private nextSeq = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.waiting.length;
  }

  async open(): Promise<QueuedRequest[]> {
    return [];
  }

  async push(request: EncodedRequest): Promise<QueuedRequest[]> {
    const { body, ...meta } = request;
    this.waiting.push({ seq: this.nextSeq++, ...meta, data: body });
    return this.waiting.length > this.capacity ? this.waiting.splice(0, this.waiting.length - this.capacity) : [];
  }

  shift(): QueuedRequest | undefined {
    return this.waiting.shift();
  }

  async body(entry: QueuedRequest): Promise<Uint8Array> {
    return (entry as MemoryEntry).data;
  }

  async ack(): Promise<void> {}
}

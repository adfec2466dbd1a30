/**
 * Turns the resources of one push into request bodies: every resource in a
 * single ExportMetricsServiceRequest, split only when a configured size limit
 * would be exceeded, and compressed as it is encoded.
 *
 * Each resource is encoded on its own (the encoders write one standalone
 * `resource_metrics` element), and its bytes go to the request's gzip at once:
 * another thread compresses what is encoded while the event loop encodes the
 * next resource, so a push costs about the longer of the two, spread over the
 * cores, rather than their sum on one. Protobuf goes to DeflateEncoder on a
 * thread of its own (OffloadedGzip), told where each point's twin lies; JSON to
 * zlib on the thread pool (ParallelGzip).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ResourceBatch } from '../../model/batch.js';
import { JSON_PREFIX, JSON_SEPARATOR, JSON_SUFFIX, JsonEncoder } from './encode-json.js';
import { ProtoEncoder } from './encode-proto.js';
import { DeflateThreadError, OffloadedGzip } from '../../compress/offloaded-gzip.js';
import { ParallelGzip } from './parallel-gzip.js';
import type { Compression, EncodedRequest, Encoding } from './queue.js';

/** zlib's level for JSON bodies: its default; 5 saves JSON nothing. */
export const JSON_GZIP_LEVEL = 6;
/** zlib's level for protobuf bodies when the deflate thread fails: as small as the thread's, for 1.5–1.8× its CPU. */
const PROTO_FALLBACK_GZIP_LEVEL = 5;
/** Input handed to the compressor (the deflate thread, or zlib on the thread pool for JSON) at a time: large enough to cost nothing in messages or pieces, small enough to overlap with encoding. */
export const GZIP_CHUNK_BYTES = 1 << 20;

export interface RequestBuilderOptions {
  readonly encoding: Encoding;
  readonly compression: Compression;
  /** Resource attributes copied onto every data point. */
  readonly resourceToAttributes: readonly string[];
  /** Uncompressed bytes per request; 0 for no limit. */
  readonly maxRequestBytes: number;
  /** Data points per request; 0 for no limit. */
  readonly maxRequestPoints: number;
  /** Told when the deflate thread failed a push, which zlib then compressed instead. */
  readonly onDeflateThreadFailure?: (error: DeflateThreadError) => void;
}

/** One request being filled: its body so far (compressed as it goes) and what it holds. */
class PendingRequest {
  /** Encoded resource bytes, not counting the JSON wrapper (as the limits count them). */
  bytes = 0;
  points = 0;
  resources = 0;
  private readonly gzip: OffloadedGzip | ParallelGzip | undefined;
  private readonly parts: Buffer[] = [];

  constructor(
    private readonly options: RequestBuilderOptions,
    deflateThread: boolean,
  ) {
    if (options.compression === 'gzip') {
      this.gzip =
        options.encoding === 'proto' && deflateThread
          ? new OffloadedGzip(GZIP_CHUNK_BYTES)
          : new ParallelGzip(options.encoding === 'proto' ? PROTO_FALLBACK_GZIP_LEVEL : JSON_GZIP_LEVEL, GZIP_CHUNK_BYTES);
    }
    if (options.encoding === 'json') this.write(JSON_PREFIX);
  }

  /** Whether adding a resource of this size would pass a limit; a first resource always fits. */
  overflows(bytes: number, points: number): boolean {
    if (this.resources === 0) return false;
    const { maxRequestBytes: maxBytes, maxRequestPoints: maxPoints } = this.options;
    return (maxBytes > 0 && this.bytes + bytes > maxBytes) || (maxPoints > 0 && this.points + points > maxPoints);
  }

  /** `anchors`: where the encoder put each point's attributes (ProtoEncoder.anchors), for the compressor. */
  add(encoded: Buffer, points: number, anchors?: Int32Array): void {
    if (this.options.encoding === 'json' && this.resources > 0) this.write(JSON_SEPARATOR);
    this.write(encoded, anchors);
    this.bytes += encoded.length;
    this.points += points;
    this.resources++;
  }

  async finish(): Promise<EncodedRequest> {
    if (this.options.encoding === 'json') this.write(JSON_SUFFIX);
    const body = this.gzip ? await this.gzip.end() : Buffer.concat(this.parts);
    return { body, points: this.points, encoding: this.options.encoding, compression: this.options.compression };
  }

  /** `data` may be the encoder's own buffer, reused for the next resource: it is copied here. */
  private write(data: Buffer, anchors?: Int32Array): void {
    if (this.gzip) this.gzip.write(data, anchors);
    else this.parts.push(Buffer.from(data));
  }
}

export class RequestBuilder {
  private readonly encoder: ProtoEncoder | JsonEncoder;

  constructor(private readonly options: RequestBuilderOptions) {
    this.encoder =
      options.encoding === 'proto'
        ? new ProtoEncoder(options.resourceToAttributes)
        : new JsonEncoder(options.resourceToAttributes);
  }

  /**
   * The push's requests. If the deflate thread fails (it died, or its encoder
   * threw), the push is encoded again and compressed by zlib: a push is not lost
   * to a compressor.
   */
  async build(resources: readonly ResourceBatch[]): Promise<EncodedRequest[]> {
    try {
      return await this.buildWith(resources, true);
    } catch (error) {
      if (!(error instanceof DeflateThreadError)) throw error;
      this.options.onDeflateThreadFailure?.(error);
      return this.buildWith(resources, false);
    }
  }

  /** Greedy grouping in order; a single resource larger than a limit still goes, alone. */
  private async buildWith(resources: readonly ResourceBatch[], deflateThread: boolean): Promise<EncodedRequest[]> {
    const finished: Promise<EncodedRequest>[] = [];
    let current: PendingRequest | undefined;
    try {
      for (const resource of resources) {
        const encoded = this.encoder.encodeResource(resource);
        const points = countPoints(resource);
        if (current?.overflows(encoded.length, points)) {
          finished.push(current.finish());
          current = undefined;
        }
        current ??= new PendingRequest(this.options, deflateThread);
        current.add(encoded, points, this.encoder instanceof ProtoEncoder ? this.encoder.anchors() : undefined);
        // Encoding is synchronous; let other work (the /metrics endpoint, scrapes) in between resources.
        await yieldToEventLoop();
      }
      if (current) finished.push(current.finish());
    } finally {
      // Whatever happens, no compression is left to fail unobserved.
      for (const request of finished) request.catch(() => undefined);
    }
    return Promise.all(finished);
  }
}

/** Data points in a resource; a histogram or summary point counts once, as in the Collector. */
export function countPoints(resource: ResourceBatch): number {
  let n = 0;
  for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) n += metric.dataPoints.length;
  return n;
}

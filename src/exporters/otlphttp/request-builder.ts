/**
 * Turns the resources of one push into request bodies: every resource in a
 * single ExportMetricsServiceRequest, split only when a configured size limit
 * would be exceeded, then compressed.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ResourceBatch } from '../../model/batch.js';
import { JSON_PREFIX, JSON_SEPARATOR, JSON_SUFFIX, JsonEncoder } from './encode-json.js';
import { ProtoEncoder } from './encode-proto.js';
import type { Compression, EncodedRequest, Encoding } from './queue.js';

const gzipAsync = promisify(gzip);

export interface RequestBuilderOptions {
  readonly encoding: Encoding;
  readonly compression: Compression;
  /** Resource attributes copied onto every data point. */
  readonly resourceToAttributes: readonly string[];
  /** Uncompressed bytes per request; 0 for no limit. */
  readonly maxRequestBytes: number;
  /** Data points per request; 0 for no limit. */
  readonly maxRequestPoints: number;
}

interface Chunk {
  readonly bytes: Buffer;
  readonly points: number;
}

export class RequestBuilder {
  private readonly encoder: ProtoEncoder | JsonEncoder;

  constructor(private readonly options: RequestBuilderOptions) {
    this.encoder =
      options.encoding === 'proto'
        ? new ProtoEncoder(options.resourceToAttributes)
        : new JsonEncoder(options.resourceToAttributes);
  }

  async build(resources: readonly ResourceBatch[]): Promise<EncodedRequest[]> {
    const chunks: Chunk[] = [];
    for (const resource of resources) {
      chunks.push({ bytes: this.encoder.encodeResource(resource), points: countPoints(resource) });
      // Encoding is synchronous; let other work (the /metrics endpoint, scrapes) in between resources.
      await yieldToEventLoop();
    }
    const requests: EncodedRequest[] = [];
    for (const group of this.split(chunks)) {
      const raw = this.join(group);
      const body = this.options.compression === 'gzip' ? await gzipAsync(raw) : raw;
      const points = group.reduce((n, c) => n + c.points, 0);
      requests.push({ body, points, encoding: this.options.encoding, compression: this.options.compression });
    }
    return requests;
  }

  /** Greedy grouping in order; a single resource larger than a limit still goes, alone. */
  private split(chunks: readonly Chunk[]): Chunk[][] {
    const { maxRequestBytes: maxBytes, maxRequestPoints: maxPoints } = this.options;
    const groups: Chunk[][] = [];
    let current: Chunk[] = [];
    let bytes = 0;
    let points = 0;
    for (const chunk of chunks) {
      const tooBig = maxBytes > 0 && bytes + chunk.bytes.length > maxBytes;
      const tooMany = maxPoints > 0 && points + chunk.points > maxPoints;
      if (current.length > 0 && (tooBig || tooMany)) {
        groups.push(current);
        current = [];
        bytes = 0;
        points = 0;
      }
      current.push(chunk);
      bytes += chunk.bytes.length;
      points += chunk.points;
    }
    if (current.length > 0) groups.push(current);
    return groups;
  }

  private join(group: readonly Chunk[]): Buffer {
    if (this.options.encoding === 'proto') return Buffer.concat(group.map((c) => c.bytes));
    const parts: Buffer[] = [JSON_PREFIX];
    group.forEach((c, i) => {
      if (i > 0) parts.push(JSON_SEPARATOR);
      parts.push(c.bytes);
    });
    parts.push(JSON_SUFFIX);
    return Buffer.concat(parts);
  }
}

/** Data points in a resource; a histogram or summary point counts once, as in the Collector. */
export function countPoints(resource: ResourceBatch): number {
  let n = 0;
  for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) n += metric.dataPoints.length;
  return n;
}

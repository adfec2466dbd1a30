/**
 * A test OTLP/HTTP receiver on 127.0.0.1. It decodes requests with the official
 * OTLP .proto files (test/fixtures/opentelemetry-proto) through protobufjs, so
 * it shares nothing with the exporter's encoder. JSON requests go through the
 * same schema (`fromObject`), so both encodings compare as the same objects.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { fixturePath } from '../../helpers/fixtures.js';

const PROTO_ROOT = fixturePath('opentelemetry-proto');

function loadSchema(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
  root.loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto');
  // google.rpc.Status, which OTLP/HTTP error bodies carry (its .proto is not in the fixtures).
  protobuf.parse('syntax = "proto3"; package google.rpc; message Status { int32 code = 1; string message = 2; }', root);
  return root;
}

export const schema = loadSchema();
const Request = schema.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
const Response = schema.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');
const Status = schema.lookupType('google.rpc.Status');

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, arrays: true, defaults: false };

/** Plain-object view of a decoded request: camelCase keys, 64-bit integers as strings. */
export type Decoded = Record<string, any>;

export interface Received {
  /** Request path, e.g. `/otlp/v1/metrics`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Names and values as sent, duplicates included. */
  readonly rawHeaders: string[];
  /** Bytes as they arrived on the wire. */
  readonly wireBytes: number;
  readonly body: Decoded;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array | string;
}

/** Decides the reply to a request; `undefined` means a plain 200. Receives the decoded request. */
export type Responder = (request: Received) => Reply | undefined | Promise<Reply | undefined>;

export class OtlpReceiver {
  /** Requests answered with a 2xx, in arrival order. */
  readonly accepted: Received[] = [];
  /** Every request that arrived, whatever the reply. */
  attempts = 0;
  responder: Responder = () => undefined;
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: Server) {}

  static async start(port = 0): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        try {
          const wire = Buffer.concat(chunks);
          const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire;
          const body = (req.headers['content-type'] ?? '').includes('json')
            ? Request.toObject(Request.fromObject(JSON.parse(raw.toString('utf8'))), TO_OBJECT)
            : Request.toObject(Request.decode(raw), TO_OBJECT);
          const received: Received = { path: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, wireBytes: wire.length, body };
          receiver.attempts++;
          receiver.notify();
          const reply = (await receiver.responder(received)) ?? { status: 200 };
          if (reply.status >= 200 && reply.status < 300) receiver.accepted.push(received);
          res.writeHead(reply.status, { 'content-type': 'application/x-protobuf', ...reply.headers });
          res.end(reply.body ?? Response.encode(Response.create({})).finish());
        } catch (err) {
          res.writeHead(500).end(String(err));
        } finally {
          receiver.notify();
        }
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The base URL, as the `endpoint` setting takes it. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves once `predicate` holds, re-checked after each request. */
  async waitFor(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** An ExportMetricsServiceResponse with a partial success. */
export function partialSuccess(rejectedDataPoints: number, errorMessage: string): Uint8Array {
  return Response.encode(Response.fromObject({ partialSuccess: { rejectedDataPoints, errorMessage } })).finish();
}

/** A google.rpc.Status error body. */
export function rpcStatus(code: number, message: string): Uint8Array {
  return Status.encode(Status.fromObject({ code, message })).finish();
}

/** Every data point in received requests, as `{resource instance, metric, point}` triples. */
export function* points(requests: readonly Received[]): Generator<{ instance: string; metric: Decoded; point: Decoded }> {
  for (const r of requests) {
    for (const rm of r.body['resourceMetrics'] ?? []) {
      const instance = attr(rm.resource?.attributes, 'service.instance.id');
      for (const sm of rm.scopeMetrics ?? []) {
        for (const metric of sm.metrics ?? []) {
          const data = metric.gauge ?? metric.sum ?? metric.histogram ?? metric.summary;
          for (const point of data?.dataPoints ?? []) yield { instance, metric, point };
        }
      }
    }
  }
}

/** The string value of an attribute in a decoded KeyValue list. */
export function attr(list: Decoded[] | undefined, key: string): any {
  const kv = (list ?? []).find((a) => a.key === key);
  if (!kv) return undefined;
  const v = kv.value;
  return v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue;
}

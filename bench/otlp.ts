/**
 * The otlphttp exporter pushing 100 runners × 1000 points to a local sink
 * server (protobuf+gzip and JSON+gzip), against the library exporters
 * (`OTLPMetricExporter` from @opentelemetry/exporter-metrics-otlp-proto and
 * -http) called once per resource on the same batches in the same run, the sides
 * taking turns round by round. Also the encoders alone, ours against the
 * library's serializers; the compressors alone, ours against zlib; and bytes
 * per point on the wire. Compare ratios, not absolute times.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { deflateRawSync } from 'node:zlib';
import { OTLPMetricExporter as HttpJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DeflateEncoder } from '../src/compress/deflate-encoder.js';
import { JsonEncoder } from '../src/exporters/otlphttp/encode-json.js';
import { ProtoEncoder } from '../src/exporters/otlphttp/encode-proto.js';
import { OtlpHttpExporter } from '../src/exporters/otlphttp/exporter.js';
import { otlpHttpExporterFactory } from '../src/exporters/otlphttp/index.js';
import type { ResourceBatch } from '../src/model/batch.js';
import { advance, makeRunners, snapshot, type FarmShape, type Runner } from './synthetic-batch.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../src/telemetry/health.js';

const RESOURCES = 100;
const SLOTS = 20;
const COUNTERS = 20;
const GAUGES = 25;
const HISTOGRAM_POINTS = 100;
/** 20 counters × 20 + 25 gauges × 20 + 100 histogram points = 1000 points per runner. */
const POINTS = RESOURCES * (COUNTERS * SLOTS + GAUGES * SLOTS + HISTOGRAM_POINTS);
const ROUNDS = 7;
const START: [number, number] = [1_700_000_000, 123_456_789];

const SHAPE: FarmShape = { resources: RESOURCES, slots: SLOTS, counters: COUNTERS, gauges: GAUGES, histogramPoints: HISTOGRAM_POINTS };

/**
 * One batch per runner, rewritten in place for each round (`advance`), as the
 * receiver's scrape state rewrites its points: what is timed is the exporter's
 * own work and garbage. With a fresh snapshot per round, the 100,000 points of
 * the round before were collected during the next timed push, adding the same
 * few milliseconds to every side.
 */
class Rounds {
  private readonly batches: ResourceBatch[];
  constructor(runners: readonly Runner[]) {
    this.batches = runners.map((r) => snapshot(r, SHAPE, 0, START, START));
  }
  at(round: number): ResourceBatch[] {
    const end: [number, number] = [START[0] + round * 15, 0];
    for (const batch of this.batches) advance(batch, SHAPE, round, end);
    return this.batches;
  }
}

/** A sink that accepts everything and counts bytes on the wire. */
class Sink {
  bytes = 0;
  requests = 0;
  private constructor(private readonly server: Server) {}
  static async start(): Promise<Sink> {
    const server = createServer();
    const sink = new Sink(server);
    server.on('request', (req, res) => {
      sink.requests++;
      req.on('data', (c: Buffer) => (sink.bytes += c.length));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return sink;
  }
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/metrics`;
  }
  reset(): void {
    this.bytes = 0;
    this.requests = 0;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    return once(this.server, 'close').then(() => undefined);
  }
}

interface Figures {
  /** Median wall time of one push of all POINTS, ms. */
  readonly ms: number;
  readonly bytesPerPoint: number;
  readonly requestsPerPush: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One side of a comparison: a push of one round's snapshots, and what to do when done. */
interface Side {
  readonly push: (batches: ResourceBatch[]) => Promise<void>;
  readonly close: () => Promise<void>;
}

/**
 * Every side pushes each round in turn (A/B/A/B…), so that a machine busy with
 * other work slows all sides alike; the figures are each side's median. Each
 * timed push follows an untimed push of the same side: a push pays for some of
 * the garbage of the push before it, and it should be its own side's, as in an
 * exporter pushing again and again. Timed right after another side's push, ours
 * paid for the library's garbage (its 100 requests leave the most): 26.5–29.8 ms
 * on Node 24 where 22.4 ms otherwise, and which side paid for whose depended on
 * the order.
 *
 * The round's batches are rewritten before the clock starts, for every side
 * alike: making 100,000 points is the producer's work (a receiver's, or the
 * SDK's), not the exporter's, and timed with the push it added the same
 * ~10–20 ms to both sides, which pulled every ratio towards 1 (see Rounds).
 *
 * No forced GC (`gc()`) between pushes, here or in encodeMs: a forced full GC
 * frees the hidden class of any object that has no instance alive at that moment,
 * and V8 then discards the optimized code that checked it. The library makes a new
 * ProtobufWriter per export, so every forced GC deoptimized its serializer
 * (`--trace-deopt`: "weak objects"), which halved its speed and doubled our ratio.
 * Its garbage is collected during the rounds instead, as in a running process.
 */
async function interleaved(sink: Sink, rounds: Rounds, sides: readonly Side[]): Promise<Figures[]> {
  const times = sides.map((): number[] => []);
  const bytes = sides.map(() => 0);
  const requests = sides.map(() => 0);
  try {
    for (const side of sides) await side.push(rounds.at(0)); // warm-up: connections, JIT
    for (let round = 1; round <= ROUNDS; round++) {
      for (let i = 0; i < sides.length; i++) {
        const batches = rounds.at(round);
        await sides[i]!.push(batches); // untimed: the timed push follows one of its own side
        sink.reset();
        const t0 = performance.now();
        await sides[i]!.push(batches);
        times[i]!.push(performance.now() - t0);
        bytes[i]! += sink.bytes;
        requests[i]! += sink.requests;
      }
    }
  } finally {
    for (const side of sides) await side.close();
  }
  return sides.map((_, i) => ({ ms: median(times[i]!), bytesPerPoint: bytes[i]! / (POINTS * ROUNDS), requestsPerPush: requests[i]! / ROUNDS }));
}

/** Our exporter: consume every runner's snapshot, then one push (encode, gzip, queue, POST). */
async function ours(sink: Sink, body: Record<string, unknown>): Promise<Side> {
  const config = otlpHttpExporterFactory.configSchema.parse({ metrics_endpoint: sink.url, export_interval: '1h', ...body });
  const exporter = new OtlpHttpExporter(config, { id: 'otlphttp/bench', kind: 'exporter', logger: silentLogger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() });
  await exporter.start();
  return {
    push: async (batches) => {
      exporter.consume(batches);
      await exporter.forceFlush();
    },
    close: () => exporter.shutdown(),
  };
}

/** The library exporter, as an application would use it: one export() per resource, all in parallel. */
function library(exporter: PushMetricExporter): Side {
  return {
    push: async (batches) => {
      await Promise.all(
        (batches as unknown as ResourceMetrics[]).map(
          (b) =>
            new Promise<void>((resolve, reject) =>
              exporter.export(b, (result) => (result.code === 0 ? resolve() : reject(result.error ?? new Error('export failed')))),
            ),
        ),
      );
    },
    close: () => exporter.shutdown(),
  };
}

/** Encoders alone, no HTTP: median ms to encode all resources once. */
function encodeMs(encode: (batch: ResourceBatch) => unknown, rounds: Rounds): { ms: number; bytes: number } {
  const times: number[] = [];
  let bytes = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const batches = rounds.at(round);
    const t0 = performance.now();
    bytes = 0;
    for (const b of batches) bytes += (encode(b) as Uint8Array).length;
    if (round > 0) times.push(performance.now() - t0);
  }
  return { ms: median(times), bytes };
}

/**
 * The compressors alone, on one thread, on one push's protobuf body
 * (backend/model/mode on points): DeflateEncoder given the encoder's anchors,
 * and zlib's levels 5 and 6 (the levels the exporter used, and zlib's default).
 */
function compressorsAlone(batches: ResourceBatch[], promoted: string[]): void {
  const encoder = new ProtoEncoder(promoted);
  const parts: Buffer[] = [];
  const anchors: number[] = [];
  let offset = 0;
  for (const batch of batches) {
    const bytes = Buffer.from(encoder.encodeResource(batch));
    const own = encoder.anchors();
    for (let i = 0; i < own.length; i += 2) anchors.push(own[i]! + offset, own[i + 1]!);
    parts.push(bytes);
    offset += bytes.length;
  }
  const body = Buffer.concat(parts);
  const anchorPairs = Int32Array.from(anchors);
  const deflater = new DeflateEncoder();
  const time = (compress: () => Uint8Array) => {
    const times: number[] = [];
    let size = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      const t0 = performance.now();
      size = compress().length;
      if (round > 0) times.push(performance.now() - t0);
    }
    return { ms: median(times), size };
  };
  const ours = time(() => {
    deflater.reset();
    deflater.write(body, anchorPairs);
    return deflater.finish();
  });
  const zlib5 = time(() => deflateRawSync(body, { level: 5 }));
  const zlib6 = time(() => deflateRawSync(body, { level: 6 }));
  const row = (label: string, c: { ms: number; size: number }) =>
    console.log(`  ${label.padEnd(44)} ${c.ms.toFixed(1).padStart(7)} ms  ${(c.size / POINTS).toFixed(2)} B/point  ${(zlib5.ms / c.ms).toFixed(2)}x zlib level 5's speed`);
  console.log(`  compressors alone, one thread, one push's protobuf body (${(body.length / 1e6).toFixed(1)} MB):`);
  row('DeflateEncoder, anchored by ProtoEncoder', ours);
  row('zlib level 5', zlib5);
  row('zlib level 6', zlib6);
}

const rate = (f: Figures) => `${Math.round(POINTS / (f.ms / 1000)).toLocaleString('en-US')} points/s`;
const line = (label: string, f: Figures) =>
  `  ${label.padEnd(44)} ${f.ms.toFixed(1).padStart(7)} ms  ${rate(f).padStart(18)}  ${f.bytesPerPoint.toFixed(2)} B/point  ${f.requestsPerPush} req/push`;
const ratio = (ours: Figures, base: Figures) =>
  `${(base.ms / ours.ms).toFixed(2)}x the points/s, ${(ours.bytesPerPoint / base.bytesPerPoint).toFixed(2)}x the bytes`;

export async function run(): Promise<void> {
  const rounds = new Rounds(makeRunners(SHAPE));
  const sink = await Sink.start();
  const libraryOptions = (url: string) =>
    ({ url, compression: 'gzip', concurrencyLimit: RESOURCES, timeoutMillis: 60_000 }) as ConstructorParameters<typeof ProtoExporter>[0];
  try {
    console.log(
      `otlphttp push: ${RESOURCES} resources x ${POINTS / RESOURCES} points = ${POINTS.toLocaleString('en-US')} points per push, gzip, median of ${ROUNDS} rounds, sides interleaved`,
    );
    const [protoOurs, protoBare, protoLib] = await interleaved(sink, rounds, [
      await ours(sink, {}),
      await ours(sink, { resource_to_attributes: [] }),
      library(new ProtoExporter(libraryOptions(sink.url))),
    ]);
    const [jsonOurs, jsonLib] = await interleaved(sink, rounds, [
      await ours(sink, { encoding: 'json' }),
      library(new HttpJsonExporter(libraryOptions(sink.url))),
    ]);
    console.log(line('otlphttp proto (backend/model/mode on points)', protoOurs));
    console.log(line('otlphttp proto (resource_to_attributes: [])', protoBare));
    console.log(line('library OTLPMetricExporter (proto)', protoLib));
    console.log(line('otlphttp json (backend/model/mode on points)', jsonOurs));
    console.log(line('library OTLPMetricExporter (json)', jsonLib));
    console.log(`  ratio proto, same attributes / library     ${ratio(protoBare, protoLib)}`);
    console.log(`  ratio proto, promoted attrs / library      ${ratio(protoOurs, protoLib)}`);
    console.log(`  ratio json / library json                  ${ratio(jsonOurs, jsonLib)}`);

    const promoted = ['backend', 'model', 'mode'];
    const protoEncoder = new ProtoEncoder([]);
    const encProtoReused = encodeMs((b) => protoEncoder.encodeResource(b), rounds);
    const promotedEncoder = new ProtoEncoder(promoted);
    const encProtoPromoted = encodeMs((b) => promotedEncoder.encodeResource(b), rounds);
    const encProtoLib = encodeMs((b) => ProtobufMetricsSerializer.serializeRequest(b as unknown as ResourceMetrics), rounds);
    const jsonEncoder = new JsonEncoder([]);
    const encJson = encodeMs((b) => jsonEncoder.encodeResource(b), rounds);
    const encJsonLib = encodeMs((b) => JsonMetricsSerializer.serializeRequest(b as unknown as ResourceMetrics), rounds);
    const enc = (label: string, e: { ms: number; bytes: number }, base?: { ms: number }) =>
      console.log(
        `  ${label.padEnd(44)} ${e.ms.toFixed(1).padStart(7)} ms  ${Math.round(POINTS / (e.ms / 1000)).toLocaleString('en-US').padStart(11)} points/s  ${(e.bytes / POINTS).toFixed(2)} B/point raw` +
          (base ? `  ${(base.ms / e.ms).toFixed(2)}x library speed` : ''),
      );
    console.log('  encoders alone (no gzip, no HTTP):');
    enc('ProtoEncoder (same attributes)', encProtoReused, encProtoLib);
    enc('ProtoEncoder, backend/model/mode on points', encProtoPromoted, encProtoLib);
    enc('library ProtobufMetricsSerializer', encProtoLib);
    enc('JsonEncoder (same attributes)', encJson, encJsonLib);
    enc('library JsonMetricsSerializer', encJsonLib);
    compressorsAlone(rounds.at(ROUNDS + 1), promoted);
  } finally {
    await sink.close();
  }
}

// Run directly (`node dist/bench/otlp.js`) as well as from bench/run.ts.
if (import.meta.url === `file://${process.argv[1]}`) await run();

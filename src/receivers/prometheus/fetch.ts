/**
 * One HTTP GET of a metrics page with Prometheus' guard rails: a hard timeout for
 * the whole exchange, a cap on the (uncompressed) body size, gzip, and errors that
 * say what went wrong in a few words (they become the target's `down` reason).
 */
import { Agent, request, type Dispatcher } from 'undici';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { SELF_SCOPE } from '../../telemetry/self-metrics.js';
import type { LabelLimitName } from '../../prometheus/errors.js';
import { Deadline } from '../../net/deadline.js';

/**
 * Text format 0.0.4 only. Python's prometheus_client (vLLM, SGLang) answers with
 * OpenMetrics whenever the Accept header mentions it at all, whatever its q, and
 * OpenMetrics renames families (`foo_total` becomes `foo`); asking for text keeps
 * every name as a Prometheus server scraping the runner itself would store it.
 */
export const SCRAPE_ACCEPT = 'text/plain;version=0.0.4;q=1.0,*/*;q=0.1';

export const USER_AGENT = `runner-metrics/${SELF_SCOPE.version}`;

/** Why a scrape failed: the `reason` label of the failure counter. */
export type ScrapeFailureReason =
  | 'connect'
  | 'timeout'
  | 'http_status'
  | 'body_too_large'
  | 'parse'
  | 'sample_limit'
  | LabelLimitName
  | 'io';

export class ScrapeError extends Error {
  constructor(
    message: string,
    /** A short, stable cause for the failure counter's `reason` label. */
    readonly reason: ScrapeFailureReason,
    /** The HTTP status, for reason `http_status` (a 404 tells "not served" from "failing"). */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface FetchedPage {
  readonly body: string;
  readonly contentType: string;
  /** Bytes as received on the wire (compressed size when gzip was used). */
  readonly wireBytes: number;
}

export interface FetchOptions {
  readonly url: string;
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly bodyLimit: number;
  readonly headers: Record<string, string>;
}

/** An agent for a Unix-socket target, or the shared TCP agent. */
export function createDispatcher(socketPath: string | undefined, timeoutMs: number): Agent {
  return new Agent({
    connect: socketPath ? { socketPath, timeout: timeoutMs } : { timeout: timeoutMs },
    keepAliveTimeout: 30_000,
    // Backstops only: fetchPage's own deadline ends a request first, once it has read what
    // arrived in time (net/deadline.ts); undici's timers, run before I/O is polled, would not.
    headersTimeout: 2 * timeoutMs,
    bodyTimeout: 2 * timeoutMs,
    connections: socketPath ? 1 : null,
  });
}

export async function fetchPage(opts: FetchOptions): Promise<FetchedPage> {
  // Not AbortSignal.timeout(): its timer outlives the scrape and, firing after it, builds
  // a DOMException (stack trace included) for every scrape. This one is cleared when done.
  const controller = new AbortController();
  const deadline = new Deadline(opts.timeoutMs, () => controller.abort());
  try {
    return await fetchWithin(opts, controller.signal);
  } finally {
    deadline.clear();
  }
}

async function fetchWithin(opts: FetchOptions, signal: AbortSignal): Promise<FetchedPage> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(opts.url, {
      method: 'GET',
      dispatcher: opts.dispatcher,
      signal,
      headers: { accept: SCRAPE_ACCEPT, 'accept-encoding': 'gzip', 'user-agent': USER_AGENT, ...opts.headers },
    });
  } catch (err) {
    throw classify(err, signal, opts.timeoutMs);
  }
  try {
    if (res.statusCode < 200 || res.statusCode > 299) {
      res.body.resume();
      throw new ScrapeError(`server returned HTTP status ${res.statusCode}`, 'http_status', res.statusCode);
    }
    const declared = Number(res.headers['content-length']);
    const gzipped = String(res.headers['content-encoding'] ?? '').toLowerCase() === 'gzip';
    if (opts.bodyLimit > 0 && !gzipped && declared > opts.bodyLimit) {
      res.body.destroy();
      throw bodyTooLarge(opts.bodyLimit);
    }
    const counter = { wire: 0 };
    const source = res.body as unknown as Readable;
    source.on('data', (c: Buffer) => (counter.wire += c.length));
    const stream: Readable = gzipped ? source.pipe(createGunzip()) : source;
    const body = await readLimited(stream, opts.bodyLimit, source);
    return { body, contentType: String(res.headers['content-type'] ?? ''), wireBytes: counter.wire };
  } catch (err) {
    if (err instanceof ScrapeError) throw err;
    throw classify(err, signal, opts.timeoutMs, true);
  }
}

async function readLimited(stream: Readable, limit: number, source: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (limit > 0 && size > limit) {
      source.destroy();
      stream.destroy();
      throw bodyTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

export function bodyTooLarge(limit: number): ScrapeError {
  return new ScrapeError(`body exceeds body_size_limit of ${limit} bytes`, 'body_too_large');
}

/**
 * `headersReceived`: the target answered, so a socket error now (a reset in the
 * middle of the body) is a broken transfer (`io`), not a failure to connect.
 */
function classify(err: unknown, signal: AbortSignal, timeoutMs: number, headersReceived = false): ScrapeError {
  if (signal.aborted) return new ScrapeError(`scrape timed out after ${timeoutMs}ms`, 'timeout');
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code ?? '';
  if (/TIMEOUT/i.test(code)) return new ScrapeError(`scrape timed out after ${timeoutMs}ms`, 'timeout');
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') return new ScrapeError(`bad gzip body: ${e.message}`, 'io');
  if (!headersReceived && /ECONNREFUSED|ENOENT|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EACCES|UND_ERR_SOCKET|EPIPE/.test(code)) {
    return new ScrapeError(`${e.message || code} (${code})`, 'connect');
  }
  return new ScrapeError(e?.message ? `${e.message}${code ? ` (${code})` : ''}` : String(err), 'io');
}

/**
 * One POST of an encoded request, classified the way the Collector's otlphttp
 * exporter does: 2xx delivered (perhaps partially), 429/502/503/504 and network
 * errors worth retrying, anything else permanent.
 */
import { Agent, request } from 'undici';
import { parseRetryAfter } from './backoff.js';
import type { Compression, Encoding } from './queue.js';
import { readErrorMessage, readPartialSuccess, type PartialSuccess } from './response.js';

export type SendResult =
  | { readonly kind: 'ok'; readonly partial?: PartialSuccess }
  | { readonly kind: 'retryable'; readonly cause: string; readonly retryAfter?: number }
  | { readonly kind: 'permanent'; readonly cause: string; readonly message: string };

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

const CONTENT_TYPE: Record<Encoding, string> = {
  proto: 'application/x-protobuf',
  json: 'application/json',
};

export interface HttpSenderOptions {
  readonly url: string;
  /** Extra headers (user headers, Authorization); never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeout: number;
  readonly userAgent: string;
}

export class HttpSender {
  private readonly agent: Agent;

  constructor(private readonly options: HttpSenderOptions) {
    this.agent = new Agent({ connections: 4, keepAliveTimeout: 30_000, connectTimeout: options.timeout });
  }

  async send(body: Uint8Array, encoding: Encoding, compression: Compression, signal: AbortSignal): Promise<SendResult> {
    const headers: Record<string, string> = {
      ...this.options.headers,
      'content-type': CONTENT_TYPE[encoding],
      'user-agent': this.options.userAgent,
    };
    if (compression === 'gzip') headers['content-encoding'] = 'gzip';
    try {
      const res = await request(this.options.url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeout)]),
        headersTimeout: this.options.timeout,
        bodyTimeout: this.options.timeout,
      });
      const reply = new Uint8Array(await res.body.arrayBuffer());
      const contentType = header(res.headers['content-type']);
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        const partial = readPartialSuccess(reply, contentType);
        return partial ? { kind: 'ok', partial } : { kind: 'ok' };
      }
      if (RETRYABLE_STATUS.has(status)) {
        const retryAfter = parseRetryAfter(res.headers['retry-after']);
        return retryAfter === undefined
          ? { kind: 'retryable', cause: `HTTP ${status}` }
          : { kind: 'retryable', cause: `HTTP ${status}`, retryAfter };
      }
      return { kind: 'permanent', cause: `HTTP ${status}`, message: readErrorMessage(reply, contentType) };
    } catch (err) {
      return { kind: 'retryable', cause: networkCause(err) };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A short, stable description of a network failure (a drop cause, so no addresses or timings). */
function networkCause(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
    if (err.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
    if (err.name === 'AbortError') return 'aborted';
    if (code) return code;
    return err.message;
  }
  return String(err);
}

/**
 * How a target scraper fetches its page, scrape after scrape. A plain-HTTP target
 * (TCP or Unix socket) is asked over its own kept-alive connection by the minimal
 * client in net/http1-connection.ts, which costs a fraction of undici per request
 * (why: see there); an HTTPS target goes through undici.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Dispatcher } from 'undici';
import { Http1Connection, Http1Error, requestHead, type Http1Response } from '../../net/http1-connection.js';
import { bodyTooLarge, fetchPage, SCRAPE_ACCEPT, ScrapeError, USER_AGENT, type FetchedPage } from './fetch.js';

const gunzipAsync = promisify(gunzip);

export interface PageClient {
  fetch(): Promise<FetchedPage>;
  close(): void;
}

export interface PageClientOptions {
  readonly url: string;
  /** Set for a Unix-socket target; the URL then only gives the path and Host header. */
  readonly socketPath: string | undefined;
  /** For an HTTPS target. */
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly bodyLimit: number;
  readonly headers: Record<string, string>;
}

export function createPageClient(opts: PageClientOptions): PageClient {
  const url = new URL(opts.url);
  if (url.protocol === 'http:') return new KeptAlivePageClient(opts, url);
  return { fetch: () => fetchPage(opts), close: () => {} };
}

class KeptAlivePageClient implements PageClient {
  private readonly connection: Http1Connection;
  /** The request head, or why it cannot be sent (a header config should have refused): every scrape fails with it. */
  private readonly head: string | Error;

  constructor(
    private readonly opts: PageClientOptions,
    url: URL,
  ) {
    this.connection = new Http1Connection(
      opts.socketPath ? { socketPath: opts.socketPath } : { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80) },
    );
    const headers = { accept: SCRAPE_ACCEPT, 'accept-encoding': 'gzip', 'user-agent': USER_AGENT, ...opts.headers };
    try {
      this.head = requestHead(url.pathname + url.search, url.host, headers);
    } catch (err) {
      this.head = err as Error;
    }
  }

  async fetch(): Promise<FetchedPage> {
    const { timeoutMs, bodyLimit } = this.opts;
    if (this.head instanceof Error) throw new ScrapeError(this.head.message, 'io');
    let response: Http1Response;
    try {
      response = await this.connection.get({ head: this.head, timeoutMs, bodyLimit });
    } catch (err) {
      throw asScrapeError(err, timeoutMs, bodyLimit);
    }
    try {
      return await readPage(response, bodyLimit);
    } finally {
      // The page is text now (or failed): its bytes' buffer serves the next answer.
      response.release();
    }
  }

  close(): void {
    this.connection.close();
  }
}

async function readPage(response: Http1Response, bodyLimit: number): Promise<FetchedPage> {
  if (response.status < 200 || response.status > 299) {
    throw new ScrapeError(`server returned HTTP status ${response.status}`, 'http_status', response.status);
  }
  const wireBytes = response.body.length;
  let body = response.body;
  if ((response.headers.get('content-encoding') ?? '').toLowerCase() === 'gzip') {
    try {
      body = await gunzipAsync(body, bodyLimit > 0 ? { maxOutputLength: bodyLimit } : {});
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ERR_BUFFER_TOO_LARGE') throw bodyTooLarge(bodyLimit);
      throw new ScrapeError(`bad gzip body: ${e.message}`, 'io');
    }
  }
  return { body: body.toString('utf8'), contentType: response.headers.get('content-type') ?? '', wireBytes };
}

function asScrapeError(err: unknown, timeoutMs: number, bodyLimit: number): ScrapeError {
  if (!(err instanceof Http1Error)) return new ScrapeError(String((err as Error)?.message ?? err), 'io');
  switch (err.kind) {
    case 'timeout':
      return new ScrapeError(`scrape timed out after ${timeoutMs}ms`, 'timeout');
    case 'too_large':
      return bodyTooLarge(bodyLimit);
    case 'connect':
      return new ScrapeError(`${err.message}${err.code ? ` (${err.code})` : ''}`, 'connect');
    default:
      return new ScrapeError(`${err.message}${err.code ? ` (${err.code})` : ''}`, 'io');
  }
}

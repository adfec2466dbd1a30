/**
 * An HTTP server bound to a TCP address or a Unix socket. A socket file left by a
 * process that died is removed before listening (one still answering is not),
 * ours gets a fixed mode (not whatever the umask gives) and is removed on close.
 *
 * Connections are capped and short-lived unless they are being served, so that
 * thousands of slow or silent clients (slowloris) cannot starve a real scraper:
 * see ConnectionGuard.
 */
import { chmod, lstat, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { ConnectionGuard } from './connection-guard.js';
import type { ListenAddress } from './listen-address.js';

export interface HttpListenerOptions {
  /** Open connections at most; at the cap the oldest one not being served is closed for a new one. */
  readonly maxConnections?: number;
  /** How long a client may take to send a complete request head. */
  readonly headersTimeoutMs?: number;
  /** How long a kept-alive connection may wait for its next request. */
  readonly keepAliveTimeoutMs?: number;
  /** Permissions of a Unix socket we create. */
  readonly unixSocketMode?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 512;
export const DEFAULT_HEADERS_TIMEOUT_MS = 5_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** A connection on which nothing moves for this long is closed, whatever its state. */
export const STALLED_RESPONSE_TIMEOUT_MS = 60_000;
/** Owner and group may connect, others may not. */
export const DEFAULT_UNIX_SOCKET_MODE = 0o660;

export class HttpListener {
  private server: Server | undefined;
  private guard: ConnectionGuard | undefined;
  private bound: ListenAddress | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly handler: RequestListener,
    private readonly options: HttpListenerOptions = {},
  ) {}

  /** The address actually bound (with the OS-chosen port when 0 was asked for). */
  get address(): ListenAddress | undefined {
    return this.bound;
  }

  /** Connections currently open (tests, benchmarks). */
  get connections(): number {
    return this.guard?.size ?? 0;
  }

  async listen(address: ListenAddress): Promise<ListenAddress> {
    if (address.kind === 'unix') await removeStaleSocket(address.path);
    const headersTimeout = this.options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    const server = createServer(
      {
        headersTimeout,
        // A scrape is a GET without a body: once the head is in, the request is.
        requestTimeout: headersTimeout * 2,
        keepAliveTimeout: this.options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
        // Node checks those timeouts every 30 s by default: far too late under attack.
        connectionsCheckingInterval: Math.min(1_000, headersTimeout),
      },
      this.handler,
    );
    // A response the client stops reading holds its connection as "being served": cut it after a while.
    server.setTimeout(STALLED_RESPONSE_TIMEOUT_MS);
    const guard = new ConnectionGuard(server, {
      maxConnections: this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      waitingTimeoutMs: headersTimeout,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if (address.kind === 'unix') server.listen(address.path, done);
      else if (address.host === '') server.listen(address.port, done);
      else server.listen(address.port, address.host, done);
    });
    this.server = server;
    this.guard = guard;
    if (address.kind === 'unix') {
      this.bound = address;
      try {
        await chmod(address.path, this.options.unixSocketMode ?? DEFAULT_UNIX_SOCKET_MODE);
      } catch (error) {
        await this.close();
        throw error;
      }
    } else {
      const info = server.address() as AddressInfo;
      this.bound = { kind: 'tcp', host: address.host === '' ? info.address : address.host, port: info.port };
    }
    return this.bound;
  }

  /** Stops accepting, drops idle keep-alive connections, removes our socket file. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.guard?.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
    if (this.bound?.kind === 'unix') await rm(this.bound.path, { force: true });
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat?.isSocket()) return; // absent, or not a socket: listen reports the problem
  if (await socketAnswers(path)) return; // in use: listen fails with EADDRINUSE, as it should
  await rm(path, { force: true });
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

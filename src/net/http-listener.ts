/**
 * An HTTP server bound to a TCP address or a Unix socket. A socket file left by a
 * process that died is removed before listening (one still answering is not),
 * and ours is removed on close.
 */
import { lstat, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { ListenAddress } from './listen-address.js';

export class HttpListener {
  private server: Server | undefined;
  private bound: ListenAddress | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly handler: RequestListener) {}

  /** The address actually bound (with the OS-chosen port when 0 was asked for). */
  get address(): ListenAddress | undefined {
    return this.bound;
  }

  async listen(address: ListenAddress): Promise<ListenAddress> {
    if (address.kind === 'unix') await removeStaleSocket(address.path);
    const server = createServer(this.handler);
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
    if (address.kind === 'unix') {
      this.bound = address;
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

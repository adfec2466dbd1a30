/**
 * A stand-in Docker Model Runner: a real HTTP server on a Unix socket (as
 * model-runner.sock) or on 127.0.0.1, answering each path as told, 404 for any
 * other path. Answers can change between requests; every request is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { readFixture } from './fixtures.js';

export const DMR_PS = readFixture('runners', 'dmr-engines-ps.json');
export const DMR_METRICS = readFixture('runners', 'dmr-aggregated.prom');

export class DmrServer {
  readonly routes = new Map<string, { status: number; body: string; contentType: string }>();
  readonly requests: string[] = [];
  private readonly server: Server;

  private constructor(readonly socketPath: string | undefined) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  static async start(socketPath?: string): Promise<DmrServer> {
    const s = new DmrServer(socketPath);
    if (socketPath) rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      if (socketPath) s.server.listen(socketPath, resolve);
      else s.server.listen(0, '127.0.0.1', resolve);
    });
    return s;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  json(path: string, body: string): void {
    this.routes.set(path, { status: 200, body, contentType: 'application/json' });
  }

  text(path: string, body: string): void {
    this.routes.set(path, { status: 200, body, contentType: 'text/plain; version=0.0.4; charset=utf-8' });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push(path);
    const r = this.routes.get(path);
    if (!r) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
    res.writeHead(r.status, { 'content-type': r.contentType }).end(r.body);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }
}

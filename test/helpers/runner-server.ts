/**
 * A stand-in runner: a real HTTP server (TCP on 127.0.0.1 or a Unix socket) that
 * serves fixture bodies the way llama-server or Docker Model Runner would, and can
 * be told to misbehave (hang, 500, garbage, huge body) per request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';

export type Behaviour =
  | { kind: 'body'; body: string; contentType?: string; gzip?: boolean }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' }
  | { kind: 'huge'; bytes: number }
  /** Sends the headers and the start of a body, then resets the connection. */
  | { kind: 'reset'; partial: string };

export class RunnerServer {
  behaviour: Behaviour;
  requests = 0;
  lastHeaders: IncomingMessage['headers'] = {};
  /** Requests per path: `/metrics` are scrapes, `/props` and `/v1/models` questions about the runner's identity. */
  readonly requestsByPath = new Map<string, number>();
  /** The headers of the last request for each path (a scrape and identity questions go to different paths). */
  readonly headersByPath = new Map<string, IncomingMessage['headers']>();
  /** As sent, duplicates included (node keeps only the first `authorization` in `headers`). */
  lastRawHeaders: string[] = [];
  /** `lastRawHeaders` for each path. */
  readonly rawHeadersByPath = new Map<string, string[]>();
  private readonly server: Server;
  private readonly hung: ServerResponse[] = [];

  private constructor(initial: Behaviour, readonly socketPath?: string) {
    this.behaviour = initial;
    this.server = createServer((req, res) => this.handle(req, res));
  }

  static async start(body: string | Behaviour, socketPath?: string): Promise<RunnerServer> {
    const s = new RunnerServer(typeof body === 'string' ? { kind: 'body', body } : body, socketPath);
    if (socketPath) rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      if (socketPath) s.server.listen(socketPath, resolve);
      else s.server.listen(0, '127.0.0.1', resolve);
    });
    return s;
  }

  /** Requests for the default metrics path. */
  get scrapes(): number {
    return this.requestsByPath.get('/metrics') ?? 0;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  serve(body: string): void {
    this.behaviour = { kind: 'body', body };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    this.lastHeaders = req.headers;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requestsByPath.set(path, (this.requestsByPath.get(path) ?? 0) + 1);
    this.headersByPath.set(path, req.headers);
    this.lastRawHeaders = req.rawHeaders;
    this.rawHeadersByPath.set(path, req.rawHeaders);
    const b = this.behaviour;
    switch (b.kind) {
      case 'body': {
        const headers: Record<string, string> = { 'content-type': b.contentType ?? 'text/plain; version=0.0.4; charset=utf-8' };
        if (b.gzip) {
          headers['content-encoding'] = 'gzip';
          res.writeHead(200, headers).end(gzipSync(b.body));
        } else res.writeHead(200, headers).end(b.body);
        return;
      }
      case 'status':
        res.writeHead(b.status, { 'content-type': 'application/json' }).end(b.body ?? '{"error":"boom"}');
        return;
      case 'hang':
        this.hung.push(res);
        return;
      case 'huge': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const line = 'llamacpp:padding 1\n'.repeat(1000);
        let sent = 0;
        const pump = () => {
          while (sent < b.bytes) {
            sent += line.length;
            if (!res.write(line)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('error', () => undefined);
        pump();
        return;
      }
      case 'reset': {
        // No content-length: the client cannot tell the body is cut short until the reset.
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'transfer-encoding': 'chunked' });
        res.write(b.partial, () => setTimeout(() => res.socket?.resetAndDestroy(), 20));
        return;
      }
    }
  }

  async close(): Promise<void> {
    for (const r of this.hung.splice(0)) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }
}

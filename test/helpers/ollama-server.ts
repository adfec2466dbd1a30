/**
 * A stand-in Ollama: a real HTTP server on 127.0.0.1 answering each path as told
 * (JSON body, status, hang), 404 for any other path as Ollama does. It can go
 * away and come back on the same port, and records every request it got.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFixture } from './fixtures.js';
import { RestartableServer } from './restartable-server.js';

export type Answer =
  | { kind: 'body'; body: string; contentType?: string }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' };

export const OLLAMA_PS = readFixture('runners', 'ollama-api-ps.json');
export const OLLAMA_TAGS = readFixture('runners', 'ollama-api-tags.json');
export const OLLAMA_VERSION = readFixture('runners', 'ollama-api-version.json');
export const NO_MODELS_LOADED = '{"models":[]}';

export class OllamaServer extends RestartableServer {
  readonly routes = new Map<string, Answer>();
  readonly requests: Array<{ method: string; path: string }> = [];

  /** Starts with Ollama's documented answers on /api/ps, /api/tags and /api/version, and no /metrics. */
  static async start(): Promise<OllamaServer> {
    const s = new OllamaServer();
    s.json('/api/ps', OLLAMA_PS);
    s.json('/api/tags', OLLAMA_TAGS);
    s.json('/api/version', OLLAMA_VERSION);
    await s.listen();
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  get instance(): string {
    return `127.0.0.1:${this.boundPort}`;
  }

  json(path: string, body: string): void {
    this.routes.set(path, { kind: 'body', body, contentType: 'application/json; charset=utf-8' });
  }

  answer(path: string, answer: Answer): void {
    this.routes.set(path, answer);
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ method: req.method ?? '', path });
    const a = this.routes.get(path);
    if (a === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
      return;
    }
    switch (a.kind) {
      case 'body':
        res.writeHead(200, { 'content-type': a.contentType ?? 'application/json; charset=utf-8' }).end(a.body);
        return;
      case 'status':
        res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8' }).end(a.body ?? '{"error":"boom"}');
        return;
      case 'hang':
        this.hung.push(res);
        return;
    }
  }
}

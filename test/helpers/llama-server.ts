/**
 * A stand-in llama-server: a real HTTP server on 127.0.0.1 answering `/metrics`,
 * `/props`, `/v1/models` and `/slots` with real captured answers (b4748 or
 * v0.5.0), each path replaceable by a status, garbage or a hang. It can go away
 * and come back on the same port serving another model, and records every
 * request (path and query) it got.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFixture } from './fixtures.js';
import { RestartableServer } from './restartable-server.js';

export type Answer =
  | { kind: 'body'; body: string; contentType?: string }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' };

/** What one llama-server serving one model answers. */
export interface ModelAnswers {
  readonly metrics: string;
  readonly props: string;
  readonly models: string;
  readonly slots?: string;
}

const real = (name: string) => readFixture('llamacpp-real', name);
const v050 = (name: string) => readFixture('llamacpp-router', name);

/** b4748, `--alias tiny-llama-rand` (completion) and `--alias tiny-bert-rand --embeddings` (embedding). */
export const B4748_COMPLETION: ModelAnswers = {
  metrics: real('completion.after-traffic.metrics.prom'),
  props: real('completion.after-traffic.props.json'),
  models: real('completion.after-traffic.v1-models.json'),
  slots: real('completion.after-traffic.slots.json'),
};
export const B4748_EMBEDDING: ModelAnswers = {
  metrics: real('embedding.after-traffic.metrics.prom'),
  props: real('embedding.after-traffic.props.json'),
  models: real('embedding.after-traffic.v1-models.json'),
  slots: real('embedding.after-traffic.slots.json'),
};
/** v0.5.0 single-model servers, as a router's children answer on their own ports. */
export const V050_CHILD_COMPLETION: ModelAnswers = {
  metrics: v050('router.v0.5.0.d-both-loaded.child-tiny-llama-rand-direct.metrics.prom'),
  props: v050('router.v0.5.0.d-both-loaded.child-tiny-llama-rand-direct.props.json'),
  models: v050('router.v0.5.0.d-both-loaded.child-tiny-llama-rand-direct.v1-models.json'),
};
export const V050_CHILD_EMBEDDING: ModelAnswers = {
  metrics: v050('router.v0.5.0.d-both-loaded.child-tiny-bert-rand-direct.metrics.prom'),
  props: v050('router.v0.5.0.d-both-loaded.child-tiny-bert-rand-direct.props.json'),
  models: v050('router.v0.5.0.d-both-loaded.child-tiny-bert-rand-direct.v1-models.json'),
};

const JSON_TYPE = 'application/json; charset=utf-8';
const METRICS_TYPE = 'text/plain; version=0.0.4';

export class LlamaServer extends RestartableServer {
  readonly routes = new Map<string, Answer>();
  readonly requests: Array<{ method: string; path: string; query: string }> = [];

  /** Listens on `port` when given, else on a free one. */
  static async start(model: ModelAnswers = B4748_COMPLETION, port?: number): Promise<LlamaServer> {
    const s = new LlamaServer();
    s.serve(model);
    await s.listen(port);
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** Answers as a server running this model (every path replaced). */
  serve(model: ModelAnswers): void {
    this.routes.set('/metrics', { kind: 'body', body: model.metrics, contentType: METRICS_TYPE });
    this.routes.set('/props', { kind: 'body', body: model.props, contentType: JSON_TYPE });
    this.routes.set('/v1/models', { kind: 'body', body: model.models, contentType: JSON_TYPE });
    if (model.slots !== undefined) this.routes.set('/slots', { kind: 'body', body: model.slots, contentType: JSON_TYPE });
  }

  answer(path: string, answer: Answer): void {
    this.routes.set(path, answer);
  }

  /** Requests for one path. */
  asked(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.search });
    const a = this.routes.get(url.pathname);
    if (a === undefined) {
      res.writeHead(404, { 'content-type': JSON_TYPE }).end('{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}');
      return;
    }
    switch (a.kind) {
      case 'body':
        res.writeHead(200, { 'content-type': a.contentType ?? JSON_TYPE }).end(a.body);
        return;
      case 'status':
        res.writeHead(a.status, { 'content-type': JSON_TYPE }).end(a.body ?? '{"error":{"code":500,"message":"boom","type":"server_error"}}');
        return;
      case 'hang':
        this.hung.push(res);
        return;
    }
  }
}

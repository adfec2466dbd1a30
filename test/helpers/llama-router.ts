/**
 * A stand-in llama.cpp router (v0.5.0): a real HTTP server on 127.0.0.1 that
 * replays `/models` captures (also on `/v1/models`, as the router does) and
 * serves a child's `/metrics` and `/props` through `?model=ID` only while
 * `/models` says it runs, as the real router does (400 `model is not loaded`).
 * Every request is recorded as `METHOD /path?query`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFixture } from './fixtures.js';
import { RestartableServer } from './restartable-server.js';

const fx = (name: string) => readFixture('llamacpp-router', name);

/** What each child answers through the router (captures with `autoload=false`). */
const CHILD: Record<string, { metrics: string; props: string }> = {
  'tiny-llama-rand': {
    metrics: fx('router.v0.5.0.b-llama-loaded.metrics.model-tiny-llama-rand.autoload-false.prom'),
    props: fx('router.v0.5.0.b-llama-loaded.props.model-tiny-llama-rand.autoload-false.json'),
  },
  'tiny-bert-rand': {
    metrics: fx('router.v0.5.0.d-both-loaded.metrics.model-tiny-bert-rand.autoload-false.prom'),
    props: fx('router.v0.5.0.d-both-loaded.props.model-tiny-bert-rand.autoload-false.json'),
  },
};
const NOT_LOADED = fx('router.v0.5.0.b-llama-loaded.metrics.model-tiny-bert-rand.autoload-false.json');
const NO_MODEL = fx('router.v0.5.0.d-both-loaded.metrics.no-model.json');

export class LlamaRouter extends RestartableServer {
  /** The `/models` answer now: a capture file's text. */
  models: string;
  readonly requests: string[] = [];

  private constructor(capture: string) {
    super();
    this.models = fx(capture);
  }

  /** Starts answering as in `capture` (a `router.v0.5.0.*.models.json` file). */
  static async start(capture = 'router.v0.5.0.b-llama-loaded.models.json'): Promise<LlamaRouter> {
    const r = new LlamaRouter(capture);
    await r.listen();
    return r;
  }

  replay(capture: string): void {
    this.models = fx(capture);
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://router');
    const json = (status: number, body: string): void => void res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(body);
    if (url.pathname === '/models' || url.pathname === '/v1/models') return json(200, this.models);
    const model = url.searchParams.get('model');
    if (model === null && url.pathname === '/metrics') return json(400, NO_MODEL);
    const child = model === null ? undefined : CHILD[model];
    if (child === undefined || (url.pathname !== '/metrics' && url.pathname !== '/props')) return json(404, '{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}');
    const running = (JSON.parse(this.models).data as Array<{ id: string; status?: { value: string } }>).some(
      (m) => m.id === model && (m.status?.value === 'loaded' || m.status?.value === 'sleeping'),
    );
    if (!running) return json(400, NOT_LOADED);
    if (url.pathname === '/props') return json(200, child.props);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(child.metrics);
  }
}

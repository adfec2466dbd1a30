/**
 * A real llama-server (llama.cpp v0.5.0) for end-to-end tests, in single mode
 * (one model) or router mode (both tiny models in a preset), always with
 * `--metrics`, on a free port, started in its own process group and always
 * stopped by the caller's cleanup (a router's children go with it).
 *
 * The binary comes from test/setup/llama-server.sh (built once, cached outside
 * the repository; `npm test`'s pretest runs it). The tiny models are written by
 * the GGUF writer next to the cached vocab files. When the binary cannot be
 * built (no compiler, no network for the source package), `realLlamaServer()`
 * answers why, and the tests skip with that reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './fixtures.js';
import { tinyModels, TINY_BERT, TINY_LLAMA, VOCABS } from './gguf-writer.js';
import { eventually, freePort, httpGet, startProcess, stopProcess, type Running } from './processes.js';
import { parseFamilies } from '../../src/prometheus/families.js';
import { Agent, fetch as undiciFetch } from 'undici';

/**
 * The test's own requests to llama-server open a connection each: the server
 * closes idle keep-alive connections after 5 s, and a request sent on one just
 * as it closes fails with "other side closed".
 */
const freshConnections = new Agent({ pipelining: 0 });

const CLI = join(REPO_ROOT, 'dist/src/cli.js');

export { TINY_BERT, TINY_LLAMA };

export interface LlamaServerKit {
  readonly binary: string;
  readonly models: { readonly llama: string; readonly bert: string };
}

let kit: Promise<LlamaServerKit | string> | undefined;

/** The cached binary and the tiny models, or why there are none (the reason to skip). */
export function realLlamaServer(): Promise<LlamaServerKit | string> {
  kit ??= (async () => {
    const r = spawnSync('bash', [join(REPO_ROOT, 'test/setup/llama-server.sh')], { encoding: 'utf8' });
    const binary = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || binary === '') {
      const why = (r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ');
      return `no real llama-server: test/setup/llama-server.sh could not build it (${why || `exit ${r.status}`})`;
    }
    try {
      accessSync(binary, constants.X_OK);
    } catch {
      return `no real llama-server: ${binary} is not an executable file`;
    }
    // The vocab files the script keeps beside the binary (with LLAMA_SERVER set, put them in ../models yourself).
    const vocabs = join(dirname(dirname(binary)), 'models');
    const missing = VOCABS.filter((v) => !existsSync(join(vocabs, v)));
    if (missing.length > 0) return `no tiny models: ${missing.join(', ')} not in ${vocabs}`;
    // Written by our GGUF writer, cached beside the vocab files they copy their tokenizers from.
    const models = await tinyModels(join(dirname(dirname(binary)), 'tiny-models'), vocabs);
    return { binary, models };
  })();
  return kit;
}

export interface StartedLlamaServer {
  readonly url: string;
  readonly port: number;
  readonly process: Running;
  /** Headers that pass the server's `--api-key`, if it has one. */
  readonly auth: Record<string, string>;
  /** GET or POST with the server's API key. */
  request(path: string, body?: unknown): Promise<{ status: number; text: string }>;
  stop(): Promise<void>;
}

interface CommonOptions {
  /** `--api-key`: every endpoint but /health then needs `Authorization: Bearer <key>`. */
  readonly apiKey?: string;
}

export interface SingleOptions extends CommonOptions {
  readonly model: 'llama' | 'bert';
}

export interface RouterOptions extends CommonOptions {
  /** `--sleep-idle-seconds` (copied into every child); default off. */
  readonly sleepIdleSeconds?: number;
}

/** One model, as `llama-server -m … --alias … --metrics` (the bert model with `--embeddings --pooling mean`). */
export async function startSingle(k: LlamaServerKit, opts: SingleOptions): Promise<StartedLlamaServer> {
  const args =
    opts.model === 'llama'
      ? ['-m', k.models.llama, '--alias', TINY_LLAMA, '-np', '2', '-c', '4096']
      : ['-m', k.models.bert, '--alias', TINY_BERT, '--embeddings', '--pooling', 'mean', '-c', '512'];
  return start(k, [...args, '--metrics', '--slots', '-t', '1'], opts, undefined);
}

/** A router over both tiny models, from a preset as in the v0.5.0 captures (`--models-max 2`). */
export async function startRouter(k: LlamaServerKit, opts: RouterOptions = {}): Promise<StartedLlamaServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rm-llama-router-'));
  const preset = join(dir, 'models.ini');
  writeFileSync(
    preset,
    `version = 1

[*]
threads = 1

[${TINY_LLAMA}]
model = ${k.models.llama}
ctx-size = 4096
parallel = 2

[${TINY_BERT}]
model = ${k.models.bert}
embeddings = true
pooling = mean
ctx-size = 512
`,
  );
  const args = ['--models-preset', preset, '--metrics', '--models-max', '2'];
  if (opts.sleepIdleSeconds !== undefined) args.push('--sleep-idle-seconds', String(opts.sleepIdleSeconds));
  return start(k, args, opts, dir);
}

async function start(k: LlamaServerKit, args: string[], opts: CommonOptions, dir: string | undefined): Promise<StartedLlamaServer> {
  const port = await freePort();
  const all = [...args, '--host', '127.0.0.1', '--port', String(port)];
  // The key goes in the environment (LLAMA_API_KEY), not on the command line that /models shows.
  const env = { ...process.env, ...(opts.apiKey !== undefined ? { LLAMA_API_KEY: opts.apiKey } : {}) };
  const proc = startProcess(k.binary, all, { env, cwd: dir ?? tmpdir() });
  const url = `http://127.0.0.1:${port}`;
  const auth: Record<string, string> = opts.apiKey !== undefined ? { authorization: `Bearer ${opts.apiKey}` } : {};
  const request = async (path: string, body?: unknown) => {
    const res = await undiciFetch(`${url}${path}`, {
      dispatcher: freshConnections,
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, text: await res.text() };
  };
  const stop = async () => {
    await stopProcess(proc, 'SIGTERM', 5_000);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`llama-server exited ${proc.child.exitCode}: ${proc.output().slice(-2000)}`);
        const r = await fetch(`${url}/health`).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      `llama-server on port ${port} to be ready`,
      60_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, process: proc, auth, request, stop };
}

/** One model's state in a router's `GET /models` (which never touches a child). */
export interface RouterModelStatus {
  readonly id: string;
  readonly state: string;
  readonly args: readonly string[];
}

export async function routerModels(server: StartedLlamaServer): Promise<RouterModelStatus[]> {
  const r = await server.request('/models');
  if (r.status !== 200) throw new Error(`GET /models: HTTP ${r.status} ${r.text}`);
  const body = JSON.parse(r.text) as { data: Array<{ id: string; status: { value: string; args?: string[] } }> };
  return body.data.map((m) => ({ id: m.id, state: m.status.value, args: m.status.args ?? [] })).sort((a, b) => (a.id < b.id ? -1 : 1));
}

// ---- The collector under test, and reading its /metrics ----

/** The collector with one prometheus receiver (`receiver` is its YAML body), serving /metrics on a free port. */
export async function startCollector(receiver: string, env: Record<string, string> = {}): Promise<{ proc: Running; metrics: () => Promise<string>; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'rm-e2e-real-llama-'));
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `receivers:
  prometheus:
${receiver.replace(/^/gm, '    ')}
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`,
  );
  const proc = startProcess(process.execPath, [CLI, '--config', config], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
  const metrics = async () => {
    const r = await httpGet(`http://127.0.0.1:${port}/metrics`);
    if (r.status !== 200) throw new Error(`our /metrics: HTTP ${r.status}`);
    return r.body;
  };
  const stop = async () => {
    const code = await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, proc.output());
  };
  return { proc, metrics, stop };
}

export function labelsOf(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

/**
 * Every `llamacpp:` sample of a page whose labels include `match`, by sample
 * name: of counter families only when `countersOnly` (the server's own page; we
 * serve `llamacpp:n_tokens_max`, a maximum that resets, as a gauge).
 */
export function counters(body: string, match: Record<string, string> = {}, countersOnly = true): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of parseFamilies(body)) {
    if ((countersOnly && f.type !== 'counter') || !f.name.startsWith('llamacpp:')) continue;
    for (const s of f.samples) {
      const labels = labelsOf(s.labels);
      if (Object.entries(match).every(([k, v]) => labels[k] === v)) out.set(s.name, s.value);
    }
  }
  return out;
}

/** The resource labels of the `llamacpp:` series served for a model (one set expected). */
export function seriesLabels(body: string, model: string): Array<Record<string, string>> {
  const seen = new Map<string, Record<string, string>>();
  for (const f of parseFamilies(body)) {
    if (!f.name.startsWith('llamacpp:')) continue;
    for (const s of f.samples) {
      const l = labelsOf(s.labels);
      if (l['model'] === model) seen.set(JSON.stringify(l), l);
    }
  }
  return [...seen.values()];
}

/** `llamacpp_router_model_state` of a model: the state whose series is 1. */
export function servedState(body: string, model: string): string | undefined {
  const f = parseFamilies(body).find((x) => x.name === 'llamacpp_router_model_state');
  const on = f?.samples.filter((s) => labelsOf(s.labels)['model'] === model && s.value === 1) ?? [];
  return on.length === 1 ? labelsOf(on[0]!.labels)['state'] : undefined;
}

/** Our counters for a model equal the server's own page, once the collector has scraped after the last request. */
export async function countersMatch(metrics: () => Promise<string>, ownPage: () => Promise<string>, model: string): Promise<Map<string, number>> {
  return eventually(
    async () => {
      const own = counters(await ownPage());
      const ours = counters(await metrics(), { model }, false);
      if (own.size === 0) throw new Error('the server\'s own page has no llamacpp: counters');
      for (const [name, v] of own) if (ours.get(name) !== v) throw new Error(`${name}: ours ${ours.get(name)}, the server's ${v}`);
      return own;
    },
    `our counters of ${model} to equal the server's own`,
    15_000,
    250,
  );
}

export async function ok(server: StartedLlamaServer, path: string, body?: unknown): Promise<string> {
  const r = await server.request(path, body);
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return r.text;
}

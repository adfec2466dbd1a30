/**
 * SIGHUP replacing the push exporter (its config changed) while the OTLP backend
 * is down: the reload does not wait on the old push exporter, so /metrics is back at once, and what the push exporter had queued
 * still arrives once the backend is back: a memory queue is drained by the old
 * exporter in the background, a disk queue is handed to the new exporter
 * through its directory, each request delivered exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture, REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');
const COMPLETION = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');

/** An OTLP/HTTP backend that answers `status` and records every request body (by hash). */
class Sink {
  status = 503;
  /** Hash of every body received, with the status it was answered with, in order. */
  readonly received: Array<{ hash: string; status: number }> = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Sink> {
    let sink: Sink | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = sink!.status;
        sink!.received.push({ hash: hash(Buffer.concat(chunks)), status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{}' : '{"message":"unavailable"}');
      });
    });
    sink = new Sink(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return sink;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** How many times each body was accepted (answered 200). */
  accepted(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.received) if (r.status === 200) counts.set(r.hash, (counts.get(r.hash) ?? 0) + 1);
    return counts;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function hash(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

function config(runnerUrl: string, port: number, sinkUrl: string, storage?: string, generation = 0): string {
  return `receivers:
  prometheus/llamacpp:
    scrape_interval: 200ms
    targets:
      - url: ${runnerUrl}
        attributes: { backend: llama.cpp, model: m, mode: completion }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
  otlphttp:
    endpoint: ${sinkUrl}
    headers: { x-config-generation: "${generation}" }
    encoding: json
    compression: none
    export_interval: 200ms
    shutdown_timeout: 10s
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 200ms
      max_elapsed_time: 0
${storage ? `    sending_queue:\n      storage: ${storage}\n` : ''}service:
  pipelines:
    metrics:
      receivers: [prometheus/llamacpp]
      exporters: [prometheus, otlphttp]
`;
}

/** The bodies of the requests queued in a disk queue directory (the file after its header). */
function queuedBodies(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.otlp'))
    .map((n) => {
      const data = readFileSync(join(dir, n));
      return hash(data.subarray(8 + data.readUInt32BE(4)));
    });
}

interface Setup {
  readonly storage: string | undefined;
  readonly sink: Sink;
  readonly metricsUrl: string;
  output(): string;
  signal(sig: NodeJS.Signals): void;
  /** Writes the config again with a changed push exporter. */
  changePushExporter(): void;
}

async function withCollector(disk: boolean, body: (s: Setup) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rm-reload-push-'));
  const storage = disk ? join(dir, 'queue') : undefined;
  const runner = await RunnerServer.start(COMPLETION);
  const sink = await Sink.start();
  const port = await freePort();
  const file = join(dir, 'collector.yaml');
  writeFileSync(file, config(runner.url, port, sink.url, storage));
  const collector = startProcess(process.execPath, [CLI, '--config', file], { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'info' } });
  let exit: number | string;
  try {
    await body({
      storage,
      sink,
      metricsUrl: `http://127.0.0.1:${port}/metrics`,
      output: () => collector.output(),
      signal: (sig) => collector.child.kill(sig),
      changePushExporter: () => writeFileSync(file, config(runner.url, port, sink.url, storage, 1)),
    });
  } finally {
    exit = await stopProcess(collector, 'SIGTERM', 15_000);
    await runner.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(exit, 0, collector.output());
  assert.doesNotMatch(collector.output(), /"level":"error"/);
}

/** Sends SIGHUP once pushes have failed; resolves once the reload is logged and /metrics answers, failing past 2 s. */
async function reloadWhileBackendDown(s: Setup): Promise<void> {
  await eventually(async () => ((await httpGet(s.metricsUrl)).body.includes('llamacpp:prompt_tokens_total{') ? true : undefined), '/metrics served');
  await eventually(() => (s.sink.received.filter((r) => r.status === 503).length >= 2 ? true : undefined), 'failed push attempts');
  await new Promise((r) => setTimeout(r, 600)); // a few more pushes queue up behind the failing one
  s.changePushExporter();
  s.signal('SIGHUP');
  await eventually(
    async () => {
      if (!/"msg":"config reloaded"/.test(s.output())) return undefined;
      return (await httpGet(s.metricsUrl)).status === 200 ? true : undefined;
    },
    'the reload and /metrics within 2 s of SIGHUP',
    2_000,
    50,
  );
}

/** Asserts no request was accepted twice. */
function assertNoDuplicates(sink: Sink): void {
  for (const [h, n] of sink.accepted()) assert.equal(n, 1, `request ${h.slice(0, 12)} accepted ${n} times`);
}

test('SIGHUP with the OTLP backend down: /metrics is back at once and the memory queue still drains', async () => {
  await withCollector(false, async (s) => {
    await reloadWhileBackendDown(s);
    const failedBefore = new Set(s.sink.received.filter((r) => r.status === 503).map((r) => r.hash));
    s.sink.status = 200;
    // The old exporter, draining in the background, delivers what it held.
    await eventually(() => ([...failedBefore].every((h) => s.sink.accepted().has(h)) ? true : undefined), 'the failed requests accepted');
    assertNoDuplicates(s.sink);
    assert.doesNotMatch(s.output(), /"msg":"dropping metric points"/);
  });
});

test('SIGHUP with the OTLP backend down and a disk queue: /metrics is back at once and every queued request arrives once', async () => {
  await withCollector(true, async (s) => {
    await reloadWhileBackendDown(s);
    const failedBefore = new Set(s.sink.received.filter((r) => r.status === 503).map((r) => r.hash));
    // What the old exporter left on disk, the request it was sending included.
    const queued = queuedBodies(s.storage!);
    assert.ok(queued.length >= 2, `queued requests: ${queued.length}`);
    for (const h of failedBefore) assert.ok(queued.includes(h), 'a request that failed before the reload is still queued');
    s.sink.status = 200;
    await eventually(() => (queuedBodies(s.storage!).length === 0 ? true : undefined), 'the disk queue sent');
    await eventually(() => (queued.every((h) => s.sink.accepted().has(h)) ? true : undefined), 'every queued request accepted');
    assertNoDuplicates(s.sink);
    assert.doesNotMatch(s.output(), /"msg":"dropping metric points"/);
  });
});

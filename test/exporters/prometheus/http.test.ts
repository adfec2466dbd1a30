import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OWN_METRICS_MAX_AGE_MS, PrometheusExporter, type PrometheusExporterOptions } from '../../../src/exporters/prometheus/exporter.js';
import type { ListenAddress } from '../../../src/net/listen-address.js';
import { parseFamilies } from '../../../src/prometheus/families.js';
import { recordingLogger, scrape, testConfig, testContext } from './batches.js';
import { EXPECTED_TEXT, bothBatches } from './fixtures.js';

async function started(
  body: Record<string, unknown> = {},
  options: PrometheusExporterOptions = {},
): Promise<{ exporter: PrometheusExporter; address: ListenAddress }> {
  const exporter = new PrometheusExporter(testConfig(body), testContext(), options);
  exporter.consume(bothBatches());
  await exporter.start();
  const address = exporter.address();
  assert.ok(address);
  return { exporter, address };
}

describe('prometheus exporter over TCP', () => {
  let exporter: PrometheusExporter;
  let address: ListenAddress;
  before(async () => ({ exporter, address } = await started()));
  after(() => exporter.shutdown());

  it('binds the OS-chosen port and reports it', () => {
    assert.equal(address.kind, 'tcp');
    assert.ok(address.kind === 'tcp' && address.port > 0 && address.host === '127.0.0.1');
  });

  it('serves text format 0.0.4 by default', async () => {
    const res = await scrape(address);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores');
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.body, EXPECTED_TEXT);
  });

  it('gzips when Accept-Encoding allows it', async () => {
    const res = await scrape(address, '/metrics', { headers: { 'Accept-Encoding': 'br;q=1.0, gzip;q=0.8' } });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.body, EXPECTED_TEXT);
    assert.ok(res.rawLength < Buffer.byteLength(EXPECTED_TEXT));
    const refused = await scrape(address, '/metrics', { headers: { 'Accept-Encoding': 'gzip;q=0, identity' } });
    assert.equal(refused.headers['content-encoding'], undefined);
  });

  it('serves OpenMetrics when the scraper asks for it', async () => {
    const res = await scrape(address, '/metrics', {
      headers: {
        // What Prometheus 2.x/3.x sends by default.
        Accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      },
    });
    assert.equal(res.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores');
    assert.ok(res.body.endsWith('# EOF\n'));
    assert.match(res.body, /^# TYPE llamacpp:prompt_tokens counter$/m);
    assert.match(res.body, /^llamacpp:prompt_tokens_total\{/m);
    const text = await scrape(address, '/metrics', { headers: { Accept: 'text/plain;version=0.0.4' } });
    assert.equal(text.body, EXPECTED_TEXT);
  });

  it('filters by name[], plain or URL-encoded; a histogram is found by its _bucket', async () => {
    const res = await scrape(
      address,
      '/metrics?name[]=llamacpp:prompt_tokens_total&name%5B%5D=vllm%3Ae2e_request_latency_seconds_bucket&name[]=unknown',
    );
    assert.equal(res.status, 200);
    const families = parseFamilies(res.body);
    assert.deepEqual(
      families.map((f) => [f.name, f.samples.length]),
      [
        ['llamacpp:prompt_tokens_total', 2],
        ['vllm:e2e_request_latency_seconds', 5],
      ],
    );
    const byFamily = await scrape(address, '/metrics?name[]=vllm:e2e_request_latency_seconds');
    assert.deepEqual(
      parseFamilies(byFamily.body)[0]!.samples.map((s) => s.name),
      ['_bucket', '_bucket', '_bucket', '_sum', '_count'].map((s) => `vllm:e2e_request_latency_seconds${s}`),
    );
  });

  it('answers an empty 200 when no name[] matches', async () => {
    const res = await scrape(address, '/metrics?name[]=nope');
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
  });

  it('answers HEAD with headers only', async () => {
    const res = await scrape(address, '/metrics', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(EXPECTED_TEXT));
  });

  it('links the metrics from /, 404s other paths, 405s other methods', async () => {
    const root = await scrape(address, '/');
    assert.equal(root.status, 200);
    assert.match(root.headers['content-type'] as string, /^text\/html/);
    assert.match(root.body, /<a href="\/metrics">/);
    assert.equal((await scrape(address, '/metrics/extra')).status, 404);
    assert.equal((await scrape(address, '/favicon.ico')).status, 404);
    const post = await scrape(address, '/metrics', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('serves the health registry as JSON at /api/targets, never cached', async () => {
    const res = await scrape(address, '/api/targets');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.equal(res.headers['cache-control'], 'no-store');
    const health = JSON.parse(res.body) as { targets: unknown[]; exporters: Array<{ exporter: string; scrapesServed: number }> };
    assert.deepEqual(health.targets, []);
    assert.equal(health.exporters[0]!.exporter, 'prometheus/test');
    assert.ok(health.exporters[0]!.scrapesServed > 0);
  });
});

describe('prometheus exporter options over HTTP', () => {
  it('serves on a configured path', async () => {
    const { exporter, address } = await started({ path: '/custom' });
    try {
      assert.equal((await scrape(address, '/custom')).body, EXPECTED_TEXT);
      assert.equal((await scrape(address, '/metrics')).status, 404);
      assert.match((await scrape(address, '/')).body, /href="\/custom"/);
    } finally {
      await exporter.shutdown();
    }
  });

  it('counts scrapes in its own metrics, served at most OWN_METRICS_MAX_AGE_MS old', async () => {
    let now = 1_700_000_000_000;
    const { exporter, address } = await started({ include_own_metrics: true }, { now: () => now });
    try {
      const first = (await scrape(address)).body;
      // Same data, same second: the body rendered for the first scrape is served again.
      assert.equal((await scrape(address)).body, first);
      assert.match(first, /^runner_metrics_exporter_prometheus_scrapes_total\{exporter="prometheus\/test"\} 1$/m);
      now += OWN_METRICS_MAX_AGE_MS;
      const body = (await scrape(address)).body;
      assert.match(body, /^runner_metrics_exporter_prometheus_scrapes_total\{exporter="prometheus\/test"\} 3$/m);
      assert.match(body, /^runner_metrics_exporter_prometheus_series\{exporter="prometheus\/test"\} 6$/m);
    } finally {
      await exporter.shutdown();
    }
  });

  it('closes idle keep-alive connections on shutdown, and shutdown twice is fine', async () => {
    const { exporter, address } = await started();
    assert.equal(address.kind, 'tcp');
    const { Agent, request } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: address.host, port: address.kind === 'tcp' ? address.port : 0, path: '/metrics', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    await exporter.shutdown(); // would hang on the idle keep-alive socket otherwise
    await exporter.shutdown();
    agent.destroy();
    await assert.rejects(scrape(address), { code: 'ECONNREFUSED' });
  });
});

describe('prometheus exporter on a Unix socket', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'promexp-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  it('serves on unix:/path and removes the socket on shutdown', async () => {
    const path = join(dir, 'metrics.sock');
    const { exporter, address } = await started({ endpoint: `unix:${path}` });
    assert.deepEqual(address, { kind: 'unix', path });
    assert.equal(statSync(path).mode & 0o777, 0o660, 'owner and group may connect, whatever the umask');
    const res = await scrape(address);
    assert.equal(res.body, EXPECTED_TEXT);
    await exporter.shutdown();
    assert.equal(existsSync(path), false);
  });

  it('gives the socket the configured unix_socket_mode, whatever the umask', async () => {
    const path = join(dir, 'mode.sock');
    const umask = process.umask(0o000); // would leave the socket world-writable
    try {
      const { exporter } = await started({ endpoint: `unix:${path}`, unix_socket_mode: '0600' });
      assert.equal(statSync(path).mode & 0o777, 0o600);
      await exporter.shutdown();
    } finally {
      process.umask(umask);
    }
  });

  it('accepts unix:///path and replaces a stale socket left by a dead process', async () => {
    const path = join(dir, 'stale.sock');
    await leaveStaleSocket(path);
    assert.ok(existsSync(path));
    const { exporter, address } = await started({ endpoint: `unix://${path}` });
    try {
      assert.equal((await scrape(address)).status, 200);
    } finally {
      await exporter.shutdown();
    }
  });

  it('refuses to take over a socket another process still answers on', async () => {
    const path = join(dir, 'busy.sock');
    const busy = createNetServer();
    await new Promise<void>((resolve) => busy.listen(path, resolve));
    try {
      const exporter = new PrometheusExporter(testConfig({ endpoint: `unix:${path}` }), testContext());
      await assert.rejects(exporter.start(), /cannot listen on unix:.*busy\.sock/);
      await exporter.shutdown();
    } finally {
      await new Promise((resolve) => (busy as NetServer).close(resolve));
    }
  });
});

describe('DISABLE_METRICS=1', () => {
  it('does not listen at all, logs once, and consume still works', async () => {
    const port = await freePort();
    const logger = recordingLogger();
    const context = { ...testContext(), logger };
    const exporter = new PrometheusExporter(testConfig({ endpoint: `127.0.0.1:${port}` }), context, {
      env: { DISABLE_METRICS: '1' },
    });
    await exporter.start();
    exporter.consume(bothBatches());
    assert.equal(exporter.address(), undefined);
    await assert.rejects(scrape({ kind: 'tcp', host: '127.0.0.1', port }), { code: 'ECONNREFUSED' });
    assert.deepEqual(
      logger.lines.filter((l) => /disabled/.test(l.msg)).map((l) => l.level),
      ['info'],
    );
    await exporter.shutdown();
  });
});

/** A port nothing listens on: bound once by the OS, then released. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A socket file whose owner was killed before it could clean up. */
async function leaveStaleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ['-e', "require('net').createServer().listen(process.argv[1], () => console.log('up'))", path],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`socket holder exited early (${code})`)));
  });
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

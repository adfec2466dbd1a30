/**
 * The opt-in first-token probe against a real HTTP server streaming a captured
 * llama-server SSE answer: what it sends, what it times, and that a failure
 * leaves no figure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { timeFirstToken, FirstTokenProbe } from '../../src/insight/first-token-probe.js';
import { PrometheusReceiver } from '../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../src/receivers/prometheus/config.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../src/telemetry/health.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../helpers/collect.js';
import { readFixture } from '../helpers/fixtures.js';
import { B4748_COMPLETION } from '../helpers/llama-server.js';
import { until } from '../helpers/until.js';

const SSE = readFixture('llamacpp-real', 'chat.stream.sse.txt');

interface Probed {
  readonly url: string;
  readonly bodies: Array<{ path: string; body: Record<string, unknown> }>;
  /** Milliseconds the server waits before the first event (mode 'slow' answers nothing). */
  mode: 'ok' | 'error' | 'slow';
  close(): Promise<void>;
}

/** A llama-server stand-in: GET as captured, POST /v1/completions streaming the captured SSE. */
async function probedServer(): Promise<Probed> {
  const state = { mode: 'ok' as Probed['mode'], bodies: [] as Probed['bodies'] };
  const hung: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET') {
      const body = path === '/metrics' ? B4748_COMPLETION.metrics : path === '/props' ? B4748_COMPLETION.props : path === '/v1/models' ? B4748_COMPLETION.models : undefined;
      res.writeHead(body === undefined ? 404 : 200).end(body ?? '{}');
      return;
    }
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      state.bodies.push({ path, body: JSON.parse(text) as Record<string, unknown> });
      if (state.mode === 'error') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":500}}');
      if (state.mode === 'slow') return void hung.push(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(SSE);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url,
    close: async () => {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  }) as Probed;
}

test('one streamed one-token completion, timed to its first event; a router\'s model named in the body', async () => {
  const server = await probedServer();
  const dispatcher = new Agent();
  try {
    const seconds = await timeFirstToken({ metricsUrl: `${server.url}/metrics`, dispatcher, headers: {}, timeoutMs: 5000, prompt: 'Hello' });
    assert.ok(seconds > 0 && Number.isFinite(seconds));
    assert.deepEqual(server.bodies, [{ path: '/v1/completions', body: { prompt: 'Hello', max_tokens: 1, stream: true, temperature: 0 } }]);
    await timeFirstToken({ metricsUrl: `${server.url}/metrics?model=tiny-llama-rand&autoload=false`, dispatcher, headers: {}, timeoutMs: 5000, prompt: 'Hi' });
    assert.equal((server.bodies[1]!.body as Record<string, unknown>)['model'], 'tiny-llama-rand');
    server.mode = 'error';
    await assert.rejects(timeFirstToken({ metricsUrl: `${server.url}/metrics`, dispatcher, headers: {}, timeoutMs: 5000, prompt: 'Hello' }), /HTTP 500/);
    server.mode = 'slow';
    await assert.rejects(timeFirstToken({ metricsUrl: `${server.url}/metrics`, dispatcher, headers: {}, timeoutMs: 200, prompt: 'Hello' }), /within 200ms/);
  } finally {
    await dispatcher.close();
    await server.close();
  }
});

test('a failing probe leaves no figure and is logged once per cause', async () => {
  const server = await probedServer();
  const dispatcher = new Agent();
  const logger = new RecordingLogger();
  const probe = new FirstTokenProbe({ metricsUrl: `${server.url}/metrics`, dispatcher, headers: {}, intervalMs: 3_600_000, timeoutMs: 5000, prompt: 'Hello', logger, display: server.url });
  try {
    await probe.probeOnce();
    assert.ok(probe.latestSeconds !== undefined);
    server.mode = 'error';
    await probe.probeOnce();
    await probe.probeOnce();
    assert.equal(probe.latestSeconds, undefined);
    assert.equal(logger.count('first-token probe failed'), 1);
  } finally {
    await probe.stop();
    await dispatcher.close();
    await server.close();
  }
});

test('through the receiver: on when configured, llamacpp_first_token_latency_seconds served; off by default, nothing sent', async () => {
  const server = await probedServer();
  const make = (insight: Record<string, unknown>) => {
    const config = prometheusReceiverConfigSchema.parse({ scrape_interval: '1h', scrape_timeout: '2s', targets: [{ url: server.url, attributes: { backend: 'llama.cpp', model: 'm', mode: 'completion' } }], llamacpp_insight: insight });
    const sink = new CollectingConsumer();
    const r = new PrometheusReceiver(config, { id: 'prometheus/test', kind: 'receiver', logger: new RecordingLogger(), selfMetrics: new SelfMetrics(), health: new HealthRegistry() }, sink);
    return { r, sink };
  };
  const off = make({});
  try {
    await off.r.scrapers[0]!.scrapeOnce();
    await off.r.scrapers[0]!.scrapeOnce();
    assert.equal(server.bodies.length, 0, 'no request sent without first_token_probe.enabled');
    assert.equal(metricNamed(off.sink.batches.at(-1)![0]!, 'llamacpp_first_token_latency_seconds'), undefined);
  } finally {
    await off.r.shutdown();
  }
  const on = make({ first_token_probe: { enabled: true, interval: '1h' } });
  try {
    await on.r.scrapers[0]!.scrapeOnce();
    await until(() => server.bodies.length === 1, 'the probe ran');
    await until(async () => {
      await on.r.scrapers[0]!.scrapeOnce();
      return metricNamed(on.sink.batches.at(-1)![0]!, 'llamacpp_first_token_latency_seconds');
    }, 'the figure is served');
    const point = metricNamed(on.sink.batches.at(-1)![0]!, 'llamacpp_first_token_latency_seconds')!.dataPoints[0]!;
    assert.ok((point.value as number) > 0);
    assert.equal(server.bodies.length, 1, 'once per interval, not per scrape');
  } finally {
    await on.r.shutdown();
    await server.close();
  }
});

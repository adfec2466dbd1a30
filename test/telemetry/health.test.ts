/**
 * The typed health registry: what targets and exporters report, redacted, and
 * gone with the component that reported it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrometheusReceiver } from '../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../src/receivers/prometheus/config.js';
import { HealthRegistry, redactMessage, secretsOf } from '../../src/telemetry/health.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { CollectingConsumer } from '../helpers/collect.js';
import { freePort } from '../helpers/processes.js';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture } from '../helpers/fixtures.js';

describe('redactMessage', () => {
  it('strips user info and query from URLs in the text', () => {
    const text = redactMessage('fetch http://bob:pw-1234@host:9/m?token=abcd&x=1 failed');
    assert.equal(text, 'fetch http://bob:[REDACTED]@host:9/m?token=[REDACTED]&x=[REDACTED] failed');
  });

  it('replaces every secret wherever it appears, however it is encoded', () => {
    const secrets = secretsOf('http://bob:p%40ss-word@host/m?api_key=k3y+val', { authorization: 'Basic ' + Buffer.from('bob:p@ss-word').toString('base64'), 'x-token': 'tok-98765' });
    const leaks = ['p@ss-word', 'p%40ss-word', 'k3y val', 'k3y%20val', 'k3y+val', Buffer.from('bob:p@ss-word').toString('base64'), 'tok-98765'];
    for (const leak of leaks) {
      const shown = redactMessage(`server said: bad credential ${leak} (401)`, secrets);
      assert.ok(!shown.includes(leak), `${leak} -> ${shown}`);
      assert.match(shown, /\[REDACTED\] \(401\)$/);
    }
    // Short values are left alone: they would blank digits out of every message.
    assert.equal(redactMessage('HTTP status 500', secretsOf('http://h/m?v=5', {})), 'HTTP status 500');
  });
});

describe('HealthRegistry', () => {
  it('reports a target as unknown, then up with its samples, then down with reason and time', () => {
    const registry = new HealthRegistry();
    const target = registry.target({ job: 'prometheus/x', instance: 'h:1', endpoint: 'http://h:1/metrics', attributes: { model: 'm' } });
    assert.equal(registry.snapshot().targets[0]!.state, 'unknown');
    target.succeeded(Date.UTC(2026, 0, 2, 3, 4, 5), 0.012, 42);
    assert.deepEqual(registry.snapshot().targets[0], {
      job: 'prometheus/x',
      instance: 'h:1',
      endpoint: 'http://h:1/metrics',
      attributes: { model: 'm' },
      state: 'up',
      lastScrape: '2026-01-02T03:04:05.000Z',
      lastScrapeDurationSeconds: 0.012,
      samples: 42,
    });
    target.failed(Date.UTC(2026, 0, 2, 3, 4, 20), 2, 'timeout', 'scrape timed out after 2000ms');
    const down = registry.snapshot().targets[0]!;
    assert.equal(down.state, 'down');
    assert.equal(down.reason, 'timeout');
    assert.equal(down.lastError, 'scrape timed out after 2000ms');
    assert.equal(down.lastScrape, '2026-01-02T03:04:20.000Z');
    assert.equal(down.samples, undefined);
    target.remove();
    assert.deepEqual(registry.snapshot().targets, []);
  });

  it("sums an exporter's drops by reason; a replaced exporter's late removal keeps the new one", () => {
    const registry = new HealthRegistry();
    const old = registry.exporter({ exporter: 'otlphttp', type: 'otlphttp' });
    const fresh = registry.exporter({ exporter: 'otlphttp', type: 'otlphttp' });
    fresh.droppedPoints('queue_full', 10);
    fresh.droppedPoints('queue_full', 5);
    fresh.queueLength(3, 100);
    fresh.pushed(false, 'HTTP 503');
    old.remove();
    const [shown] = registry.snapshot().exporters;
    assert.deepEqual(shown!.dropped, { queue_full: 15 });
    assert.deepEqual(shown!.queue, { size: 3, capacity: 100 });
    assert.equal(shown!.lastPush!.ok, false);
    assert.equal(shown!.lastPush!.error, 'HTTP 503');
    fresh.remove();
    assert.deepEqual(registry.snapshot().exporters, []);
  });
});

describe('prometheus receiver health', () => {
  it('reports each target, never showing its credentials, and leaves with the receiver', async () => {
    const runner = await RunnerServer.start(readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom'));
    const dead = await freePort();
    const health = new HealthRegistry();
    const config = prometheusReceiverConfigSchema.parse({
      scrape_interval: '1h',
      scrape_timeout: '1s',
      headers: { 'X-Api-Key': 'header-secret-value' },
      targets: [
        { url: `${runner.url}/metrics?token=query-secret-value`, attributes: { mode: 'ok' } },
        { url: `http://user:password-secret@127.0.0.1:${dead}/metrics`, attributes: { mode: 'dead' } },
      ],
    });
    const r = new PrometheusReceiver(config, { id: 'prometheus/t', kind: 'receiver', logger: silentLogger, selfMetrics: new SelfMetrics(), health }, new CollectingConsumer());
    try {
      await Promise.all(r.scrapers.map((s) => s.scrapeOnce()));
      const { targets } = health.snapshot();
      const ok = targets.find((t) => t.attributes['mode'] === 'ok')!;
      const down = targets.find((t) => t.attributes['mode'] === 'dead')!;
      assert.equal(ok.state, 'up');
      assert.equal(ok.samples, 12);
      assert.equal(down.state, 'down');
      assert.equal(down.reason, 'connect');
      const json = JSON.stringify(targets);
      for (const secret of ['header-secret-value', 'query-secret-value', 'password-secret']) assert.ok(!json.includes(secret), secret);
    } finally {
      await r.shutdown();
      await runner.close();
    }
    assert.deepEqual(health.snapshot().targets, []);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthCheckExtension, healthCheckConfigSchema } from '../../src/extensions/health_check/index.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { HealthRegistry } from '../../src/telemetry/health.js';
import { silentLogger } from '../../src/telemetry/logger.js';

function extension(extra: Record<string, unknown> = {}) {
  const config = healthCheckConfigSchema.parse({ endpoint: '127.0.0.1:0', ...extra });
  return new HealthCheckExtension(config, { id: 'health_check', kind: 'extension', logger: silentLogger, selfMetrics: new SelfMetrics(), health: new HealthRegistry() });
}

function url(ext: HealthCheckExtension, path = '/'): string {
  const a = ext.address();
  assert.ok(a && a.kind === 'tcp');
  return `http://127.0.0.1:${a.port}${path}`;
}

test('503 until the pipelines are ready, 200 after, 503 again while stopping', async () => {
  const ext = extension();
  await ext.start();
  try {
    let res = await fetch(url(ext));
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'Server not available' });
    ext.pipelinesReady();
    res = await fetch(url(ext));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; upSince: string };
    assert.equal(body.status, 'Server available');
    assert.ok(!Number.isNaN(Date.parse(body.upSince)));
    ext.pipelinesStopping();
    assert.equal((await fetch(url(ext))).status, 503);
  } finally {
    await ext.shutdown();
  }
  await assert.rejects(fetch(url(ext)));
});

test('a custom path; other paths are 404', async () => {
  const ext = extension({ path: '/healthz' });
  await ext.start();
  try {
    ext.pipelinesReady();
    assert.equal((await fetch(url(ext, '/healthz'))).status, 200);
    assert.equal((await fetch(url(ext, '/'))).status, 404);
  } finally {
    await ext.shutdown();
  }
});

test('config rejects a bad endpoint', () => {
  assert.equal(healthCheckConfigSchema.safeParse({ endpoint: 'nope' }).success, false);
  assert.equal(healthCheckConfigSchema.parse(undefined).endpoint, '127.0.0.1:13133');
});

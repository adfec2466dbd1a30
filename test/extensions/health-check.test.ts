import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthCheckExtension, healthCheckConfigSchema, healthCheckExtensionFactory } from '../../src/extensions/health_check/index.js';
import type { ShutdownReason } from '../../src/component.js';
import { registry } from '../../src/registry.js';
import { Service } from '../../src/service/service.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { silentLogger } from '../../src/telemetry/logger.js';

function extension(extra: Record<string, unknown> = {}) {
  const config = healthCheckConfigSchema.parse({ endpoint: '127.0.0.1:0', ...extra });
  return new HealthCheckExtension(config, { id: 'health_check', kind: 'extension', logger: silentLogger, selfMetrics: new SelfMetrics() });
}

function url(ext: HealthCheckExtension, path = '/'): string {
  const a = ext.address();
  assert.ok(a && a.kind === 'tcp');
  return `http://127.0.0.1:${a.port}${path}`;
}

async function statuses(ext: HealthCheckExtension, ...paths: string[]): Promise<number[]> {
  return Promise.all(paths.map(async (p) => (await fetch(url(ext, p))).status));
}

test('readiness (/ and /readyz): 503 until the pipelines are ready, 200 after, 503 again from the final shutdown', async () => {
  const ext = extension();
  await ext.start();
  try {
    let res = await fetch(url(ext));
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'Server not available' });
    assert.deepEqual(await statuses(ext, '/', '/readyz'), [503, 503]);
    ext.pipelinesReady();
    res = await fetch(url(ext, '/readyz'));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; upSince: string };
    assert.equal(body.status, 'Server available');
    assert.ok(!Number.isNaN(Date.parse(body.upSince)));
    assert.deepEqual(await statuses(ext, '/', '/readyz'), [200, 200]);
    ext.pipelinesStopping('final');
    assert.deepEqual(await statuses(ext, '/', '/readyz'), [503, 503]);
  } finally {
    await ext.shutdown();
  }
  await assert.rejects(fetch(url(ext)));
});

test('liveness (/livez): 200 whenever the process answers, before readiness and while stopping', async () => {
  const ext = extension();
  await ext.start();
  try {
    const res = await fetch(url(ext, '/livez'));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; upSince: string };
    assert.equal(body.status, 'Server alive');
    // The process's start, not this instance's: a reload may replace the extension.
    assert.ok(Date.parse(body.upSince) <= Date.now() - process.uptime() * 1000 + 1000);
    ext.pipelinesReady();
    assert.equal((await fetch(url(ext, '/livez'))).status, 200);
    ext.pipelinesStopping('final');
    assert.deepEqual(await statuses(ext, '/livez', '/readyz'), [200, 503]);
    const head = await fetch(url(ext, '/livez'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  } finally {
    await ext.shutdown();
  }
});

test('a reload keeps it ready, with the same upSince', async () => {
  const ext = extension();
  await ext.start();
  try {
    ext.pipelinesReady();
    const before = ((await (await fetch(url(ext))).json()) as { upSince: string }).upSince;
    ext.pipelinesStopping('reload');
    assert.deepEqual(await statuses(ext, '/', '/readyz', '/livez'), [200, 200, 200]);
    await new Promise((r) => setTimeout(r, 5));
    ext.pipelinesReady();
    const after = (await (await fetch(url(ext))).json()) as { status: string; upSince: string };
    assert.equal(after.status, 'Server available');
    assert.equal(after.upSince, before);
  } finally {
    await ext.shutdown();
  }
});

test('a custom readiness path; /readyz and /livez stay; other paths are 404', async () => {
  const ext = extension({ path: '/healthz' });
  await ext.start();
  try {
    ext.pipelinesReady();
    assert.deepEqual(await statuses(ext, '/healthz', '/readyz', '/livez', '/', '/healthz/x'), [200, 200, 200, 404, 404]);
  } finally {
    await ext.shutdown();
  }
});

test('config rejects a bad endpoint and a readiness path that is the liveness path', () => {
  assert.equal(healthCheckConfigSchema.safeParse({ endpoint: 'nope' }).success, false);
  assert.equal(healthCheckConfigSchema.safeParse({ path: '/livez' }).success, false);
  assert.equal(healthCheckConfigSchema.parse(undefined).endpoint, '127.0.0.1:13133');
  assert.equal(healthCheckConfigSchema.parse(undefined).path, '/');
});

test('the service tells extensions why the pipelines stop: reload, then final', async () => {
  const reasons: ShutdownReason[] = [];
  const recording = {
    ...healthCheckExtensionFactory,
    type: 'recording',
    createExtension: () => ({ start: async () => {}, shutdown: async () => {}, pipelinesStopping: (reason: ShutdownReason) => void reasons.push(reason) }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'rm-health-reasons-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(
    file,
    `extensions:
  recording:
receivers:
  prometheus:
    targets: [{ url: "http://127.0.0.1:9" }]
exporters:
  prometheus:
    endpoint: 127.0.0.1:0
service:
  extensions: [recording]
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`,
  );
  const service = Service.load({
    configFiles: [file],
    registry: { ...registry, extensions: new Map([...registry.extensions, ['recording', recording]]) },
    logger: silentLogger,
  });
  try {
    await service.start();
    assert.equal(await service.reload(), true);
    await service.shutdown();
    assert.deepEqual(reasons, ['reload', 'final']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The health_check extension in a running collector: liveness and readiness
 * probes as Kubernetes or a load balancer would send them, through a SIGHUP
 * config reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture, REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');

function config(runnerUrl: string, model: string, metricsPort: number, healthPort: number): string {
  return `extensions:
  health_check:
    endpoint: 127.0.0.1:${healthPort}
receivers:
  prometheus:
    scrape_interval: 200ms
    targets: [{ url: "${runnerUrl}", attributes: { model: ${model} } }]
exporters:
  prometheus:
    endpoint: 127.0.0.1:${metricsPort}
service:
  extensions: [health_check]
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`;
}

/** Counts of each probe outcome, e.g. `200 x18, ECONNRESET x1`. */
function summary(seen: Array<number | string>): string {
  const counts = new Map<number | string, number>();
  for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s} x${n}`).join(', ');
}

/** One probe: the HTTP status, or the network error's code when nothing answered. */
async function probe(url: string): Promise<number | string> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status;
  } catch (err) {
    return ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (err as Error).name;
  }
}

test('live and ready while running, never unready through a reload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-health-e2e-'));
  const runner = await RunnerServer.start(readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom'));
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const file = join(dir, 'c.yaml');
  writeFileSync(file, config(runner.url, 'a', metricsPort, healthPort));
  const health = (path: string) => `http://127.0.0.1:${healthPort}${path}`;
  const collector = startProcess(process.execPath, [CLI, '--config', file], { cwd: REPO_ROOT });
  let probing = false;
  let prober: Promise<void> = Promise.resolve();
  try {
    await eventually(async () => ((await probe(health('/readyz'))) === 200 ? true : undefined), 'ready');
    assert.equal(await probe(health('/')), 200, 'the Collector-compatible path is readiness too');
    const live = await httpGet(health('/livez'));
    assert.equal(live.status, 200);
    assert.equal(JSON.parse(live.body).status, 'Server alive');

    // Reload to a changed receiver, probing readiness all along.
    writeFileSync(file, config(runner.url, 'b', metricsPort, healthPort));
    const seen: Array<number | string> = [];
    probing = true;
    prober = (async () => {
      // As a load balancer probes: often, but not in a tight loop that starves the collector.
      while (probing) {
        seen.push(await probe(health('/readyz')));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    collector.child.kill('SIGHUP');
    await eventually(() => (/"msg":"config reloaded"/.test(collector.output()) ? true : undefined), 'the reload', 30_000);
    await eventually(
      async () => ((await httpGet(`http://127.0.0.1:${metricsPort}/metrics`)).body.includes('model="b"') ? true : undefined),
      'the new config served',
      30_000,
    );
    probing = false;
    await prober;
    assert.equal(await probe(health('/readyz')), 200);
    assert.equal(await probe(health('/livez')), 200);
    // The old graph's pipelines stopping for a reload never makes the collector unready.
    assert.ok(!seen.includes(503), `readiness answered 503 during the reload: ${summary(seen)}`);
    // A reload that keeps the health check running (its config unchanged) keeps its
    // endpoint up: then every probe must have answered 200. One that restarts it
    // (logged again as listening) closes the endpoint for a moment.
    if (collector.output().match(/"msg":"health check listening"/g)!.length === 1) {
      assert.ok(seen.every((s) => s === 200), `the health endpoint stayed up, yet: ${summary(seen)}`);
    }
  } finally {
    // A failed wait must not leave the prober running: it would hold the test file open.
    probing = false;
    await prober;
    assert.equal(await stopProcess(collector), 0, collector.output());
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

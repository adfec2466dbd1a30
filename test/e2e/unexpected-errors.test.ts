/**
 * An error nothing handled (a throw in a callback, a rejection nobody awaited)
 * does not end the collector: it is logged once per cause, counted in
 * runner_metrics_unhandled_errors_total, and /metrics goes on being served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture, REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');
const INJECTOR = pathToFileURL(join(REPO_ROOT, 'dist/test/e2e/fault-injector.js')).href;

test('uncaught exceptions and unhandled rejections are logged once per cause and counted; the collector keeps serving', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-unexpected-'));
  const runner = await RunnerServer.start(readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom'));
  const port = await freePort();
  const file = join(dir, 'c.yaml');
  writeFileSync(
    file,
    `receivers:
  prometheus:
    scrape_interval: 100ms
    targets: [{ url: "${runner.url}" }]
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`,
  );
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const collector = startProcess(process.execPath, ['--import', INJECTOR, CLI, '--config', file], { cwd: REPO_ROOT });
  let exit: number | string;
  try {
    // The series carries the labels the runner's identity gives it (here backend="llama.cpp", model="unknown").
    await eventually(async () => (/^llamacpp:prompt_tokens_total[ {]/m.test((await httpGet(metricsUrl)).body) ? true : undefined), '/metrics served');
    for (let i = 1; i <= 2; i++) {
      collector.child.kill('SIGUSR2');
      await eventually(async () => {
        const body = (await httpGet(metricsUrl)).body;
        return body.includes(`runner_metrics_unhandled_errors_total{type="uncaught_exception"} ${i}\n`) &&
          body.includes(`runner_metrics_unhandled_errors_total{type="unhandled_rejection"} ${i}\n`)
          ? true
          : undefined;
      }, `both errors counted ${i} times`);
    }
    const requests = runner.requests;
    await eventually(() => (runner.requests > requests + 2 ? true : undefined), 'scrapes go on');
    const lines = collector.output().split('\n').filter((l) => l.includes('"msg":"unexpected error; the collector keeps running"'));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('"type":"uncaught_exception"') && l.includes('"error":"Error: thrown on purpose"')), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('"type":"unhandled_rejection"') && l.includes('"error":"Error: rejected on purpose"')), lines.join('\n'));
  } finally {
    exit = await stopProcess(collector);
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(exit, 0, collector.output());
});

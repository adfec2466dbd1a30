/**
 * SIGHUP reloads the config files in place: a good file replaces the running
 * graph on the same endpoint (the old targets' series go with the old graph); a
 * bad one is reported with its position and the running graph keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture, REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');
const COMPLETION = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');

function config(runnerUrl: string, model: string, port: number): string {
  return `receivers:
  prometheus/llamacpp:
    scrape_interval: 200ms
    targets:
      - url: ${runnerUrl}
        attributes: { backend: llama.cpp, model: ${model}, mode: completion }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
service:
  pipelines:
    metrics:
      receivers: [prometheus/llamacpp]
      exporters: [prometheus]
`;
}

/** Every series line (not comments) of the endpoint that carries label model="<model>". */
function seriesOf(body: string, model: string): string[] {
  return body.split('\n').filter((line) => !line.startsWith('#') && line.includes(`model="${model}"`));
}

test('SIGHUP swaps in a rewritten config and keeps the running one when the new file is invalid', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-reload-'));
  const runnerA = await RunnerServer.start(COMPLETION);
  const runnerB = await RunnerServer.start(COMPLETION);
  const port = await freePort();
  const file = join(dir, 'collector.yaml');
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  writeFileSync(file, config(runnerA.url, 'a', port));
  const collector = startProcess(process.execPath, [CLI, '--config', file], { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'info' } });
  let exit: number | string;
  try {
    await eventually(async () => {
      const r = await httpGet(metricsUrl);
      return r.body.includes('llamacpp:prompt_tokens_total{') && seriesOf(r.body, 'a').length > 0 ? true : undefined;
    }, 'runner A served');

    writeFileSync(file, config(runnerB.url, 'b', port));
    collector.child.kill('SIGHUP');
    const afterReload = await eventually(async () => {
      const r = await httpGet(metricsUrl);
      return r.status === 200 && r.body.includes('llamacpp:prompt_tokens_total{') && seriesOf(r.body, 'b').length > 0 ? r.body : undefined;
    }, 'runner B served after the reload');
    assert.deepEqual(seriesOf(afterReload, 'a'), [], 'no series of the old config are left');
    assert.match(afterReload, /^llamacpp:prompt_tokens_total\{backend="llama\.cpp",model="b",mode="completion"\} 121$/m);
    await eventually(() => (/"msg":"config reloaded"/.test(collector.output()) ? true : undefined), 'the reload log line');
    const requestsToA = runnerA.requests;

    // Line 4 gets a key the receiver does not know.
    writeFileSync(file, config(runnerB.url, 'b', port).replace('    targets:', '    scrape_intervall: 1s\n    targets:'));
    collector.child.kill('SIGHUP');
    const failed = await eventually(() => /"msg":"config reload failed[^"]*".*/.exec(collector.output())?.[0], 'the reload failure log line');
    assert.ok(failed.includes(`${file}:4:5`), failed);
    assert.match(failed, /scrape_intervall/);

    const kept = await httpGet(metricsUrl);
    assert.equal(kept.status, 200);
    assert.match(kept.body, /^llamacpp:prompt_tokens_total\{backend="llama\.cpp",model="b",mode="completion"\} 121$/m);
    assert.deepEqual(seriesOf(kept.body, 'a'), []);
    const scrapesOfB = runnerB.requests;
    await eventually(() => (runnerB.requests > scrapesOfB ? true : undefined), 'runner B still scraped');
    assert.equal(runnerA.requests, requestsToA, 'runner A is no longer scraped');
  } finally {
    exit = await stopProcess(collector);
    await runnerA.close();
    await runnerB.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(exit, 0, collector.output());
  assert.doesNotMatch(collector.output(), /"level":"error"(?!,"msg":"config reload failed)/);
});

test('SIGHUP with a config whose endpoint cannot be bound starts the previous config again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-reload-'));
  const runnerA = await RunnerServer.start(COMPLETION);
  const runnerB = await RunnerServer.start(COMPLETION);
  const busy = createServer().listen(0, '127.0.0.1');
  await once(busy, 'listening');
  const busyPort = (busy.address() as { port: number }).port;
  const port = await freePort();
  const file = join(dir, 'collector.yaml');
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  writeFileSync(file, config(runnerA.url, 'a', port));
  const collector = startProcess(process.execPath, [CLI, '--config', file], { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'info' } });
  let exit: number | string;
  try {
    await eventually(async () => (seriesOf((await httpGet(metricsUrl)).body, 'a').length > 0 ? true : undefined), 'runner A served');

    // Valid, so it loads; its endpoint is taken, so it cannot start.
    writeFileSync(file, config(runnerB.url, 'b', busyPort));
    collector.child.kill('SIGHUP');
    const failed = await eventually(
      () => /"msg":"config reload failed; starting the previous config again".*/.exec(collector.output())?.[0],
      'the failed start log line',
    );
    assert.ok(failed.includes(`cannot listen on 127.0.0.1:${busyPort}`), failed);
    await eventually(() => (collector.output().match(/"msg":"collector started"/g)?.length === 2 ? true : undefined), 'the previous config restarted');

    const restored = await eventually(async () => {
      const r = await httpGet(metricsUrl);
      return r.status === 200 && seriesOf(r.body, 'a').some((l) => l.startsWith('llamacpp:prompt_tokens_total{')) ? r.body : undefined;
    }, 'runner A served again on the first endpoint');
    assert.deepEqual(seriesOf(restored, 'b'), []);
    assert.equal(runnerB.requests, 0, 'the new config never started scraping');
    assert.doesNotMatch(collector.output(), /nothing is running|"msg":"config reloaded"/);
  } finally {
    exit = await stopProcess(collector);
    busy.close();
    await runnerA.close();
    await runnerB.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(exit, 0, collector.output());
});

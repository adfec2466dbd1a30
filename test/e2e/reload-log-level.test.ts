/** A log level changed in the config takes effect on SIGHUP, like the rest of the config. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';

function config(level: string, deadPort: number, port: number): string {
  return `receivers:
  prometheus:
    scrape_interval: 100ms
    targets: [{ url: "http://127.0.0.1:${deadPort}" }]
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
service:
  telemetry: { logs: { level: ${level} } }
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`;
}

test('SIGHUP applies a new service.telemetry.logs.level', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-loglevel-'));
  const [port, deadA, deadB] = [await freePort(), await freePort(), await freePort()];
  const file = join(dir, 'c.yaml');
  writeFileSync(file, config('info', deadA, port));
  const env = { ...process.env };
  delete env.LOG_LEVEL;
  const collector = startProcess(process.execPath, [join(REPO_ROOT, 'dist/src/cli.js'), '--config', file], { cwd: dir, env });
  try {
    await eventually(() => (collector.output().includes(`127.0.0.1:${deadA}`) ? true : undefined), 'the warn line for target A');
    writeFileSync(file, config('error', deadB, port));
    collector.child.kill('SIGHUP');
    // Target B is scraped (and down) under the new config...
    await eventually(async () => ((await httpGet(`http://127.0.0.1:${port}/metrics`)).body.includes(`instance="127.0.0.1:${deadB}"`) ? true : undefined), 'target B scraped');
    await eventually(async () => ((await httpGet(`http://127.0.0.1:${port}/metrics`)).body.match(/scrape_duration_seconds\{/) ? true : undefined), 'a scrape of B done');
    await new Promise((r) => setTimeout(r, 300));
    // ...but at level error its warn line is not written.
    assert.doesNotMatch(collector.output(), new RegExp(`target is down.*127\\.0\\.0\\.1:${deadB}`));
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    rmSync(dir, { recursive: true, force: true });
  }
});

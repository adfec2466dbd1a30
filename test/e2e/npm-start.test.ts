/**
 * `npm start` as a supervisor or a user's `kill` stops it: SIGTERM to the npm
 * process alone (not its process group) must stop the collector under it and free
 * its port. npm forwards the signal to its script's process; that process must be
 * the collector itself, not a shell left between them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess } from '../helpers/processes.js';

test('SIGTERM to the `npm start` process stops the collector and frees its port', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rm-npm-start-'));
  const config = join(dir, 'c.yaml');
  writeFileSync(
    config,
    `receivers:
  prometheus:
    targets: [{ url: "http://127.0.0.1:9" }]
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`,
  );
  // Its own process group (startProcess is detached), so that whatever npm leaves behind can be found and cleaned up.
  const npm = startProcess('npm', ['start', '--silent', '--', '--config', config], { cwd: REPO_ROOT });
  const group = npm.child.pid!;
  const npmExited = new Promise<void>((resolve) => npm.child.once('exit', () => resolve()));
  try {
    await eventually(async () => ((await httpGet(`http://127.0.0.1:${port}/metrics`)).status === 200 ? true : undefined), 'the collector to serve', 30_000, 200);
    process.kill(group, 'SIGTERM'); // the npm process only
    await npmExited;
    await eventually(() => (groupAlive(group) ? undefined : true), 'every process under npm to exit', 5_000);
    assert.ok(await portFree(port), `port ${port} is still held: ${npm.output()}`);
    assert.match(npm.output(), /"msg":"shutting down","signal":"SIGTERM"/);
    assert.match(npm.output(), /"msg":"stopped"/);
  } finally {
    if (groupAlive(group)) process.kill(-group, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Whether any process of the process group is still running. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

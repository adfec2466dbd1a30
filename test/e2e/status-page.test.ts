/**
 * The status page at `/`, loaded by real headless Chromium (Debian's `chromium`,
 * installed by the test set-up): it lists each scrape target with its state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnerServer } from '../helpers/runner-server.js';
import { readFixture, REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';

/** Flags for a headless Chromium on a machine with no network but loopback. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function chromium(args: string[], profile: string): string {
  return execFileSync('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

test('headless Chromium shows the targets with their state on the status page', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-status-'));
  const runner = await RunnerServer.start(readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom'));
  const deadPort = await freePort();
  const port = await freePort();
  const config = join(dir, 'c.yaml');
  writeFileSync(
    config,
    `receivers:
  prometheus/llamacpp:
    # Generous: Chromium starting up loads this machine's two cores.
    scrape_interval: 2s
    scrape_timeout: 2s
    targets:
      - url: ${runner.url}
        attributes: { backend: llama.cpp, model: tiny-llama, mode: completion }
      - url: http://127.0.0.1:${deadPort}
        attributes: { backend: llama.cpp, model: "<b>not-html</b>", mode: embedding }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
service:
  pipelines:
    metrics: { receivers: [prometheus/llamacpp], exporters: [prometheus] }
`,
  );
  const collector = startProcess(process.execPath, [join(REPO_ROOT, 'dist/src/cli.js'), '--config', config], { cwd: dir });
  try {
    const url = `http://127.0.0.1:${port}/`;
    await eventually(async () => ((await httpGet(url)).body.includes('class="up"') ? true : undefined), 'the runner to be up');

    const dom = chromium(['--dump-dom', url], join(dir, 'profile'));
    assert.match(dom, /<title>runner-metrics<\/title>/);
    assert.match(dom, /<a href="\/metrics">Metrics<\/a>/);
    const rows = dom.match(/<tr class="target">.*?<\/tr>/g) ?? [];
    assert.equal(rows.length, 2, dom);
    const good = rows.find((r) => r.includes('tiny-llama'))!;
    assert.match(good, /<td class="up">UP<\/td>/);
    assert.match(good, new RegExp(`127\\.0\\.0\\.1:${runner.port}`));
    assert.match(good, /<td class="num">12<\/td>/, "the llama.cpp page's 12 samples");
    const bad = rows.find((r) => r.includes(`127.0.0.1:${deadPort}`))!;
    assert.match(bad, /<td class="down">DOWN<\/td>/);
    assert.match(bad, /&lt;b&gt;not-html&lt;\/b&gt;/, 'label values are escaped, not rendered as markup');
    assert.match(dom, /targets up: <span id="up-count">1<\/span> of 2/);

    // A screenshot: the page renders to a real image.
    const png = join(dir, 'status.png');
    chromium([`--screenshot=${png}`, '--window-size=1100,400', url], join(dir, 'profile'));
    assert.ok(statSync(png).size > 5_000, 'a non-trivial screenshot');
    if (process.env.KEEP_SCREENSHOT) writeFileSync(process.env.KEEP_SCREENSHOT, execFileSync('cat', [png]));
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

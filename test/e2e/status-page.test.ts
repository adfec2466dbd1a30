/**
 * The status page at `/`, loaded by real headless Chromium: each scrape target
 * with its state, the reason and (redacted) error of a down one, the time of its
 * last scrape; each exporter with its queue, last push and drops. The page
 * refreshes itself, and `/api/targets` serves the same data as JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnerServer } from '../helpers/runner-server.js';
import { chromium, LivePage } from '../helpers/chromium.js';
import { readFixture, REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import type { HealthSnapshot } from '../../src/telemetry/health.js';

const SECRETS = ['s3cret-query-value', 'topsecret-bearer-token', 'hunter2-password'];

test('headless Chromium shows targets and exporters with their health, and the page keeps itself current', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-status-'));
  const runner = await RunnerServer.start(readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom'));
  const backend = await RunnerServer.start({ kind: 'status', status: 503 });
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
      - url: ${runner.url}/metrics?key=${SECRETS[0]}
        attributes: { backend: llama.cpp, model: tiny-llama, mode: completion }
      - url: http://admin:${SECRETS[2]}@127.0.0.1:${deadPort}/metrics
        attributes: { backend: llama.cpp, model: "<b>not-html</b>", mode: embedding }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
  otlphttp:
    metrics_endpoint: ${backend.url}/v1/metrics?api_key=${SECRETS[0]}
    headers: { Authorization: "Bearer ${SECRETS[1]}" }
    export_interval: 1s
    retry_on_failure: { initial_interval: 1s }
    shutdown_timeout: 1s
service:
  pipelines:
    metrics: { receivers: [prometheus/llamacpp], exporters: [prometheus, otlphttp] }
`,
  );
  const collector = startProcess(process.execPath, [join(REPO_ROOT, 'dist/src/cli.js'), '--config', config], { cwd: dir });
  let page: LivePage | undefined;
  try {
    const base = `http://127.0.0.1:${port}`;
    // /api/targets: the same health, as JSON.
    const health = await eventually(async () => {
      const res = await httpGet(`${base}/api/targets`);
      const h = JSON.parse(res.body) as HealthSnapshot;
      const ready = h.targets.every((t) => t.state !== 'unknown') && h.exporters.some((e) => e.lastPush);
      return ready ? h : undefined;
    }, 'both targets scraped and one push attempted');
    const up = health.targets.find((t) => t.attributes['model'] === 'tiny-llama')!;
    assert.equal(up.state, 'up');
    assert.equal(up.samples, 12);
    assert.ok(Date.parse(up.lastScrape!) > Date.now() - 60_000, 'the last scrape is a point in time');
    const down = health.targets.find((t) => t.instance === `127.0.0.1:${deadPort}`)!;
    assert.equal(down.state, 'down');
    assert.equal(down.reason, 'connect');
    assert.match(down.lastError!, /ECONNREFUSED/);
    const otlp = health.exporters.find((e) => e.exporter === 'otlphttp')!;
    assert.equal(otlp.lastPush!.ok, false);
    assert.match(otlp.lastPush!.error!, /HTTP 503/);
    assert.ok(otlp.queue && otlp.queue.capacity === 1000);

    const url = `${base}/`;
    const dom = chromium(['--dump-dom', url], join(dir, 'profile'));
    assert.match(dom, /<title>runner-metrics<\/title>/);
    assert.match(dom, /<a href="\/metrics">Metrics<\/a>/);
    for (const secret of SECRETS) assert.ok(!dom.includes(secret), `the page shows no secret (${secret})`);
    const rows = dom.match(/<tr class="target">.*?<\/tr>/g) ?? [];
    assert.equal(rows.length, 2, dom);
    const good = rows.find((r) => r.includes('tiny-llama'))!;
    assert.match(good, /<td class="up">UP<\/td>/);
    assert.match(good, new RegExp(`127\\.0\\.0\\.1:${runner.port}`));
    assert.match(good, /<td class="num">12<\/td>/, "the llama.cpp page's 12 samples");
    assert.match(good, /<td class="last-scrape"><time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z"[^>]*>\d\d:\d\d:\d\d UTC<\/time> <span class="muted">\([\d.]+ s ago\)<\/span><\/td>/);
    const bad = rows.find((r) => r.includes(`127.0.0.1:${deadPort}`))!;
    assert.match(bad, /<td class="down">DOWN<\/td>/);
    assert.match(bad, /<td class="reason">connect<\/td>/);
    assert.match(bad, /<td class="error">[^<]*ECONNREFUSED[^<]*<\/td>/);
    assert.match(bad, /&lt;b&gt;not-html&lt;\/b&gt;/, 'label values are escaped, not rendered as markup');
    assert.match(dom, /targets up: <span id="up-count">1<\/span> of 2/);
    const exporters = dom.match(/<tr class="exporter">.*?<\/tr>/g) ?? [];
    assert.equal(exporters.length, 2, dom);
    const push = exporters.find((r) => r.includes('otlphttp'))!;
    assert.match(push, /<td class="num queue">\d+ \/ 1000<\/td>/);
    assert.match(push, /<span class="down">FAILED<\/span> <span class="error">HTTP 503<\/span>/);
    assert.match(push, /\?REDACTED/, 'the endpoint is shown without its query');
    assert.match(exporters.find((r) => r.includes('>prometheus<'))!, /\d+ scrapes served/);

    // Live: the runner's state flips; the open page shows it without being reloaded. The
    // document is marked first, so a reload would lose the mark. Headless Chromium on a
    // loaded machine has been seen to reload a page on its own once in a while: then the
    // state flips back and the next change must be shown in place.
    page = await LivePage.open(url, join(dir, 'profile-live'));
    const row = `[...document.querySelectorAll('tr.target')].find((r) => r.textContent.includes('tiny-llama'))`;
    const page_ = page;
    const showsInPlace = async (state: 'UP' | 'DOWN'): Promise<{ cells: string[]; inPlace: boolean }> => {
      await eventually(
        () => page_.evaluate<boolean>(`document.readyState === 'complete' && Number(document.body.dataset.refreshes) >= 1`),
        'the page to load and refresh itself once',
        30_000,
        250,
      );
      await page_.evaluate(`window.loadedOnce = true`);
      runner.behaviour = state === 'DOWN' ? { kind: 'status', status: 500 } : { kind: 'body', body: readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom') };
      const cells = await eventually(
        async () => {
          const shown = await page_.evaluate<string[]>(`[...${row}.cells].map((c) => c.textContent)`);
          return shown.includes(state) ? shown : undefined;
        },
        `the open page to show the runner ${state}`,
        30_000,
        250,
      );
      return { cells, inPlace: await page_.evaluate<boolean>('window.loadedOnce === true') };
    };
    const failing = await showsInPlace('DOWN');
    assert.ok(failing.cells.includes('http_status'), failing.cells.join(' | '));
    assert.ok(failing.cells.some((c) => c.includes('HTTP status 500')), failing.cells.join(' | '));
    let inPlace = failing.inPlace;
    for (let attempt = 0; !inPlace && attempt < 2; attempt++) {
      inPlace = (await showsInPlace('UP')).inPlace || (await showsInPlace('DOWN')).inPlace;
    }
    assert.equal(inPlace, true, 'updated in place, not reloaded');

    // A screenshot: the page renders to a real image.
    const png = join(dir, 'status.png');
    chromium([`--screenshot=${png}`, '--window-size=1400,600', url], join(dir, 'profile'));
    assert.ok(statSync(png).size > 5_000, 'a non-trivial screenshot');
    if (process.env.KEEP_SCREENSHOT) writeFileSync(process.env.KEEP_SCREENSHOT, readFileSync(png));
  } finally {
    await page?.close();
    assert.equal(await stopProcess(collector), 0, collector.output());
    await runner.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

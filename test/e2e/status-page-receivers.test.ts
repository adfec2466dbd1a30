/**
 * Every kind of scrape target is on the status page: ollama and
 * docker_model_runner targets show on `/api/targets` with their state and the
 * reason of a failure, errors redacted, and leave it when their receiver is
 * removed by a reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { DMR_PS, DmrServer } from '../helpers/dmr-server.js';
import { OllamaServer } from '../helpers/ollama-server.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import type { HealthSnapshot, TargetHealth } from '../../src/telemetry/health.js';

const PASSWORD = 'ollama-hunter2-password';
const TOKEN = 'dmr-topsecret-bearer-token';

function config(port: number, receivers: string, ids: string[]): string {
  return `receivers:
${receivers}
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
service:
  pipelines:
    metrics: { receivers: [${ids.join(', ')}], exporters: [prometheus] }
`;
}

test('ollama and docker_model_runner targets show on /api/targets with state and reason, and leave it with their receiver', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-status-receivers-'));
  const ollama = await OllamaServer.start();
  const dmr = await DmrServer.start();
  dmr.json('/engines/ps', '{"not": "a list"');
  const deadPort = await freePort();
  const port = await freePort();
  const ollamaReceiver = `  ollama:
    scrape_interval: 1s
    targets:
      - url: ${ollama.url}
        attributes: { model_family: llama }
      - url: http://admin:${PASSWORD}@127.0.0.1:${deadPort}`;
  const dmrReceiver = `  docker_model_runner:
    scrape_interval: 1s
    url: http://127.0.0.1:${dmr.port}
    metrics: false
    headers: { Authorization: "Bearer ${TOKEN}" }`;
  const file = join(dir, 'c.yaml');
  writeFileSync(file, config(port, `${ollamaReceiver}\n${dmrReceiver}`, ['ollama', 'docker_model_runner']));
  const collector = startProcess(process.execPath, [join(REPO_ROOT, 'dist/src/cli.js'), '--config', file], { cwd: dir });
  const targets = async (): Promise<{ body: string; targets: readonly TargetHealth[] }> => {
    const res = await httpGet(`http://127.0.0.1:${port}/api/targets`).catch(() => undefined);
    if (res?.status !== 200) return { body: '', targets: [] };
    return { body: res.body, targets: (JSON.parse(res.body) as HealthSnapshot).targets };
  };
  try {
    const first = await eventually(async () => {
      const t = await targets();
      return t.targets.length === 3 && t.targets.every((x) => x.state !== 'unknown') ? t : undefined;
    }, 'three targets scraped');
    const up = first.targets.find((t) => t.instance === ollama.instance)!;
    assert.equal(up.job, 'ollama');
    assert.equal(up.state, 'up');
    assert.deepEqual(up.attributes, { backend: 'ollama', model_family: 'llama' });
    assert.equal(up.endpoint, ollama.url);
    assert.ok(up.samples! > 0, 'the samples of the round');
    const dead = first.targets.find((t) => t.instance === `127.0.0.1:${deadPort}`)!;
    assert.equal(dead.state, 'down');
    assert.equal(dead.reason, 'connect');
    assert.match(dead.lastError!, /ECONNREFUSED/);
    const model = first.targets.find((t) => t.job === 'docker_model_runner')!;
    assert.equal(model.instance, `127.0.0.1:${dmr.port}`);
    assert.equal(model.state, 'down');
    assert.equal(model.reason, 'parse');
    for (const secret of [PASSWORD, TOKEN]) assert.ok(!first.body.includes(secret), `no secret on /api/targets (${secret})`);

    // The model runner answers again: the entry follows.
    dmr.json('/engines/ps', DMR_PS);
    await eventually(async () => (await targets()).targets.find((t) => t.job === 'docker_model_runner' && t.state === 'up'), 'the model runner up');

    // A reload without the ollama receiver: its targets leave the page.
    writeFileSync(file, config(port, dmrReceiver, ['docker_model_runner']));
    collector.child.kill('SIGHUP');
    const after = await eventually(async () => {
      const t = await targets();
      return t.targets.length === 1 ? t : undefined;
    }, 'the ollama targets removed');
    assert.equal(after.targets[0]!.job, 'docker_model_runner');
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await ollama.close();
    await dmr.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

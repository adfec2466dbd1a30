/**
 * Runners that come and go, end to end: the collector process runs
 * pipelines/docker-model-runner.yaml against a stand-in model runner on a Unix
 * socket, and a config whose targets come from a file_sd file and a socket glob.
 * Every /metrics body must pass promtool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import { DMR_METRICS, DMR_PS, DmrServer } from '../helpers/dmr-server.js';
import { RunnerServer } from '../helpers/runner-server.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');

function promtoolAccepts(body: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 3, `promtool exit ${r.status}: ${r.stdout}${r.stderr}`);
}

async function servedWhen(port: number, ok: (body: string) => boolean, what: string): Promise<string> {
  const body = await eventually(async () => {
    const r = await httpGet(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
    return r?.status === 200 && ok(r.body) ? r.body : undefined;
  }, what, 30_000, 100);
  promtoolAccepts(body);
  return body;
}

test('pipelines/docker-model-runner.yaml: a runner appears, then disappears, and its series leave /metrics', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-e2e-dmr-'));
  const dmr = await DmrServer.start(join(dir, 'model-runner.sock'));
  const [smollm, mxbai] = JSON.parse(DMR_PS) as object[];
  const only = (model: string) => DMR_METRICS.split('\n').filter((l) => l.startsWith('#') || l.includes(`model="${model}"`)).join('\n') + '\n';
  dmr.json('/engines/ps', JSON.stringify([smollm]));
  dmr.text('/metrics', only('ai/smollm2'));
  const port = await freePort();
  const env = { ...process.env, MODEL_RUNNER_SOCK: dmr.socketPath!, MODEL_RUNNER_PORT: '', SCRAPE_INTERVAL: '200ms', METRICS_ADDR: `127.0.0.1:${port}` };
  const collector = startProcess(process.execPath, [CLI, '--config', join(REPO_ROOT, 'pipelines/docker-model-runner.yaml')], { cwd: REPO_ROOT, env });
  try {
    await servedWhen(port, (b) => b.includes('docker_model_runner_runner_up{'), 'the first runner');
    dmr.json('/engines/ps', JSON.stringify([smollm, mxbai]));
    dmr.text('/metrics', DMR_METRICS);
    let body = await servedWhen(port, (b) => b.includes('mxbai'), 'the second runner');
    assert.match(body, /^llamacpp:n_tokens_max\{backend="llama\.cpp",model="ai\/mxbai-embed-large:335M-F16",mode="embedding"\} 512$/m);
    assert.doesNotMatch(body, /exported_/);
    dmr.json('/engines/ps', JSON.stringify([smollm]));
    dmr.text('/metrics', only('ai/smollm2'));
    body = await servedWhen(port, (b) => !b.includes('mxbai'), 'the second runner gone');
    assert.match(body, /^docker_model_runner_runners\{service_namespace="docker-model-runner"\} 1$|^docker_model_runner_runners 1$/m);
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await dmr.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.doesNotMatch(collector.output(), /"level":"error"/);
});

test('the collector follows a file_sd file and a socket glob; a broken file is logged once with file:line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-e2e-sd-'));
  const page = (model: string) => `# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing{slot="${model}"} 1\n`;
  const tcp = await RunnerServer.start(page('tcp'));
  let sock: RunnerServer | undefined;
  const sdFile = join(dir, 'targets.yaml');
  writeFileSync(sdFile, `- targets: ['127.0.0.1:${tcp.port}']\n  labels: { backend: llama.cpp, model: from-file }\n`);
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `receivers:
  prometheus:
    scrape_interval: 200ms
    file_sd_configs:
      - files: ['${join(dir, 'targets*.yaml')}']
    socket_sd_configs:
      - paths: ['${join(dir, '*.sock')}']
        refresh_interval: 200ms
        attributes: { backend: llama.cpp, model: from-socket }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`,
  );
  const collector = startProcess(process.execPath, [CLI, '--config', config], { cwd: REPO_ROOT, env: { ...process.env } });
  try {
    await servedWhen(port, (b) => b.includes('model="from-file"') && b.includes('slot="tcp"'), 'the file_sd target');
    sock = await RunnerServer.start(page('sock'), join(dir, 'runner.sock'));
    await servedWhen(port, (b) => b.includes('slot="sock"') && b.includes('model="from-socket"'), 'the socket target');
    writeFileSync(`${sdFile}.tmp`, '- targets: [\n  labels: {\n');
    renameSync(`${sdFile}.tmp`, sdFile);
    await eventually(() => (/discovery error/.test(collector.output()) ? true : undefined), 'the error logged', 15_000);
    await new Promise((r) => setTimeout(r, 500));
    await servedWhen(port, (b) => b.includes('slot="tcp"'), 'the file target kept');
    await sock.close();
    sock = undefined;
    await servedWhen(port, (b) => !b.includes('slot="sock"'), 'the socket target dropped');
    const errors = collector.output().split('\n').filter((l) => l.includes('discovery error'));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, new RegExp(`${sdFile.replace(/[.]/g, '\\.')}:\\d+:\\d+: YAML syntax error`));
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await tcp.close();
    await sock?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `npm start` beside a llama-server, a llama.cpp router and an Ollama, without a
 * line of config: the collector runs the default otel-config.yaml, the three
 * stand-ins (real captured answers) listen on free ports given in
 * LOCAL_RUNNER_PORTS, and /metrics shows each, named as it names itself. One
 * that stops leaves /metrics; the status page lists them with how they were
 * found. Every body must pass promtool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import { LlamaServer, V050_CHILD_EMBEDDING } from '../helpers/llama-server.js';
import { LlamaRouter } from '../helpers/llama-router.js';
import { OllamaServer } from '../helpers/ollama-server.js';
import { RunnerServer } from '../helpers/runner-server.js';
import type { HealthSnapshot } from '../../src/telemetry/health.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');

function promtoolAccepts(body: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 3, `promtool exit ${r.status}: ${r.stdout}${r.stderr}`);
}

test('default config: a llama-server, a router and an Ollama on LOCAL_RUNNER_PORTS all show in /metrics, without config', async () => {
  const single = await LlamaServer.start(V050_CHILD_EMBEDDING);
  const router = await LlamaRouter.start('router.v0.5.0.b-llama-loaded.models.json');
  const ollama = await OllamaServer.start();
  const other = await RunnerServer.start({ kind: 'body', body: '<html>not a runner</html>', contentType: 'text/html' });
  const port = await freePort();
  const dead = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOCAL_RUNNER_PORTS: `${single.port}, ${router.port},${ollama.port},${other.port}`,
    LLAMACPP_BASE_URL: `http://127.0.0.1:${dead}`,
    LLAMACPP_SCRAPE_INTERVAL: '500ms',
    LLAMACPP_EXPORTER_ADDR: `127.0.0.1:${port}`,
    LOG_LEVEL: 'debug',
  };
  delete env['LLAMACPP_MODEL'];
  delete env['LLAMACPP_MODE'];
  const collector = startProcess(process.execPath, [CLI, '--config', join(REPO_ROOT, 'otel-config.yaml')], { cwd: REPO_ROOT, env });
  const metrics = async () => (await httpGet(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.body ?? '';
  const SINGLE = /^llamacpp:prompt_tokens_total\{backend="llama\.cpp",model="tiny-bert-rand",mode="embedding"\} \d+$/m;
  const ROUTED = /^llamacpp:prompt_tokens_total\{backend="llama\.cpp",model="tiny-llama-rand",mode="completion"\} \d+$/m;
  const OLLAMA = /^ollama_model_loaded\{backend="ollama",model="llama3\.2:latest"\} 1$/m;
  try {
    const body = await eventually(async () => {
      const b = await metrics();
      return SINGLE.test(b) && ROUTED.test(b) && OLLAMA.test(b) ? b : undefined;
    }, 'all three runners served', 30_000, 100).catch(async (e) => { console.log(await metrics()); console.log(collector.output().slice(-6000)); throw e; });
    promtoolAccepts(body);

    const status = JSON.parse((await httpGet(`http://127.0.0.1:${port}/api/targets`)).body) as HealthSnapshot;
    const runners = status.runners.map((r) => `${r.kind} ${r.address} ${r.discovery.mechanism}`).sort();
    for (const expected of [`llamacpp 127.0.0.1:${single.port} local`, `llamacpp_router 127.0.0.1:${router.port} local`, `ollama 127.0.0.1:${ollama.port} local`]) {
      assert.ok(runners.includes(expected), `${expected} listed in ${JSON.stringify(runners)}`);
    }
    const page = (await httpGet(`http://127.0.0.1:${port}/`)).body;
    assert.match(page, /<h2>Discovered runners<\/h2>/);
    assert.match(page, new RegExp(`<code>127\\.0\\.0\\.1:${router.port}</code></td><td class="found-by">local: port ${router.port}</td>`));

    // The non-runner: asked each question (again only after a timeout), logged once at debug, then left alone.
    await eventually(() => (/port answers but is no runner/.test(collector.output()) ? true : undefined), 'the non-runner given up', 15_000, 100);
    const asked = other.requests;
    assert.deepEqual([...other.requestsByPath.keys()].sort(), ['/api/version', '/engines/ps', '/get_model_info', '/info', '/metrics', '/v1/models']);
    await new Promise((r) => setTimeout(r, 2500)); // five intervals
    assert.equal(other.requests, asked, 'no question after giving up');

    // The llama-server stops: its series leave /metrics, the others stay.
    await single.close();
    const after = await eventually(async () => {
      const b = await metrics();
      return !SINGLE.test(b) && ROUTED.test(b) ? b : undefined;
    }, 'the stopped one gone', 15_000, 100);
    promtoolAccepts(after);
    assert.match(after, OLLAMA);
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await Promise.all([single.close(), router.close(), ollama.close(), other.close()]);
  }
  const out = collector.output();
  assert.equal(out.match(/port answers but is no runner/g)?.length, 1, out);
  assert.match(out, /"level":"debug","msg":"port answers but is no runner|"msg":"port answers but is no runner[^\n]*"level":"debug"/);
  assert.doesNotMatch(out, /"level":"error"/);
  const allowed = /^GET (\/models|\/v1\/models|\/(metrics|props)\?model=[^&]+&autoload=false)$/;
  assert.deepEqual(router.requests.filter((q) => !allowed.test(q)), []);
  assert.equal(single.asked('/slots'), 0);
});

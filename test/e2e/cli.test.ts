/**
 * The collector as a user runs it: `npm start -- --config FILE`, scraped over
 * HTTP, stopped with SIGTERM. Plus `validate` and `print-config`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { RunnerServer } from '../helpers/runner-server.js';
import { B4748_COMPLETION, LlamaServer } from '../helpers/llama-server.js';
import { readFixture, REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import { parseFamilies } from '../../src/prometheus/families.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');
const COMPLETION = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, ...env } });
}

test('npm start -- --config FILE serves the runner, stops cleanly on SIGTERM', async () => {
  // A stand-in llama-server answering /props and /v1/models too: the mode is its own, the model LLAMACPP_MODEL's.
  const runner = await LlamaServer.start(B4748_COMPLETION);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rm-cli-'));
  try {
    // The default config, pointed at our runner through its environment variables.
    const env = {
      ...process.env,
      LLAMACPP_BASE_URL: runner.url,
      LLAMACPP_SCRAPE_INTERVAL: '200ms',
      LLAMACPP_MODEL: 'tiny-llama',
      LLAMACPP_EXPORTER_ADDR: `127.0.0.1:${port}`,
    };
    const collector = startProcess('npm', ['start', '--silent', '--', '--config', join(REPO_ROOT, 'otel-config.yaml')], { cwd: REPO_ROOT, env });
    let exit: number | string | undefined;
    try {
      const body = await eventually(async () => {
        const r = await httpGet(`http://127.0.0.1:${port}/metrics`);
        return r.status === 200 && r.body.includes('llamacpp:prompt_tokens_total') ? r.body : undefined;
      }, 'the collector to serve the runner', 60_000, 200);
      const fam = parseFamilies(body).find((f) => f.name === 'llamacpp:prompt_tokens_total')!;
      assert.equal(fam.type, 'counter');
      const labels = Object.fromEntries(chunk(fam.samples[0]!.labels));
      assert.equal(labels['backend'], 'llama.cpp');
      assert.equal(labels['model'], 'tiny-llama', 'LLAMACPP_MODEL overrides the name the server reports (tiny-llama-rand)');
      assert.equal(labels['mode'], 'completion');
      assert.equal(fam.samples[0]!.value, Number(/^llamacpp:prompt_tokens_total (\S+)$/m.exec(COMPLETION)![1]));
    } finally {
      exit = await stopProcess(collector);
    }
    // npm itself ends by re-raising the signal it got; the collector under it must
    // have shut down in order and said so.
    assert.ok(exit === 0 || exit === 'SIGTERM', `npm exit ${exit}: ${collector.output()}`);
    assert.match(collector.output(), /"msg":"shutting down","signal":"SIGTERM"/);
    assert.match(collector.output(), /"msg":"stopped"/);
    assert.doesNotMatch(collector.output(), /"level":"error"/);
    await assert.rejects(httpGet(`http://127.0.0.1:${port}/metrics`), 'the endpoint is closed after SIGTERM');
  } finally {
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with no runner running it starts and serves its own metrics; a runner started later at LLAMACPP_BASE_URL is picked up', async () => {
  const port = await freePort();
  const later = await freePort();
  const collector = startProcess(process.execPath, [CLI], {
    cwd: REPO_ROOT,
    env: { ...process.env, LLAMACPP_BASE_URL: `http://127.0.0.1:${later}`, LLAMACPP_EXPORTER_ADDR: `127.0.0.1:${port}`, LLAMACPP_SCRAPE_INTERVAL: '200ms' },
  });
  let runner: LlamaServer | undefined;
  try {
    const body = await eventually(async () => {
      const r = await httpGet(`http://127.0.0.1:${port}/metrics`);
      return r.status === 200 && /\nrunner_metrics_discovery_candidates\{/.test(r.body) ? r.body : undefined;
    }, 'own metrics', 20_000);
    const candidates = parseFamilies(body).find((f) => f.name === 'runner_metrics_discovery_candidates')!;
    // The eight well-known ports plus LLAMACPP_BASE_URL's.
    assert.ok(candidates.samples[0]!.value >= 9, `candidates: ${candidates.samples[0]!.value}`);
    runner = await LlamaServer.start(B4748_COMPLETION, later);
    await eventually(async () => {
      const r = await httpGet(`http://127.0.0.1:${port}/metrics`);
      return r.body.includes('llamacpp:prompt_tokens_total{backend="llama.cpp",model="tiny-llama-rand",mode="completion"}') ? true : undefined;
    }, 'the runner started later', 20_000);
    assert.match(collector.output(), new RegExp(`"msg":"local runner found"[^\\n]*"address":"127\\.0\\.0\\.1:${later}"`));
  } finally {
    assert.equal(await stopProcess(collector), 0);
    await runner?.close();
  }
  assert.doesNotMatch(collector.output(), /"level":"(warn|error)"/, 'nothing running is not a fault');
});

test('validate: exit 0 for every shipped config, 1 with file:line:col for a bad one', () => {
  for (const f of ['otel-config.yaml', 'pipelines/llamacpp.yaml', 'pipelines/docker-model-runner.yaml', 'pipelines/torchserve.yaml', 'pipelines/vllm.yaml']) {
    const r = cli(['validate', '--config', f]);
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'rm-validate-'));
  try {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'receivers:\n  prometheus:\n    scrape_intervall: 5s\n    targets: [{url: "http://x:1"}]\n');
    const r = cli(['validate', '--config', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.yaml:3:5/);
    assert.match(r.stderr, /scrape_intervall/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a config mistake');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('print-config expands env and redacts secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-print-'));
  try {
    const f = join(dir, 'c.yaml');
    writeFileSync(
      f,
      `receivers:
  prometheus:
    targets: [{url: "\${env:RUNNER_URL}"}]
    headers: { Authorization: "Bearer \${env:RUNNER_TOKEN}" }
exporters:
  prometheus:
    endpoint: 127.0.0.1:9999
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`,
    );
    const r = cli(['print-config', '--config', f], { RUNNER_URL: 'http://127.0.0.1:8080', RUNNER_TOKEN: 's3cr3t-token' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /http:\/\/127\.0\.0\.1:8080/);
    assert.doesNotMatch(r.stdout + r.stderr, /s3cr3t-token/);
    assert.match(r.stdout, /REDACTED/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('several --config files merge in order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-merge-'));
  try {
    const over = join(dir, 'over.yaml');
    writeFileSync(over, 'exporters:\n  prometheus:\n    endpoint: 127.0.0.1:9555\n');
    const r = cli(['print-config', '--config', 'otel-config.yaml', '--config', over]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /127\.0\.0\.1:9555/);
    assert.match(r.stdout, /local_runners/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function chunk(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

test('health_check extension answers 200 once the pipelines run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-health-'));
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const runner = await RunnerServer.start(COMPLETION);
  const file = join(dir, 'c.yaml');
  writeFileSync(
    file,
    `extensions:
  health_check:
    endpoint: 127.0.0.1:${healthPort}
receivers:
  prometheus:
    targets: [{ url: "${runner.url}" }]
exporters:
  prometheus:
    endpoint: 127.0.0.1:${metricsPort}
service:
  extensions: [health_check]
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`,
  );
  const collector = startProcess(process.execPath, [CLI, '--config', file], { cwd: REPO_ROOT });
  try {
    const body = await eventually(async () => {
      const r = await httpGet(`http://127.0.0.1:${healthPort}/`);
      return r.status === 200 ? r.body : undefined;
    }, 'health check 200');
    assert.equal(JSON.parse(body).status, 'Server available');
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an endpoint already in use: exit 1 with a one-line reason, no stack trace', async () => {
  const blocker = await RunnerServer.start('x 1\n');
  try {
    const r = cli([], { LLAMACPP_EXPORTER_ADDR: `127.0.0.1:${blocker.port}`, LLAMACPP_BASE_URL: 'http://127.0.0.1:9' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`runner-metrics: exporter/prometheus failed to start: .*cannot listen on 127\\.0\\.0\\.1:${blocker.port}.*EADDRINUSE`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    await blocker.close();
  }
});

test('with DISABLE_METRICS=1 (nothing listening) the collector keeps running until SIGTERM', async () => {
  const port = await freePort();
  const runner = await RunnerServer.start(COMPLETION);
  const collector = startProcess(process.execPath, [CLI], {
    cwd: REPO_ROOT,
    env: { ...process.env, DISABLE_METRICS: '1', LLAMACPP_BASE_URL: runner.url, LLAMACPP_SCRAPE_INTERVAL: '100ms', LLAMACPP_EXPORTER_ADDR: `127.0.0.1:${port}` },
  });
  try {
    // Still scraping a while later: the process did not exit for lack of a listener.
    await eventually(() => (runner.requests >= 5 ? true : undefined), 'five scrapes');
    assert.equal(collector.child.exitCode, null, collector.output());
    assert.match(collector.output(), /metrics endpoint disabled by DISABLE_METRICS=1/);
    await assert.rejects(httpGet(`http://127.0.0.1:${port}/metrics`));
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await runner.close();
  }
  assert.match(collector.output(), /"msg":"stopped"/);
});

test('LOG_LEVEL: case-insensitive, empty means the config level, unknown is a usage error', () => {
  const bad = cli([], { LOG_LEVEL: 'verbose', LLAMACPP_BASE_URL: 'http://127.0.0.1:9' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /LOG_LEVEL="verbose" is not one of debug, info, warn, error/);
});

test('LOG_LEVEL=DEBUG logs each scrape', async () => {
  const port = await freePort();
  const runner = await RunnerServer.start(COMPLETION);
  const collector = startProcess(process.execPath, [CLI], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'DEBUG', LLAMACPP_BASE_URL: runner.url, LLAMACPP_SCRAPE_INTERVAL: '100ms', LLAMACPP_EXPORTER_ADDR: `127.0.0.1:${port}` },
  });
  try {
    await eventually(() => (/"level":"debug","msg":"scraped"/.test(collector.output()) ? true : undefined), 'a debug scrape line');
    assert.match(collector.output(), /"samples":12/);
  } finally {
    assert.equal(await stopProcess(collector), 0, collector.output());
    await runner.close();
  }
});

/**
 * No secret in any output, ever: every command (run, validate, print-config)
 * and every failure path is run with canary secrets (distinct random strings),
 * and none of them may appear in stdout, stderr, /metrics, the status page or
 * print-config, in any form a client would send them in (as is,
 * percent-encoded, inside a Basic token).
 *
 * The backend is a real HTTP server that rejects every push with a 400 whose
 * body echoes the request: its URL (with `?api_key=`) and its headers
 * (Authorization included), as some proxies and gateways do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFixture, REPO_ROOT } from '../helpers/fixtures.js';
import { eventually, freePort, httpGet, startProcess, stopProcess } from '../helpers/processes.js';
import { RunnerServer } from '../helpers/runner-server.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');
const PAGE = readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom');

/** A distinct random secret, long enough to be told from anything else in the output. */
const canary = (label: string) => `${label}Cnry${randomBytes(6).toString('hex')}`;

const C = {
  targetPassword: canary('tp'),
  targetQuery: canary('tq'),
  targetHeader: canary('th'),
  deadTargetPassword: canary('dp'),
  otlpApiKey: canary('ak'),
  otlpPassword: canary('op'),
  otlpHeader: canary('oh'),
  envToken: canary('ev'),
};

/** Each canary, and what it travels as: percent-encoded, and the Basic tokens made from it. */
function forbidden(extraPairs: string[] = []): string[] {
  const values = Object.values(C);
  const pairs = [`scraper:p@${C.targetPassword}`, `scraper:${C.deadTargetPassword}`, `instance:${C.otlpPassword}`, ...extraPairs];
  return [...values, ...values.map(encodeURIComponent), ...pairs.map((p) => Buffer.from(p).toString('base64'))];
}

function assertNoCanary(what: string, text: string, extraPairs: string[] = []): void {
  for (const secret of forbidden(extraPairs)) {
    assert.ok(!text.includes(secret), `${what} leaks ${secret}:\n${text}`);
  }
  // Half a canary (a redaction that stopped at an '@' or a cut) is a leak too.
  assert.doesNotMatch(text, /Cnry[0-9a-f]{4}/, `${what} leaks part of a canary:\n${text}`);
}

/** An OTLP backend that refuses everything with a 400 echoing the request line and headers. */
async function echoingBackend(): Promise<{ server: Server; port: number; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      const echo = `invalid request: POST ${req.url} headers ${JSON.stringify(req.headers)} raw map[${req.rawHeaders.join(' ')}]`;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 3, message: echo }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, requests: () => requests };
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  // A config that loads would make `run` run on: the timeout turns that into a failure, not a hang.
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 20_000 });
}

function pipeline(exporters: string): string {
  return `service:
  telemetry: { logs: { level: debug } }
  pipelines:
    metrics: { receivers: [prometheus], exporters: [${exporters}] }
`;
}

test('no canary secret in any output of run, validate and print-config, nor in /metrics or the status page', async () => {
  const runner = await RunnerServer.start(PAGE);
  const backend = await echoingBackend();
  const port = await freePort();
  const dead = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rm-canary-'));
  const config = join(dir, 'c.yaml');
  writeFileSync(
    config,
    `receivers:
  prometheus:
    scrape_interval: 1s
    headers:
      X-Runner-Key: ${C.targetHeader}
    targets:
      - url: "http://scraper:p@${C.targetPassword}@127.0.0.1:${runner.port}/metrics?token=${C.targetQuery}"
        attributes: { mode: completion }
      - url: "http://scraper:${C.deadTargetPassword}@127.0.0.1:${dead}/metrics"
        attributes: { mode: dead }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${port}
  otlphttp:
    endpoint: "http://127.0.0.1:${backend.port}/otlp?api_key=${C.otlpApiKey}"
    export_interval: 200ms
    encoding: json
    auth: { basic: { username: instance, password: "${C.otlpPassword}" } }
    headers:
      X-Api-Key: ${C.otlpHeader}
      X-Token: \${env:CANARY_TOKEN}
${pipeline('prometheus, otlphttp')}`,
  );
  const env = { CANARY_TOKEN: C.envToken, LOG_LEVEL: 'debug' };
  try {
    const validate = cli(['validate', '--config', config], env);
    assert.equal(validate.status, 0, validate.stderr);
    assertNoCanary('validate', validate.stdout + validate.stderr);

    const printed = cli(['print-config', '--config', config], env);
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /REDACTED/);
    assertNoCanary('print-config', printed.stdout + printed.stderr);

    const collector = startProcess(process.execPath, [CLI, 'run', '--config', config], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    try {
      // The backend has answered with its echo, and the exporter said why it dropped the points.
      await eventually(() => (/"msg":"dropping metric points"/.test(collector.output()) ? true : undefined), 'a push refused by the backend', 30_000);
      await eventually(() => (/"msg":"target is down"/.test(collector.output()) ? true : undefined), 'the dead target reported', 30_000);
      assert.ok(backend.requests() > 0);
      assert.match(collector.output(), /invalid request: POST \/otlp\/v1\/metrics\?api_key=\[REDACTED\]/, 'the echo is logged, scrubbed');
      // A scrape on a loaded machine may time out once: wait for the runner's series to be served.
      const metrics = await eventually(async () => {
        const r = await httpGet(`http://127.0.0.1:${port}/metrics`);
        return r.status === 200 && r.body.includes('llamacpp:prompt_tokens_total') ? r : undefined;
      }, "the runner's series on /metrics", 30_000, 250);
      assertNoCanary('/metrics', metrics.body);
      const status = await httpGet(`http://127.0.0.1:${port}/`);
      assert.equal(status.status, 200);
      assertNoCanary('status page', status.body);
    } finally {
      await stopProcess(collector);
    }
    assertNoCanary('run (stdout and stderr)', collector.output());
  } finally {
    await runner.close();
    backend.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Configs that fail to load, each with canaries in the failing value or next to it. */
const FAILURES: { name: string; config: string; env?: NodeJS.ProcessEnv; extraPairs?: string[]; expect: RegExp }[] = [
  {
    name: 'a target URL that does not parse (port out of range), with a password holding @',
    config: `receivers:
  prometheus:
    targets: [{ url: "http://scraper:p@${C.targetPassword}@127.0.0.1:99999/metrics?token=${C.targetQuery}" }]
exporters:
  prometheus:
${pipeline('prometheus')}`,
    expect: /targets\[0\]\.url: target url .* is not a valid URL/,
  },
  {
    name: 'a malformed ${…} inside a secret value',
    config: `receivers:
  prometheus:
    targets: [{ url: "http://127.0.0.1:9/metrics" }]
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:9
    auth: { basic: { username: u, password: "${C.otlpPassword}\${env:${C.envToken}" } }
    headers:
      X-Api-Key: "${C.otlpHeader}\${${C.otlpApiKey}}"
${pipeline('otlphttp')}`,
    expect: /password: unterminated \$\{ reference at character \d+ of the value/,
  },
  {
    name: 'a header value with a CR/LF',
    config: `receivers:
  prometheus:
    targets: [{ url: "http://127.0.0.1:9/metrics" }]
    headers:
      Authorization: "Bearer ${C.targetHeader}\\r\\nX-Injected: ${C.envToken}"
exporters:
  prometheus:
${pipeline('prometheus')}`,
    expect: /headers\.Authorization: header value contains a line break/,
  },
  {
    name: 'a secret copied where another type is expected, next to another error',
    config: `receivers:
  prometheus:
    targets: [{ url: "http://127.0.0.1:9/metrics" }]
    sample_limit: \${env:CANARY_TOKEN}
exporters:
  otlphttp:
    endpoint: "localhost:4318/otlp?api_key=${C.otlpApiKey}"
    headers: { X-Token: "\${env:CANARY_TOKEN}" }
    resource_to_attributes: "${C.otlpHeader}"
    auth: { basic: { username: u, password: "${C.otlpHeader}" } }
${pipeline('otlphttp')}`,
    env: { CANARY_TOKEN: C.envToken },
    expect: /endpoint has no scheme: add http:\/\//,
  },
];

for (const failure of FAILURES) {
  test(`no canary secret in the errors of run, validate and print-config: ${failure.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'rm-canary-'));
    const config = join(dir, 'c.yaml');
    writeFileSync(config, failure.config);
    try {
      for (const command of ['run', 'validate', 'print-config']) {
        const r = cli([command, '--config', config], failure.env);
        assert.equal(r.status, 1, `${command}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, failure.expect, `${command}: ${r.stderr}`);
        // Every line written to stderr is one of ours.
        for (const line of r.stderr.trimEnd().split('\n')) assert.match(line, /^runner-metrics: /, `${command}: ${r.stderr}`);
        assertNoCanary(`${command} (${failure.name})`, r.stdout + r.stderr, failure.extraPairs);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** What the CLI writes on stderr for config mistakes: one line per issue, each starting with `runner-metrics:`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';

const CLI = join(REPO_ROOT, 'dist/src/cli.js');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 20_000 });
}

function withConfig(text: string, body: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'rm-messages-'));
  try {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, text);
    body(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('several errors: validate, run and print-config write one line each, every line prefixed', () => {
  withConfig(
    `receivers:
  prometheus:
    sample_limit: -1
    targets: [{ url: "localhost:8080" }]
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:4318
    compression: gzp
  prometheus/unused:
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [otlphttp] }
`,
    (file) => {
      for (const command of ['validate', 'run', 'print-config']) {
        const r = cli([command, '--config', file], { UNSET_FOR_TEST: '' });
        assert.equal(r.status, 1, `${command}: ${r.stderr}`);
        assert.equal(r.stdout, '', command);
        const lines = r.stderr.trimEnd().split('\n');
        assert.deepEqual(
          lines.map((l) => l.replace(/^runner-metrics: \S+?c\.yaml:/, 'runner-metrics: c.yaml:')),
          [
            'runner-metrics: c.yaml:3:19: receivers.prometheus.sample_limit: must be 0 or more (not negative)',
            'runner-metrics: c.yaml:4:22: receivers.prometheus.targets[0].url: target url "localhost:8080" has no scheme: add http:// (or https://) in front, e.g. http://localhost:8080',
            'runner-metrics: c.yaml:8:18: exporters.otlphttp.compression: must be one of: gzip, none (did you mean "gzip"?)',
          ],
          `${command}:\n${r.stderr}`,
        );
      }
    },
  );
});

test('warnings from validate are prefixed too, and the config is still valid', () => {
  withConfig(
    `receivers:
  prometheus:
    scrape_interval: 5s
    scrape_timeout: 10s
    targets: [{ url: "http://127.0.0.1:8080" }]
exporters:
  prometheus:
  prometheus/unused:
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`,
    (file) => {
      const r = cli(['validate', '--config', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /c\.yaml: valid\n$/);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, r.stderr);
      for (const line of lines) assert.match(line, /^runner-metrics: warning: \S+c\.yaml:\d+:\d+: /);
      assert.match(r.stderr, /scrape_timeout: scrape_timeout \(10s\) is longer than scrape_interval \(5s\)/);
    },
  );
});

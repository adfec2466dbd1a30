/**
 * The production install, as the README's "Run as a service" does it: `npm pack`,
 * `npm install -g` of the tarball (no TypeScript, no dev dependencies), the
 * `runner-metrics` command, and the shipped systemd unit checked by
 * `systemd-analyze` against that installed command. Plus `npm ci --omit=dev` in a
 * checkout, which must succeed without TypeScript.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';

const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
/** npm needs the registry only for what its cache lacks; every step is bounded. */
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function run(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 180_000, ...options });
  const out = `${command} ${args.join(' ')} -> ${r.status ?? r.signal}\n${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`;
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr), out };
}

describe('the npm package, installed globally', () => {
  let dir: string;
  let files: string[];
  let prefix: string;
  let installed: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rm-package-'));
    // dist/ is already built (npm test builds first): pack it as is, without running prepare again.
    const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir, ...NPM_FLAGS], { cwd: REPO_ROOT });
    assert.equal(pack.status, 0, pack.out);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = info!.files.map((f) => f.path);
    prefix = join(dir, 'prefix');
    const install = run('npm', ['install', '-g', '--prefix', prefix, ...NPM_FLAGS, join(dir, info!.filename)], { cwd: dir });
    assert.equal(install.status, 0, install.out);
    installed = join(prefix, 'lib', 'node_modules', PACKAGE.name);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('ships the built collector, its configs, the systemd unit and the docs; no tests, sources or maps', () => {
    for (const f of ['dist/src/cli.js', 'otel-config.yaml', 'otel-config.schema.json', 'pipelines/grafana-cloud.yaml', 'deploy/systemd/runner-metrics.service', 'deploy/systemd/runner-metrics.env', 'README.md', 'src/extensions/health_check/README.md']) {
      assert.ok(files.includes(f), `${f} is not in the package`);
    }
    const stray = files.filter((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/') || f.startsWith('test/') || f.endsWith('.ts') || f.endsWith('.map'));
    assert.deepEqual(stray, []);
  });

  test('runner-metrics runs without TypeScript: --version, validate the shipped configs', () => {
    assert.ok(!existsSync(join(installed, 'node_modules', 'typescript')), 'dev dependencies were installed');
    const bin = join(prefix, 'bin', 'runner-metrics');
    const version = run(bin, ['--version'], { cwd: dir });
    assert.equal(version.status, 0, version.out);
    assert.equal(version.stdout.trim(), `runner-metrics ${PACKAGE.version}`);
    for (const config of ['otel-config.yaml', 'pipelines/llamacpp.yaml', 'pipelines/vllm.yaml']) {
      const validate = run(bin, ['validate', '--config', join(installed, config)], { cwd: dir });
      assert.equal(validate.status, 0, validate.out);
      assert.match(validate.stdout, /: valid$/m);
    }
    // Should an npm run the package's prepare, it has nothing to build and must not fail.
    const prepare = run(process.execPath, [join(installed, 'scripts', 'prepare.mjs')], { cwd: installed });
    assert.equal(prepare.status, 0, prepare.out);
    assert.equal(prepare.stderr, '');
  });

  test('the systemd unit passes systemd-analyze verify, run as the installed command, and stays hardened', () => {
    const unit = readFileSync(join(installed, 'deploy', 'systemd', 'runner-metrics.service'), 'utf8');
    // systemd-analyze checks that ExecStart's program exists: point it at this install instead of /usr/local.
    const execStart = /^ExecStart=\/usr\/local\/bin\/runner-metrics /m;
    assert.match(unit, execStart, 'the unit runs the command `npm install -g` puts in /usr/local/bin');
    const units = join(dir, 'units');
    mkdirSync(units);
    const file = join(units, 'runner-metrics.service');
    writeFileSync(file, unit.replace(execStart, `ExecStart=${join(prefix, 'bin', 'runner-metrics')} `));
    const verify = run('systemd-analyze', ['verify', file]);
    assert.equal(verify.status, 0, verify.out);
    assert.deepEqual(verify.stderr.split('\n').filter((l) => l.includes('runner-metrics')), [], verify.out);
    // The offline security review scores exposure 0 (locked down) to 10; "OK" is below 4.
    const security = run('systemd-analyze', ['security', '--offline=true', '--no-pager', file]);
    const exposure = /Overall exposure level for runner-metrics\.service: ([\d.]+)/.exec(security.stdout + security.stderr);
    assert.ok(exposure, security.out);
    assert.ok(Number(exposure[1]) <= 2, `exposure ${exposure[1]}:\n${security.out}`);
  });
});

test('npm ci --omit=dev in a checkout succeeds without TypeScript and says how to get dist/', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-omit-dev-'));
  try {
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json']) copyFileSync(join(REPO_ROOT, f), join(dir, f));
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(REPO_ROOT, 'scripts', 'prepare.mjs'), join(dir, 'scripts', 'prepare.mjs'));
    const ci = run('npm', ['ci', '--omit=dev', ...NPM_FLAGS], { cwd: dir });
    assert.equal(ci.status, 0, ci.out);
    assert.ok(!existsSync(join(dir, 'node_modules', 'typescript')));
    assert.ok(existsSync(join(dir, 'node_modules', 'yaml')), 'production dependencies are installed');
    assert.match(ci.stderr, /TypeScript is not installed .* dist\/ was not built/);
    assert.match(ci.stderr, /npm ci\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

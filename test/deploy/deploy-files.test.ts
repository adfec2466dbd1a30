/**
 * The files that run the collector beside Prometheus and Grafana: the Prometheus
 * config and alert rules go through the real promtool (check config, check
 * rules, the rules' unit tests); the compose file and the Dockerfile are checked
 * for structure, since there is no Docker engine here: what they name must exist,
 * the ports must agree across files, and the files the image copies must be
 * enough to run the collector.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { envOf, parseDockerfile } from './dockerfile.js';
import { START_FLAGS } from '../../src/runtime/heap-tuning.js';

const at = (...p: string[]) => join(REPO_ROOT, ...p);
const readYaml = (...p: string[]) => parse(readFileSync(at(...p), 'utf8')) as any;
const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: at('deploy/prometheus'), encoding: 'utf8' });

test('promtool check config: the Prometheus config, with its rule file', () => {
  const r = promtool('check', 'config', 'prometheus.yml');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /1 rule files found/);
});

test('promtool check rules and test rules: every alert is unit-tested, firing and not', () => {
  const check = promtool('check', 'rules', 'alerts.yml');
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const unit = promtool('test', 'rules', 'alerts.test.yml');
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);

  const alerts = (readYaml('deploy/prometheus/alerts.yml').groups as any[]).flatMap((g) => g.rules.map((r: any) => r.alert as string));
  for (const wanted of ['RunnerDown', 'RunnerNoTokensWhileProcessing', 'PushQueueDropping', 'GpuHot']) assert.ok(alerts.includes(wanted), wanted);
  const cases = (readYaml('deploy/prometheus/alerts.test.yml').tests as any[]).flatMap((t) => t.alert_rule_test as any[]);
  for (const alert of alerts) {
    assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0), `${alert} is tested firing`);
    assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0), `${alert} is tested not firing`);
  }
});

test('promtool test rules fails when an alert changes (the unit tests can fail)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-rules-'));
  try {
    const rules = readFileSync(at('deploy/prometheus/alerts.yml'), 'utf8').replace('system_gpu_temperature_celsius > 85', 'system_gpu_temperature_celsius > 95');
    cpSync(at('deploy/prometheus/alerts.test.yml'), join(dir, 'alerts.test.yml'));
    execFileSync('sh', ['-c', 'cat > alerts.yml'], { cwd: dir, input: rules });
    const r = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /alertname: GpuHot/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compose.yaml: collector, Prometheus on 9090, Grafana on 3001 (admin/admin), every mounted file present', () => {
  const compose = readYaml('compose.yaml');
  const services = compose.services as Record<string, any>;
  assert.deepEqual(Object.keys(services).sort(), ['collector', 'grafana', 'prometheus']);

  // Each bind mount's host side exists; named volumes are declared.
  const mounts = (name: string) =>
    (services[name].volumes ?? []).map((v: string) => {
      const [source, target] = v.split(':');
      return { source: source!, target: target! };
    });
  for (const name of Object.keys(services)) {
    for (const { source } of mounts(name)) {
      if (source.startsWith('./')) assert.ok(existsSync(at(source)), `${name}: ${source} exists`);
      else assert.ok(Object.hasOwn(compose.volumes ?? {}, source), `${name}: volume ${source} is declared`);
    }
  }
  const hostPathOf = (service: string, containerPath: string): string => {
    const m = mounts(service).find((v: { target: string }) => containerPath === v.target || containerPath.startsWith(v.target + '/'));
    assert.ok(m, `${service}: ${containerPath} is mounted`);
    return at(m.source, posix.relative(m.target, containerPath));
  };

  // The collector: built from this Dockerfile, its /metrics published on the host's loopback.
  assert.equal(services['collector'].build, '.');
  assert.ok(existsSync(at('Dockerfile')));
  assert.deepEqual(services['collector'].ports, ['127.0.0.1:9464:9464']);

  // Prometheus: on 9090, its config from deploy/prometheus, scraping the collector service.
  assert.deepEqual(services['prometheus'].ports, ['127.0.0.1:9090:9090']);
  const configFlag = (services['prometheus'].command as string[]).find((a) => a.startsWith('--config.file='))!;
  const promConfigPath = hostPathOf('prometheus', configFlag.slice('--config.file='.length));
  assert.equal(promConfigPath, at('deploy/prometheus/prometheus.yml'));
  const promConfig = readYaml('deploy/prometheus/prometheus.yml');
  for (const rules of promConfig.rule_files as string[]) assert.ok(existsSync(at('deploy/prometheus', rules)), rules);
  const targets = (promConfig.scrape_configs as any[]).flatMap((s) => s.static_configs.flatMap((c: any) => c.targets as string[]));
  assert.deepEqual(targets, ['collector:9464'], 'Prometheus scrapes the collector service on its container port');

  // Grafana: on 3001, admin/admin, the data source and the dashboard provisioned.
  const grafana = services['grafana'];
  assert.deepEqual(grafana.ports, ['127.0.0.1:3001:3000']);
  assert.equal(grafana.environment.GF_SECURITY_ADMIN_USER, 'admin');
  assert.equal(grafana.environment.GF_SECURITY_ADMIN_PASSWORD, 'admin');
  const provisioning = hostPathOf('grafana', '/etc/grafana/provisioning');
  const datasources = parse(readFileSync(join(provisioning, 'datasources/prometheus.yaml'), 'utf8')).datasources as any[];
  assert.equal(datasources.length, 1);
  assert.equal(datasources[0].type, 'prometheus');
  assert.equal(new URL(datasources[0].url).host, 'prometheus:9090', 'the data source is the prometheus service');
  const providers = parse(readFileSync(join(provisioning, 'dashboards/runner-metrics.yaml'), 'utf8')).providers as any[];
  const dashboardDir = hostPathOf('grafana', providers[0].options.path);
  assert.ok(statSync(dashboardDir).isDirectory());
  const dashboard = JSON.parse(readFileSync(join(dashboardDir, 'runner-metrics.json'), 'utf8'));
  assert.equal(hostPathOf('grafana', grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH), join(dashboardDir, 'runner-metrics.json'));
  const dsVariable = dashboard.templating.list.find((v: any) => v.type === 'datasource');
  assert.equal(dsVariable.current.value, datasources[0].uid, 'the dashboard opens on the provisioned data source');
});

test('Dockerfile: Node 22/24 slim, npm ci and npm run build, runs as a user other than root, listens on 0.0.0.0 through METRICS_ADDR only', () => {
  const stages = parseDockerfile(readFileSync(at('Dockerfile'), 'utf8'));
  assert.ok(stages.length >= 1);
  for (const s of stages) assert.match(s.from, /^node:(22|24)(\.\d+)*-(bookworm-|trixie-)?slim$/, s.from);
  const all = stages.flatMap((s) => s.instructions);
  const runs = all.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  assert.ok(runs.some((r) => /\bnpm ci\b/.test(r)), 'npm ci');
  assert.ok(runs.some((r) => /\bnpm run build\b/.test(r)), 'npm run build');
  assert.ok(runs.findIndex((r) => /\bnpm ci\b/.test(r)) <= runs.findIndex((r) => /\bnpm run build\b/.test(r)));

  const final = stages[stages.length - 1]!;
  const users = final.instructions.filter((i) => i.keyword === 'USER');
  assert.ok(users.length > 0, 'the final stage sets USER');
  assert.doesNotMatch(users[users.length - 1]!.args, /^(root|0)(:|$)/);
  const env = Object.assign({}, ...final.instructions.filter((i) => i.keyword === 'ENV').map((i) => envOf(i.args)));
  assert.match(env.METRICS_ADDR, /^0\.0\.0\.0:\d+$/);
  const port = env.METRICS_ADDR.split(':')[1];
  assert.ok(final.instructions.some((i) => i.keyword === 'EXPOSE' && i.args.split(' ').includes(port)), `EXPOSE ${port}`);
  assert.deepEqual(readYaml('compose.yaml').services.collector.ports, [`127.0.0.1:${port}:${port}`]);
  // Every interface only in the container, by env: no config file binds it.
  for (const file of ['otel-config.yaml', ...readdir('pipelines')]) assert.doesNotMatch(readFileSync(at(file), 'utf8'), /0\.0\.0\.0/, file);

  // What COPY takes from the build context exists, and .dockerignore leaves it in.
  const ignored = readFileSync(at('.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.ok(ignored.includes('node_modules') && ignored.includes('dist'), 'the host\'s node_modules and dist stay out of the image');
  for (const copy of all.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
    const sources = copy.args.split(' ').filter((a) => !a.startsWith('--')).slice(0, -1);
    for (const s of sources) {
      assert.ok(existsSync(at(s)), `COPY ${s} (line ${copy.line}) exists`);
      assert.ok(!ignored.includes(s.replace(/^\.\//, '')), `COPY ${s} is not in .dockerignore`);
    }
  }
  const entry = final.instructions.find((i) => i.keyword === 'ENTRYPOINT')!;
  // Started as the runner-metrics command starts it (see src/runtime/heap-tuning.ts).
  assert.deepEqual(JSON.parse(entry.args), ['node', ...START_FLAGS, 'dist/src/cli.js']);
});

test('the files the image copies are enough: built from the copied sources alone, the collector validates its config', () => {
  const stages = parseDockerfile(readFileSync(at('Dockerfile'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'rm-image-'));
  const build = join(dir, 'build');
  const image = join(dir, 'app');
  try {
    // The build stage: what it copies from the context, then `npm run build` (node_modules from this checkout).
    const copies = (stage: number, from: boolean) => stages[stage]!.instructions.filter((i) => i.keyword === 'COPY' && i.args.startsWith('--from') === from);
    for (const c of copies(0, false)) {
      const parts = c.args.split(' ');
      const dest = parts[parts.length - 1]!;
      for (const s of parts.slice(0, -1)) cpSync(at(s), dest === './' ? join(build, s) : join(build, dest), { recursive: true });
    }
    symlinkSync(at('node_modules'), join(build, 'node_modules'));
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: build });
    // The final stage: only what it copies.
    mkdirSync(image);
    const final = stages.length - 1;
    for (const c of copies(final, true)) {
      const [, src, dest] = c.args.split(' ');
      if (src!.includes('node_modules')) symlinkSync(at('node_modules'), join(image, 'node_modules'));
      else cpSync(join(build, posix.relative('/app', src!)), join(image, dest!), { recursive: true });
    }
    for (const c of copies(final, false)) {
      const parts = c.args.split(' ');
      const dest = parts[parts.length - 1]!;
      for (const s of parts.slice(0, -1)) cpSync(at(s), dest === './' ? join(image, s) : join(image, dest), { recursive: true });
    }
    const run = spawnSync(process.execPath, ['dist/src/cli.js', 'validate', '--config', 'otel-config.yaml'], {
      cwd: image,
      env: { ...process.env, METRICS_ADDR: '0.0.0.0:9464' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const version = spawnSync(process.execPath, ['dist/src/cli.js', '--version'], { cwd: image, encoding: 'utf8' });
    assert.equal(version.stdout.trim(), `runner-metrics ${JSON.parse(readFileSync(at('package.json'), 'utf8')).version}`, 'package.json is where dist/src/version.js looks');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function readdir(dir: string): string[] {
  return execFileSync('ls', [at(dir)], { encoding: 'utf8' }).split('\n').filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f));
}

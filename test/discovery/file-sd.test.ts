import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusReceiver } from '../../src/receivers/prometheus/index.js';
import { prometheusReceiverConfigSchema } from '../../src/receivers/prometheus/config.js';
import { parseTargetGroups } from '../../src/discovery/file-sd.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { RunnerServer } from '../helpers/runner-server.js';
import { CollectingConsumer, RecordingLogger, metricNamed } from '../helpers/collect.js';
import { until } from '../helpers/until.js';
import { HealthRegistry } from '../../src/telemetry/health.js';

const health = new HealthRegistry();

const PAGE = '# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing 1\n';

function receiver(fileSd: Record<string, unknown>) {
  const config = prometheusReceiverConfigSchema.parse({ scrape_interval: '50ms', scrape_timeout: '1s', file_sd_configs: [fileSd] });
  const sink = new CollectingConsumer();
  const logger = new RecordingLogger();
  const selfMetrics = new SelfMetrics();
  const r = new PrometheusReceiver(config, { id: 'prometheus/sd', kind: 'receiver', logger, selfMetrics, health }, sink);
  return { r, sink, logger, selfMetrics };
}

/** Whether the latest snapshot of that resource has series (undefined: never seen). */
function serving(sink: CollectingConsumer, attribute: string, value: string): boolean | undefined {
  const rb = sink.latest(attribute, value);
  return rb === undefined ? undefined : rb.scopeMetrics.some((s) => s.metrics.length > 0);
}

test('file_sd: targets added, removed and relabelled as the file is edited; broken YAML keeps the last set, logged once with file:line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-filesd-'));
  const a = await RunnerServer.start(PAGE);
  const b = await RunnerServer.start(PAGE);
  const file = join(dir, 'runners.yaml');
  // Written as a file_sd file should be: whole, by rename, so a reader never sees half of it.
  const write = (text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  write(`- targets: ['127.0.0.1:${a.port}']\n  labels: { backend: llama.cpp, model: alpha, mode: completion }\n`);
  // The refresh timer is an hour away: every change below is seen through the file watcher.
  const { r, sink, logger, selfMetrics } = receiver({ files: [join(dir, '*.yaml')], refresh_interval: '1h' });
  const errors = (reason: string) => selfMetrics.counter('runner_metrics_discovery_errors_total', '').value({ receiver: 'prometheus/sd', mechanism: 'file_sd', reason });
  const discovered = () => selfMetrics.gauge('runner_metrics_discovery_targets', '').value({ receiver: 'prometheus/sd', mechanism: 'file_sd' });
  try {
    await r.start();
    await until(() => serving(sink, 'model', 'alpha'), 'alpha scraped');
    const alpha = sink.latest('model', 'alpha')!;
    assert.equal(alpha.resource.attributes['backend'], 'llama.cpp');
    assert.equal(alpha.resource.attributes['service.instance.id'], `127.0.0.1:${a.port}`);
    assert.ok(metricNamed(alpha, 'llamacpp:requests_processing'));

    // Added.
    write(`- targets: ['127.0.0.1:${a.port}']\n  labels: { backend: llama.cpp, model: alpha, mode: completion }\n- targets: ['127.0.0.1:${b.port}']\n  labels: { model: beta }\n`);
    await until(() => serving(sink, 'model', 'beta'), 'beta scraped');
    assert.equal(discovered(), 2);

    // Removed: its series leave at once.
    write(`- targets: ['127.0.0.1:${b.port}']\n  labels: { model: beta }\n`);
    await until(() => serving(sink, 'model', 'alpha') === false, 'alpha emptied');
    assert.equal(r.scrapers.length, 1);

    // Labels changed: the target's resource changes.
    write(`- targets: ['127.0.0.1:${b.port}']\n  labels: { model: beta, mode: embedding }\n`);
    await until(() => serving(sink, 'mode', 'embedding'), 'beta relabelled');

    // Broken: the last good set stays, one error naming file and line.
    write(`- targets: ['127.0.0.1:${b.port}']\n  labels: { model: beta\n`);
    await until(() => errors('parse') > 0 && true, 'the parse error counted');
    writeFileSync(join(dir, 'unrelated.txt'), 'x'); // more watch events, more refreshes
    writeFileSync(join(dir, 'unrelated.txt'), 'y');
    await new Promise((res) => setTimeout(res, 200));
    const logged = logger.lines.filter((l) => l.msg === 'discovery error');
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.match(String(logged[0]!.error), new RegExp(`^${file.replace(/[.]/g, '\\.')}:[23]:\\d+: YAML syntax error`));
    assert.equal(r.scrapers.length, 1);
    assert.ok(serving(sink, 'mode', 'embedding'));
    const before = b.requests;
    await until(() => b.requests > before + 1, 'the kept target still scraped');

    // Fixed again.
    write(`- targets: ['127.0.0.1:${b.port}']\n  labels: { model: gamma }\n`);
    await until(() => serving(sink, 'model', 'gamma'), 'gamma scraped');
    assert.ok(logger.lines.some((l) => l.msg === 'discovery recovered'));
  } finally {
    await r.shutdown();
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file_sd: JSON files, __metrics_path__ and __scheme__, a file that appears and one that goes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-filesd-'));
  const a = await RunnerServer.start(PAGE);
  try {
    const { r, sink } = receiver({ files: [join(dir, 'tg_*.json')], refresh_interval: '1h' });
    await r.start();
    try {
      assert.equal(r.scrapers.length, 0);
      const file = join(dir, 'tg_1.json');
      writeFileSync(file, JSON.stringify([{ targets: [`127.0.0.1:${a.port}`], labels: { __metrics_path__: '/custom', __scheme__: 'http', model: 'j' } }]));
      await until(() => serving(sink, 'model', 'j'), 'the JSON target scraped');
      assert.equal(new URL(r.scrapers[0]!.address.url).pathname, '/custom');
      assert.deepEqual(Object.keys(sink.latest('model', 'j')!.resource.attributes).filter((k) => k.startsWith('__')), []);
      rmSync(file);
      await until(() => serving(sink, 'model', 'j') === false, 'the target of a deleted file emptied');
    } finally {
      await r.shutdown();
    }
  } finally {
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file_sd: a file that is not target groups is an error at its line', () => {
  assert.throws(() => parseTargetGroups('- targets: [a:1]\n  labels: { "bad-name": x }\n', 'f.yaml'), /^Error: f\.yaml:2:13: label name "bad-name"/);
  assert.throws(() => parseTargetGroups('[{"targets": "a:1"}]', 'f.json'), /^Error: f\.json:1:14: "targets" of group 0 must be a list/);
  assert.throws(() => parseTargetGroups('- labels: {}\n', 'f.yaml'), /f\.yaml:1:3: target group 0 has no "targets"/);
  assert.throws(() => parseTargetGroups('{"targets": []}', 'f.json'), /f\.json:1:1: expected a list of target groups/);
  assert.deepEqual(parseTargetGroups('', 'f.yaml'), []);
  assert.deepEqual(parseTargetGroups('[{"targets": ["a:1"], "labels": {"n": 1}}]', 'f.json'), [{ targets: ['a:1'], labels: { n: '1' }, source: 'f.json' }]);
});

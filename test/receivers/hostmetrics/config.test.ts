import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { hostmetricsReceiverConfigSchema } from '../../../src/receivers/hostmetrics/config.js';
import { loadConfig } from '../../../src/config/load.js';
import { registry } from '../../../src/registry.js';
import { REPO_ROOT } from '../../helpers/fixtures.js';
import { join } from 'node:path';

test('an empty body measures everything every 10s, pseudo file systems and container layers left out', () => {
  const c = hostmetricsReceiverConfigSchema.parse(null);
  assert.equal(c.collection_interval, 10_000);
  assert.deepEqual(Object.keys(c.scrapers).sort(), ['cpu', 'filesystem', 'gpu', 'memory']);
  assert.equal(c.scrapers.filesystem!.include_virtual_filesystems, false);
  assert.equal(c.scrapers.filesystem!.exclude_mount_points!['match_type'], 'regexp');
  assert.deepEqual(c.scrapers.gpu, { tools: ['nvidia-smi', 'rocm-smi'], timeout: 5_000 });
});

test('scrapers listed with empty bodies run with their defaults; unlisted ones do not run', () => {
  const c = hostmetricsReceiverConfigSchema.parse(parse('scrapers:\n  cpu:\n  gpu:\n'));
  assert.deepEqual(Object.keys(c.scrapers).sort(), ['cpu', 'gpu']);
  assert.deepEqual(c.scrapers.cpu, {});
  assert.equal(c.scrapers.gpu!.timeout, 5_000);
});

test('mistakes are refused with their path', () => {
  const issues = (body: unknown) => {
    const r = hostmetricsReceiverConfigSchema.safeParse(body);
    assert.equal(r.success, false);
    return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.match(issues({ attributes: { backend: 'x' } })[0]!, /^attributes\.backend: "backend" is set by the receiver/);
  assert.match(issues({ scrapers: { filesystem: { exclude_fs_types: { fs_types: ['('], match_type: 'regexp' } } } })[0]!, /^scrapers\.filesystem\.exclude_fs_types\.fs_types\.0: invalid regular expression/);
  assert.match(issues({ scrapers: { gpu: { tools: ['intel_gpu_top'] } } })[0]!, /^scrapers\.gpu\.tools\.0/);
  assert.match(issues({ scrapers: { disk: {} } })[0]!, /disk/);
  assert.match(issues({ collection_interval: '10' })[0]!, /no unit/);
});

test('the default otel-config.yaml serves the host beside the local runners, with no processor that could drop its series', () => {
  const { config } = loadConfig([join(REPO_ROOT, 'otel-config.yaml')], registry, {});
  assert.ok('hostmetrics' in config.receivers);
  const pipelines = Object.values(config.service.pipelines);
  const host = pipelines.find((p) => p.receivers.includes('hostmetrics'))!;
  assert.deepEqual(host.processors, []);
  assert.deepEqual(host.exporters, ['prometheus']);
  assert.ok(pipelines.some((p) => p.receivers.includes('local_runners') && p.exporters.includes('prometheus')));
  const yamlText = readFileSync(join(REPO_ROOT, 'otel-config.yaml'), 'utf8');
  assert.match(yamlText, /HOSTMETRICS_INTERVAL/);
});

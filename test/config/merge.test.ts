import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig, loadConfigFromText } from '../../src/config/load.js';
import { mergeConfigs } from '../../src/config/merge.js';
import { fixturePath } from '../helpers/fixtures.js';
import { fakeRegistry } from './fake-registry.js';

describe('mergeConfigs', () => {
  it('merges maps recursively; later files win for scalars and lists', () => {
    const merged = mergeConfigs([
      { a: { x: 1, list: [1, 2, 3], keep: 'base' }, b: 'one' },
      { a: { x: 2, list: [9] }, c: true },
      { a: { y: 'new' } },
    ]);
    assert.deepEqual(merged, { a: { x: 2, list: [9], keep: 'base', y: 'new' }, b: 'one', c: true });
  });

  it('keeps an earlier map when a later file leaves the key empty', () => {
    assert.deepEqual(mergeConfigs([{ filter: { include: ['a'] } }, { filter: null }]), { filter: { include: ['a'] } });
  });

  it('treats __proto__ as an ordinary key', () => {
    const merged = mergeConfigs([JSON.parse('{"__proto__": {"polluted": 1}}'), { a: 1 }]) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(merged), ['__proto__', 'a']);
  });
});

describe('loading several files', () => {
  it('applies files in order', () => {
    const base = fixturePath('config', 'base.yaml');
    const override = fixturePath('config', 'override.yaml');
    const { config, files, warnings } = loadConfig([base, override], fakeRegistry, {});
    assert.deepEqual(files, [base, override]);
    assert.deepEqual(config.receivers['prometheus/llama'], { targets: [{ url: 'http://127.0.0.1:9090/metrics' }], scrape_interval: 2000 });
    assert.deepEqual(config.exporters.prometheus, { endpoint: '127.0.0.1:9464', enabled: false });
    assert.deepEqual(config.service.pipelines.metrics, { receivers: ['prometheus/llama'], processors: [], exporters: ['prometheus'] });
    // The override dropped otlphttp from the pipeline; base.yaml defined it, so the warning points there.
    assert.deepEqual(warnings, [{ file: base, line: 9, column: 3, path: 'exporters.otlphttp', message: 'defined but not used in any pipeline' }]);
  });

  it('reports each issue in the file that supplied the value', () => {
    const first = `receivers:
  prometheus:
    targets: [{ url: x }]
    scrape_interval: 1s
exporters:
  prometheus:
    enabled: true
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`;
    const second = `exporters:
  prometheus:
    enabled: nope
receivers:
  prometheus:
    scrape_interval: 3x
`;
    const third = `service:
  pipelines:
    metrics/extra:
      receivers: [prometheus]
      exporters: [missing]
`;
    assert.throws(
      () =>
        loadConfigFromText(
          [
            { name: 'first.yaml', text: first },
            { name: 'second.yaml', text: second },
            { name: 'third.yaml', text: third },
          ],
          fakeRegistry,
          {},
        ),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(
          e.issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.path}`),
          [
            'second.yaml:3:14 exporters.prometheus.enabled',
            'second.yaml:6:22 receivers.prometheus.scrape_interval',
            'third.yaml:5:19 service.pipelines.metrics/extra.exporters[0]',
          ],
        );
        return true;
      },
    );
  });

  it('reports syntax errors of every file', () => {
    assert.throws(
      () =>
        loadConfigFromText(
          [
            { name: 'a.yaml', text: 'a: [1\n' },
            { name: 'b.yaml', text: 'b: 1\nb: 2\n' },
          ],
          fakeRegistry,
          {},
        ),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(
          e.issues.map((i) => `${i.file}:${i.line}:${i.column}`),
          ['a.yaml:2:1', 'b.yaml:2:1'],
        );
        return true;
      },
    );
  });
});

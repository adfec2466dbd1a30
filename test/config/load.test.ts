import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, type ConfigIssue } from '../../src/config/errors.js';
import { loadConfig, loadConfigFromText, type LoadedConfig } from '../../src/config/load.js';
import { fixturePath } from '../helpers/fixtures.js';
import { fakeRegistry } from './fake-registry.js';

const PIPELINE = `
service:
  pipelines:
    metrics:
      receivers: [prometheus]
      exporters: [prometheus]
`;
const MINIMAL = `
receivers:
  prometheus:
    targets: [{ url: http://127.0.0.1:8080/metrics }]
exporters:
  prometheus:
${PIPELINE}`;

function load(text: string, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  return loadConfigFromText([{ name: 'otel-config.yaml', text }], fakeRegistry, env);
}

/** The issues of the ConfigError that loading `text` throws. */
function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigIssue[] {
  try {
    load(text, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('expected the config to be rejected');
}

describe('loadConfig: a valid config', () => {
  it('parses component bodies with their schemas and fills defaults', () => {
    const { config, warnings, files } = load(MINIMAL);
    assert.deepEqual(config.receivers, {
      prometheus: { targets: [{ url: 'http://127.0.0.1:8080/metrics' }], scrape_interval: 15_000 },
    });
    assert.deepEqual(config.exporters, { prometheus: { endpoint: '127.0.0.1:9464', enabled: true } });
    assert.deepEqual(config.processors, {});
    assert.deepEqual(config.service, {
      extensions: [],
      telemetry: { logs: { level: 'info' } },
      pipelines: { metrics: { receivers: ['prometheus'], processors: [], exporters: ['prometheus'] } },
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(files, ['otel-config.yaml']);
  });

  it('lets a receiver feed two pipelines and an exporter be fed by two', () => {
    const { config, warnings } = load(`
receivers:
  prometheus/llama:
    targets: [{ url: http://127.0.0.1:8080/metrics }]
    scrape_interval: 5s
  prometheus/vllm:
    targets: [{ url: http://127.0.0.1:8000/metrics }]
processors:
  filter:
  resource/vllm:
    attributes: { backend: vllm }
exporters:
  prometheus:
  otlphttp:
    endpoint: https://otlp.example.com
extensions:
  health_check:
service:
  extensions: [health_check]
  telemetry: { logs: { level: debug } }
  pipelines:
    metrics/local:
      receivers: [prometheus/llama, prometheus/vllm]
      exporters: [prometheus]
    metrics/cloud:
      receivers: [prometheus/llama]
      processors: [resource/vllm, filter]
      exporters: [otlphttp]
    metrics:
      receivers: [prometheus/vllm]
      exporters: [prometheus]
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.service.pipelines, {
      'metrics/local': { receivers: ['prometheus/llama', 'prometheus/vllm'], processors: [], exporters: ['prometheus'] },
      'metrics/cloud': { receivers: ['prometheus/llama'], processors: ['resource/vllm', 'filter'], exporters: ['otlphttp'] },
      metrics: { receivers: ['prometheus/vllm'], processors: [], exporters: ['prometheus'] },
    });
    assert.equal((config.receivers['prometheus/llama'] as { scrape_interval: number }).scrape_interval, 5000);
    assert.deepEqual(config.processors, { filter: { include: [] }, 'resource/vllm': { attributes: { backend: 'vllm' } } });
    assert.deepEqual(config.extensions, { health_check: { endpoint: '127.0.0.1:13133' } });
    assert.deepEqual(config.service.extensions, ['health_check']);
    assert.equal(config.service.telemetry.logs.level, 'debug');
  });

  it('warns about components no pipeline uses, at their id', () => {
    const { warnings } = load(`${MINIMAL}
processors:
  filter/unused:
extensions:
  health_check:
`);
    assert.deepEqual(warnings, [
      { file: 'otel-config.yaml', line: 15, column: 3, path: 'processors.filter/unused', message: 'defined but not used in any pipeline' },
      { file: 'otel-config.yaml', line: 17, column: 3, path: 'extensions.health_check', message: 'defined but not enabled in service.extensions' },
    ]);
  });

  it('reads files from disk', () => {
    const file = fixturePath('config', 'base.yaml');
    const { config, files } = loadConfig([file], fakeRegistry, {});
    assert.deepEqual(files, [file]);
    assert.deepEqual(Object.keys(config.receivers), ['prometheus/llama']);
  });

  it('reports a missing file by name', () => {
    assert.throws(
      () => loadConfig(['does-not-exist.yaml'], fakeRegistry, {}),
      (e: unknown) => e instanceof ConfigError && e.message === 'does-not-exist.yaml: file not found',
    );
  });
});

describe('loadConfig: YAML errors', () => {
  it('gives line and column of a syntax error', () => {
    const issues = issuesOf('receivers:\n  prometheus:\n    targets: [{ url: x }\nexporters: {}\n');
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.file, 'otel-config.yaml');
    assert.equal(issues[0]!.line, 4);
    assert.equal(issues[0]!.column, 1);
    assert.match(issues[0]!.message, /^YAML syntax error: /);
  });

  it('rejects duplicate keys at the second occurrence, naming the key', () => {
    const issues = issuesOf('receivers:\n  prometheus: {}\n  prometheus: {}\n');
    assert.deepEqual(issues, [{ file: 'otel-config.yaml', line: 3, column: 3, path: '', message: 'duplicate key "prometheus"' }]);
    const nested = issuesOf('receivers:\n  prometheus:\n    scrape_interval: 5s\n    "scrape_interval": 10s\n');
    assert.deepEqual(nested, [{ file: 'otel-config.yaml', line: 4, column: 5, path: '', message: 'duplicate key "scrape_interval"' }]);
  });

  it('formats the error message as file:line:column: path: message', () => {
    assert.throws(
      () => load(MINIMAL.replace('prometheus:\n    targets', 'prometheus:\n    scrape_interval: 5x\n    targets')),
      { name: 'ConfigError', message: 'otel-config.yaml:4:22: receivers.prometheus.scrape_interval: invalid duration "5x" (expected e.g. 500ms, 5s, 1m, 1h30m)' },
    );
  });
});

describe('loadConfig: validation', () => {
  it('rejects an unknown top-level key with a suggestion', () => {
    const issues = issuesOf(`${MINIMAL}recievers: {}\n`);
    assert.deepEqual(issues, [
      {
        file: 'otel-config.yaml',
        line: 13,
        column: 1,
        path: 'recievers',
        message: 'unknown top-level key "recievers" (did you mean "receivers"?); allowed: receivers, processors, exporters, extensions, service',
      },
    ]);
  });

  it('rejects an unknown key in a component body at the position of that key', () => {
    const issues = issuesOf(MINIMAL.replace('    targets', '    scrape_intervall: 5s\n    targets'));
    assert.deepEqual(issues, [
      {
        file: 'otel-config.yaml',
        line: 4,
        column: 5,
        path: 'receivers.prometheus.scrape_intervall',
        message: 'unknown key "scrape_intervall" (did you mean "scrape_interval"?)',
      },
    ]);
  });

  it('rejects a value of the wrong type at the value', () => {
    const issues = issuesOf(MINIMAL.replace('exporters:\n  prometheus:\n', 'exporters:\n  prometheus:\n    enabled: maybe\n'));
    assert.deepEqual(issues, [
      { file: 'otel-config.yaml', line: 7, column: 14, path: 'exporters.prometheus.enabled', message: 'expected boolean, received string "maybe"' },
    ]);
  });

  it('reports a missing required key at its parent', () => {
    const issues = issuesOf(MINIMAL.replace('[{ url: http://127.0.0.1:8080/metrics }]', '[{ labels: {} }]'));
    assert.deepEqual(issues, [
      { file: 'otel-config.yaml', line: 4, column: 15, path: 'receivers.prometheus.targets[0].url', message: 'required key missing (expected string)' },
    ]);
  });

  it('rejects an invalid duration with the full dotted path', () => {
    const issues = issuesOf(MINIMAL.replace('prometheus:\n    targets', 'prometheus/llama:\n    scrape_interval: 5x\n    targets').replace('receivers: [prometheus]', 'receivers: [prometheus/llama]'));
    assert.equal(issues.length, 1);
    assert.deepEqual(
      { ...issues[0], message: undefined },
      { file: 'otel-config.yaml', line: 4, column: 22, path: 'receivers.prometheus/llama.scrape_interval', message: undefined },
    );
    assert.match(issues[0]!.message, /^invalid duration "5x"/);
  });

  it('rejects an unknown component type and lists the known ones', () => {
    const issues = issuesOf(`${MINIMAL.replace('exporters:\n  prometheus:', 'exporters:\n  prometheus:\n  otlp:')}`);
    assert.deepEqual(issues, [
      {
        file: 'otel-config.yaml',
        line: 7,
        column: 3,
        path: 'exporters.otlp',
        message: 'unknown exporter type "otlp"; known types: otlphttp, prometheus',
      },
    ]);
  });

  it('rejects a malformed component id', () => {
    const issues = issuesOf(MINIMAL.replace('exporters:\n  prometheus:', 'exporters:\n  prometheus:\n  prometheus/:'));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, 'exporters.prometheus/');
    assert.equal(issues[0]!.message, 'invalid component id "prometheus/": expected "type" or "type/name"');
  });

  it('rejects a pipeline that references an undefined component, at the list item', () => {
    const issues = issuesOf(MINIMAL.replace('exporters: [prometheus]', 'exporters: [prometheus, otlphttp/cloud]'));
    assert.deepEqual(issues, [
      {
        file: 'otel-config.yaml',
        line: 12,
        column: 31,
        path: 'service.pipelines.metrics.exporters[1]',
        message: 'references "otlphttp/cloud", which is not defined under exporters',
      },
    ]);
  });

  it('rejects pipeline names other than metrics[/name]', () => {
    const issues = issuesOf(`${MINIMAL}    traces:\n      receivers: [prometheus]\n      exporters: [prometheus]\n`);
    assert.deepEqual(issues, [
      {
        file: 'otel-config.yaml',
        line: 13,
        column: 5,
        path: 'service.pipelines.traces',
        message: 'invalid pipeline name "traces": only metrics pipelines exist, named "metrics" or "metrics/<name>"',
      },
    ]);
  });

  it('rejects unknown pipeline keys, empty receiver lists and unknown service keys', () => {
    const issues = issuesOf(`
receivers:
  prometheus:
    targets: [{ url: x }]
exporters:
  prometheus:
service:
  extension: []
  pipelines:
    metrics/a:
      receivers: []
      exporter: [prometheus]
`);
    assert.deepEqual(
      issues.map((i) => [i.line, i.column, i.path, i.message]),
      [
        [8, 3, 'service.extension', 'unknown key "extension" (did you mean "extensions"?); allowed in service: extensions, telemetry, pipelines'],
        [11, 18, 'service.pipelines.metrics/a.receivers', 'at least one of receivers is required'],
        [12, 7, 'service.pipelines.metrics/a.exporter', 'unknown key "exporter" (did you mean "exporters"?); allowed in service.pipelines.metrics/a: receivers, processors, exporters'],
        [10, 5, 'service.pipelines.metrics/a.exporters', 'at least one of exporters is required'],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
  });

  it('requires at least one pipeline and checks service.extensions', () => {
    const issues = issuesOf('service:\n  extensions: [health_check]\n');
    assert.deepEqual(
      issues.map((i) => [i.line, i.column, i.path, i.message]),
      [
        [1, 1, 'service.pipelines', 'at least one pipeline is required'],
        [2, 16, 'service.extensions[0]', 'references "health_check", which is not defined under extensions'],
      ],
    );
  });

  it('rejects a bad log level with the allowed values', () => {
    const issues = issuesOf(`${MINIMAL}  telemetry: { logs: { level: verbose } }\n`);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, 'service.telemetry.logs.level');
    assert.equal(issues[0]!.line, 13);
    assert.equal(issues[0]!.column, 31);
    assert.equal(issues[0]!.message, 'must be one of: debug, info, warn, error');
  });

  it('reports every issue at once, sorted by position', () => {
    const issues = issuesOf(`
receivers:
  prometheus:
    targets: [{ url: x }]
    scrape_interval: soon
exporters:
  prometheus:
    enabled: 1
processors:
  filtr:
service:
  pipelines:
    metrics:
      receivers: [prometheus]
      exporters: [prometheus, nope]
`);
    assert.deepEqual(
      issues.map((i) => `${i.line}:${i.column} ${i.path}`),
      [
        '5:22 receivers.prometheus.scrape_interval',
        '8:14 exporters.prometheus.enabled',
        '10:3 processors.filtr',
        '15:31 service.pipelines.metrics.exporters[1]',
      ],
    );
    assert.equal(issues[2]!.message, 'unknown processor type "filtr" (did you mean "filter"?); known types: filter, resource');
  });
});

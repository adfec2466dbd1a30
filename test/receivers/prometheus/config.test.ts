import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatIssue } from '../../../src/config/errors.js';
import { loadConfigFromText, type LoadedConfig } from '../../../src/config/load.js';
import { prometheusReceiverConfigSchema } from '../../../src/receivers/prometheus/config.js';
import { registry } from '../../../src/registry.js';

/** A config with one prometheus receiver whose body lines are `receiverBody`. */
function load(receiverBody: string, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const text = `receivers:
  prometheus:
${receiverBody}
exporters:
  prometheus:
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`;
  return loadConfigFromText([{ name: 'r.yaml', text }], registry, env);
}

/** The formatted issues of the ConfigError that loading throws. */
function errorsOf(receiverBody: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    load(receiverBody, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.issues.map(formatIssue);
  }
  assert.fail('expected the config to be rejected');
}

describe('prometheus receiver config: targets', () => {
  it('rejects a target URL the receiver could not scrape, at the url', () => {
    assert.deepEqual(errorsOf('    targets: [{ url: "ftp://x" }]'), [
      'r.yaml:3:22: receivers.prometheus.targets[0].url: target url "ftp://x/" must be http:// or https://',
    ]);
    assert.deepEqual(errorsOf('    targets:\n      - url: not a url'), [
      'r.yaml:4:14: receivers.prometheus.targets[0].url: target url "not a url" is not a valid URL',
    ]);
    assert.deepEqual(errorsOf('    targets:\n      - url: http://127.0.0.1:0/metrics'), [
      'r.yaml:4:14: receivers.prometheus.targets[0].url: target http://127.0.0.1:0/metrics has port 0 and no unix_socket',
    ]);
  });

  it('accepts port 0 with a unix_socket, and a socket alone', () => {
    const { config } = load('    targets:\n      - { url: "http://localhost:0", unix_socket: /run/m.sock }\n      - { unix_socket: /run/n.sock }');
    assert.equal((config.receivers.prometheus as { targets: unknown[] }).targets.length, 2);
  });

  it('requires url or unix_socket', () => {
    const result = prometheusReceiverConfigSchema.safeParse({ targets: [{ attributes: { model: 'x' } }] });
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /a target needs `url` or `unix_socket`/);
  });

  it('keeps credentials and the query string of a bad URL out of the message', () => {
    const [message] = errorsOf('    targets: [{ url: "ftp://user:pw1@x/m?token=qs1" }]');
    assert.ok(!message!.includes('pw1') && !message!.includes('qs1'), message);
  });
});

describe('prometheus receiver config: durations', () => {
  it('needs a unit, also for a value from the environment', () => {
    assert.deepEqual(errorsOf('    scrape_interval: ${env:LLAMACPP_SCRAPE_INTERVAL}\n    targets: [{ url: http://127.0.0.1:8080 }]', { LLAMACPP_SCRAPE_INTERVAL: '5' }), [
      'r.yaml:3:22: receivers.prometheus.scrape_interval: duration 5 has no unit: add a unit, e.g. 5s',
    ]);
    const { config } = load('    scrape_interval: ${env:LLAMACPP_SCRAPE_INTERVAL}\n    targets: [{ url: http://127.0.0.1:8080 }]', { LLAMACPP_SCRAPE_INTERVAL: '5s' });
    assert.equal((config.receivers.prometheus as { scrape_interval: number }).scrape_interval, 5000);
  });

  it('rejects a zero scrape_interval or scrape_timeout', () => {
    assert.deepEqual(errorsOf('    scrape_interval: 0\n    scrape_timeout: 0s\n    targets: [{ url: http://127.0.0.1:8080 }]'), [
      'r.yaml:3:22: receivers.prometheus.scrape_interval: must be greater than 0 (e.g. 5s)',
      'r.yaml:4:21: receivers.prometheus.scrape_timeout: must be greater than 0 (e.g. 5s)',
    ]);
  });

  it('keeps the defaults', () => {
    const c = prometheusReceiverConfigSchema.parse({ targets: [{ url: 'http://127.0.0.1:8080' }] });
    assert.equal(c.scrape_interval, 15_000);
    assert.equal(c.scrape_timeout, 10_000);
  });
});

describe('prometheus receiver config: headers', () => {
  it('takes a header value from the environment as written, digits or not', () => {
    const env = { TOKEN: '0123', ORG: '42', FLAG: 'true' };
    const { config } = load(
      [
        '    headers:',
        '      Authorization: Bearer ${env:TOKEN}',
        '      X-Token: ${env:TOKEN}',
        '      X-Scope-OrgID: ${env:ORG}',
        '      X-Flag: ${env:FLAG}',
        '    targets: [{ url: http://127.0.0.1:8080 }]',
      ].join('\n'),
      env,
    );
    assert.deepEqual((config.receivers.prometheus as { headers: unknown }).headers, {
      Authorization: 'Bearer 0123',
      'X-Token': '0123',
      'X-Scope-OrgID': '42',
      'X-Flag': 'true',
    });
  });
});

it('two targets with the same instance and attributes are a config error', () => {
  const r = prometheusReceiverConfigSchema.safeParse({
    targets: [{ url: 'http://127.0.0.1:8080/a' }, { url: 'http://127.0.0.1:8080/b' }],
  });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error!.issues), /targets\[0\] and targets\[1\] are both 127\.0\.0\.1:8080/);
  const distinct = prometheusReceiverConfigSchema.safeParse({
    targets: [
      { url: 'http://127.0.0.1:8080/a', attributes: { mode: 'completion' } },
      { url: 'http://127.0.0.1:8080/b', attributes: { mode: 'embedding' } },
    ],
  });
  assert.equal(distinct.success, true);
});

describe('prometheus receiver config: discovery', () => {
  it('needs targets or a discovery section', () => {
    assert.deepEqual(errorsOf('    scrape_interval: 5s'), ['r.yaml:2:3: receivers.prometheus.targets: no targets: set targets, file_sd_configs, socket_sd_configs or llamacpp_router_sd_configs']);
  });

  it('rejects a file_sd path Prometheus would not read, at the path', () => {
    assert.deepEqual(errorsOf('    file_sd_configs:\n      - files: [/etc/sd/*/x.json]'), [
      'r.yaml:4:17: receivers.prometheus.file_sd_configs[0].files[0]: "/etc/sd/*/x.json": wildcards are allowed only in the last path segment',
    ]);
    assert.deepEqual(errorsOf('    file_sd_configs:\n      - files:\n          - /etc/sd/targets.txt'), [
      'r.yaml:5:13: receivers.prometheus.file_sd_configs[0].files[0]: "/etc/sd/targets.txt" must end in .json, .yml or .yaml (or a pattern such as *.json)',
    ]);
    assert.deepEqual(errorsOf('    file_sd_configs:\n      - files: [/etc/sd/*.yaml]\n        refresh_interval: 5'), [
      'r.yaml:5:27: receivers.prometheus.file_sd_configs[0].refresh_interval: duration 5 has no unit: add a unit, e.g. 5s',
    ]);
  });

  it('accepts file_sd alone, with Prometheus defaults', () => {
    const { config } = load('    file_sd_configs:\n      - files: [/etc/sd/*.json]');
    const body = config.receivers.prometheus as { targets: unknown[]; file_sd_configs: Array<{ refresh_interval: number }> };
    assert.deepEqual(body.targets, []);
    assert.equal(body.file_sd_configs[0]!.refresh_interval, 300_000);
  });
});

describe('prometheus receiver config: socket_sd_configs', () => {
  it('rejects a relative or multi-level glob, at the path', () => {
    assert.deepEqual(errorsOf('    socket_sd_configs:\n      - paths: [run/*.sock]'), [
      'r.yaml:4:17: receivers.prometheus.socket_sd_configs[0].paths[0]: "run/*.sock" must be an absolute path',
    ]);
    assert.deepEqual(errorsOf('    socket_sd_configs:\n      - paths: [/run/*/m.sock]\n        metrics_pat: /m'), [
      'r.yaml:4:17: receivers.prometheus.socket_sd_configs[0].paths[0]: "/run/*/m.sock": wildcards are allowed only in the last path segment',
      'r.yaml:5:9: receivers.prometheus.socket_sd_configs[0].metrics_pat: unknown key "metrics_pat" (did you mean "metrics_path"?)',
    ]);
  });

  it('accepts a socket glob alone, listed every 5s by default', () => {
    const { config } = load('    socket_sd_configs:\n      - paths: [/run/runners/*.sock]');
    const body = config.receivers.prometheus as { socket_sd_configs: Array<{ refresh_interval: number; attributes: object }> };
    assert.equal(body.socket_sd_configs[0]!.refresh_interval, 5_000);
    assert.deepEqual(body.socket_sd_configs[0]!.attributes, {});
  });
});

/** Config messages a newcomer understands: plain words, a hint for the usual mistakes, each at its line. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatIssue } from '../../src/config/errors.js';
import { loadConfigFromText } from '../../src/config/load.js';
import { registry } from '../../src/registry.js';

function load(text: string, env: NodeJS.ProcessEnv = {}) {
  return loadConfigFromText([{ name: 'c.yaml', text }], registry, env);
}

/** The formatted errors of loading `text`. */
function errorsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    load(text, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map(formatIssue);
  }
  assert.fail('expected the config to be rejected');
}

const PIPELINE = `
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
exporters:
  prometheus:
`;

const receiver = (body: string) => `receivers:\n  prometheus:\n${body}${PIPELINE}`;

describe('config messages', () => {
  it('a ${env:…} unquoted in a flow map gets a hint to quote it, at its line', () => {
    const errors = errorsOf(receiver(`    targets:\n      - url: http://127.0.0.1:8080\n        attributes: { model: \${env:M} }\n`));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^c\.yaml:5:\d+: YAML syntax error: .*must be quoted: write "\$\{env:M\}"$/);
  });

  it('a ${env:…} unquoted in a flow list gets the same hint', () => {
    const errors = errorsOf(`exporters:\n  otlphttp:\n    resource_to_attributes: [ \${env:A} ]\n`);
    assert.match(errors[0]!, /must be quoted: write "\$\{env:A\}"/);
  });

  it('the quoted form loads', () => {
    const { config } = load(receiver(`    targets:\n      - url: http://127.0.0.1:8080\n        attributes: { model: "\${env:M}" }\n`), { M: 'tiny' });
    assert.deepEqual((config.receivers['prometheus'] as { targets: { attributes: object }[] }).targets[0]!.attributes, { model: 'tiny' });
  });

  for (const url of ['localhost:8080/metrics', '127.0.0.1:8080', 'llama-server']) {
    it(`a target URL without a scheme (${url}) says to add http://`, () => {
      const errors = errorsOf(receiver(`    targets: [{ url: "${url}" }]\n`));
      assert.deepEqual(errors, [`c.yaml:3:22: receivers.prometheus.targets[0].url: target url "${url}" has no scheme: add http:// (or https://) in front, e.g. http://${url}`]);
    });
  }

  it('an OTLP endpoint without a scheme says to add http://, without repeating a query value', () => {
    const errors = errorsOf(`exporters:\n  otlphttp:\n    endpoint: otlp.example.com:4318/otlp?api_key=k3y-v4lue\n`).filter((e) => e.includes('endpoint'));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /exporters\.otlphttp\.endpoint: endpoint has no scheme: add http:\/\/ \(or https:\/\/\) in front, e\.g\. http:\/\/otlp\.example\.com:4318\/otlp\?api_key=\[REDACTED\]$/);
  });

  it('replaces zod wording with plain words for every issue code our schemas raise', () => {
    const errors = errorsOf(`receivers:
  prometheus:
    sample_limit: -1
    targets: []
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:4318
    compression: gzp
    sending_queue: { queue_size: 0 }
    max_request_points: 1.5
    retry_on_failure: { multiplier: 0.5 }
    auth: { basic: { username: "", password: x } }
  prometheus:
    resource_to_telemetry_conversion: { enabled: yes }
processors:
  resource:
    attributes: [{ key: "", action: insert, value: x }]
  resource/empty:
    attributes: []
extensions:
  health_check:
    path: health
`);
    const byPath = Object.fromEntries(errors.map((e) => [e.split(': ')[1], e.split(': ').slice(2).join(': ')]));
    assert.equal(byPath['receivers.prometheus.sample_limit'], 'must be 0 or more (not negative)');
    assert.equal(byPath['processors.resource/empty.attributes'], 'must list at least one item (it is empty)');
    assert.equal(byPath['receivers.prometheus.targets'], 'no targets: set targets, file_sd_configs, socket_sd_configs or llamacpp_router_sd_configs');
    assert.equal(byPath['exporters.otlphttp.compression'], 'must be one of: gzip, none (did you mean "gzip"?)');
    assert.equal(byPath['exporters.otlphttp.sending_queue.queue_size'], 'must be greater than 0');
    assert.equal(byPath['exporters.otlphttp.max_request_points'], 'expected a whole number, received number 1.5');
    assert.equal(byPath['exporters.otlphttp.retry_on_failure.multiplier'], 'must be at least 1');
    assert.equal(byPath['exporters.otlphttp.auth.basic.username'], 'must not be empty');
    assert.equal(byPath['processors.resource.attributes[0].key'], 'must not be empty');
    // A schema's own message is kept as written.
    assert.equal(byPath['extensions.health_check.path'], 'path must start with /');
    for (const e of errors) assert.doesNotMatch(e, /Too small|Too big|Invalid (input|option|string)|expected int|expected array|>=|<=/, e);
  });

  it('warns when scrape_timeout exceeds scrape_interval, at scrape_timeout', () => {
    const { warnings } = load(receiver(`    scrape_interval: 5s\n    scrape_timeout: 10s\n    targets: [{ url: http://127.0.0.1:8080 }]\n`));
    assert.deepEqual(warnings.map(formatIssue), [
      'c.yaml:4:21: receivers.prometheus.scrape_timeout: scrape_timeout (10s) is longer than scrape_interval (5s): a scrape is given up after 5s; lower scrape_timeout or raise scrape_interval',
    ]);
  });

  it('does not warn when scrape_timeout is the default, or not longer than the interval', () => {
    assert.deepEqual(load(receiver(`    scrape_interval: 1s\n    targets: [{ url: http://127.0.0.1:8080 }]\n`)).warnings, []);
    assert.deepEqual(load(receiver(`    scrape_interval: 5s\n    scrape_timeout: 5s\n    targets: [{ url: http://127.0.0.1:8080 }]\n`)).warnings, []);
  });

  it('a header value with a CR/LF or a control character is a config error at its line, never quoted', () => {
    const errors = errorsOf(`receivers:
  prometheus:
    targets: [{ url: http://127.0.0.1:8080 }]
    headers:
      Authorization: "Bearer l34ked-t0ken\\r\\nX-Injected: 1"
      X-Tenant: "t\\u0007"
      "bad name": x
${PIPELINE}`);
    assert.deepEqual(
      errors.map((e) => e.replace(/(: header value contains [^,:]+).*/, '$1')),
      [
        'c.yaml:5:22: receivers.prometheus.headers.Authorization: header value contains a line break (CR or LF)',
        'c.yaml:6:17: receivers.prometheus.headers.X-Tenant: header value contains a control character or a character above U+00FF',
        "c.yaml:7:7: receivers.prometheus.headers.bad name: not a valid HTTP header name: use letters, digits and !#$%&'*+-.^_`|~ only",
      ],
    );
    assert.doesNotMatch(errors.join('\n'), /l34ked/);
  });
});

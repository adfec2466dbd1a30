import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatIssue } from '../../src/config/errors.js';
import { loadConfigFromText } from '../../src/config/load.js';
import { isSecretPath } from '../../src/config/redact.js';
import { fakeRegistry } from './fake-registry.js';

/** The formatted issues of the ConfigError that loading `text` throws. */
function errorsOf(text: string, env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfigFromText([{ name: 's.yaml', text }], fakeRegistry, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.issues.map(formatIssue);
  }
  assert.fail('expected the config to be rejected');
}

const PIPELINE = `service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [otlphttp] }
`;

describe('isSecretPath', () => {
  it('follows the factory secret keys, over lists and into their children', () => {
    assert.equal(isSecretPath(['auth', 'basic', 'password'], ['auth.basic.password']), true);
    assert.equal(isSecretPath(['auth', 'basic', 'username'], ['auth.basic.password']), false);
    assert.equal(isSecretPath(['headers', 'X-Scope-OrgID'], ['headers']), true);
    assert.equal(isSecretPath(['targets', 0, 'secret_url'], []), true);
    assert.equal(isSecretPath(['targets', 0, 'auth', 'x'], ['targets.auth']), true);
    assert.equal(isSecretPath(['targets', 0, 'url'], ['targets.auth']), false);
  });

  it('applies the redaction rules for keys and headers', () => {
    assert.equal(isSecretPath(['api_key']), true);
    assert.equal(isSecretPath(['token_file']), false);
    assert.equal(isSecretPath(['max_tokens']), false);
    assert.equal(isSecretPath(['headers', 'Authorization']), true);
    assert.equal(isSecretPath(['headers', 'X-Scope-OrgID']), false);
    assert.equal(isSecretPath(['endpoint']), false);
  });
});

describe('config errors on secrets', () => {
  it('say what kind of value was found, never the value', () => {
    const errors = errorsOf(
      `receivers:
  prometheus:
    targets: [{ url: "http://127.0.0.1:8080" }]
    auth:
      basic:
        username: admin
        password: \${env:SCRAPE_PASSWORD}
exporters:
  otlphttp:
    endpoint: https://otlp.example.com/otlp
    headers:
      Authorization: \${env:TOKEN}
      X-Scope-OrgID: 42
    auth: { instance_id: "1", pass: true }
${PIPELINE}`,
      { SCRAPE_PASSWORD: '918273', TOKEN: '5550123' },
    );
    assert.deepEqual(errors, [
      's.yaml:7:19: receivers.prometheus.auth.basic.password: expected string, received number',
      's.yaml:12:22: exporters.otlphttp.headers.Authorization: expected string, received number',
      's.yaml:13:22: exporters.otlphttp.headers.X-Scope-OrgID: expected string, received number 42',
      's.yaml:14:37: exporters.otlphttp.auth.pass: expected string, received boolean',
    ]);
  });

  it('hide the password of a URL found where something else was expected', () => {
    const errors = errorsOf(
      `receivers:
  prometheus:
    targets: [{ url: "http://127.0.0.1:8080" }]
exporters:
  otlphttp:
    endpoint: https://otlp.example.com/otlp
  prometheus:
    max_series: "http://user:pw-in-url@host/"
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [otlphttp, prometheus] }
`,
      {},
    );
    assert.equal(errors.length, 1);
    assert.ok(!errors[0]!.includes('pw-in-url'), errors[0]);
  });
});

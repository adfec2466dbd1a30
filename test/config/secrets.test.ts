import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatIssue } from '../../src/config/errors.js';
import { loadConfigFromText } from '../../src/config/load.js';
import { isSecretPath } from '../../src/config/redact.js';
import { fakeRegistry } from './fake-registry.js';
import { printConfig } from '../../src/config/print.js';
import { registry } from '../../src/registry.js';

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

  it('a malformed ${…} inside a secret is placed by position, without any of the value', () => {
    const errors = errorsOf(
      `receivers:
  prometheus:
    targets: [{ url: "http://127.0.0.1:8080" }]
exporters:
  otlphttp:
    endpoint: https://otlp.example.com/otlp
    auth: { basic: { username: u, password: "Tr0ub4dor\${env:rest-of-pw" } }
    headers:
      X-Api-Key: "k3y\${oops}m0re"
  prometheus:
    namespace: "ns\${env:A"
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [otlphttp, prometheus] }
`,
      {},
    );
    assert.deepEqual(errors, [
      's.yaml:7:45: exporters.otlphttp.auth.basic.password: unterminated ${ reference at character 10 of the value (write $$ for a literal $)',
      's.yaml:9:18: exporters.otlphttp.headers.X-Api-Key: unsupported reference at character 4 of the value: only ${env:VAR} is supported (write $$ for a literal $)',
      // Not a secret: the reference is quoted, to be found quickly.
      's.yaml:11:16: exporters.prometheus.namespace: unterminated reference "${env:A" (write $$ for a literal $)',
    ]);
  });

  it('a malformed ${…} in a URL with credentials is not quoted either', () => {
    const errors = errorsOf(`receivers:\n  prometheus:\n    targets: [{ url: "http://u:pw\${x@127.0.0.1:8080" }]\n${PIPELINE}`, {});
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /unterminated \$\{ reference at character 12 of the value/);
    assert.doesNotMatch(errors[0]!, /pw|127/);
  });

  it('print-config hides a URL password holding @ whole, and a secret repeated under an ordinary key', () => {
    const loaded = loadConfigFromText(
      [
        {
          name: 's.yaml',
          text: `receivers:
  prometheus:
    targets: [{ url: "http://scraper:p@ss-w0rd@127.0.0.1:8080/metrics" }]
exporters:
  otlphttp:
    endpoint: https://otlp.example.com/otlp
    auth: { basic: { username: u, password: "R3peated-Secret" } }
processors:
  resource:
    attributes: [{ key: note, value: "copy of R3peated-Secret", action: insert }]
${PIPELINE}`,
        },
      ],
      registry,
      {},
    );
    const out = printConfig(loaded, registry);
    assert.match(out, /url: http:\/\/scraper:\[REDACTED\]@127\.0\.0\.1:8080\/metrics/);
    assert.doesNotMatch(out, /p@ss|ss-w0rd|R3peated/, out);
  });
});

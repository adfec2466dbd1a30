/** The secret scrubber: registered values in every form they are echoed in, and credential shapes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, redactUrl } from '../../src/telemetry/logger.js';
import { redactUrlText, registerSecrets, scrubSecrets, secretsOfHeaderValue, secretsOfUrl } from '../../src/telemetry/secrets.js';
import { secretValuesOf } from '../../src/config/secret-values.js';
import { registry } from '../../src/registry.js';

describe('scrubSecrets', () => {
  it('hides a registered value as is, JSON-escaped and percent-encoded', () => {
    const secret = 'Zq"8\\p@ss w0rd';
    registerSecrets([secret]);
    const text = `raw ${secret} json ${JSON.stringify(secret)} url ${encodeURIComponent(secret)} form ${new URLSearchParams({ v: secret }).toString()}`;
    const out = scrubSecrets(text);
    assert.doesNotMatch(out, /Zq|p@ss|p%40ss|w0rd/, out);
    assert.match(out, /^raw \[REDACTED\] json "\[REDACTED\]" url \[REDACTED\] form v=\[REDACTED\]$/);
  });

  it('replaces the longer of two overlapping secrets whole', () => {
    registerSecrets(['abcd1234', 'abcd1234efgh']);
    assert.equal(scrubSecrets('x abcd1234efgh y'), 'x [REDACTED] y');
  });

  it('ignores values too short to tell from ordinary words', () => {
    registerSecrets(['on', '42', 'yes']);
    assert.equal(scrubSecrets('turned on 42 times, yes'), 'turned on 42 times, yes');
  });

  it('hides credential shapes it was never told about', () => {
    const cases: [string, string][] = [
      ['GET http://user:p@ss@host:9/x?api_key=abc123&v=2 failed', 'GET http://user:[REDACTED]@host:9/x?api_key=[REDACTED]&v=[REDACTED] failed'],
      ['POST /v1/metrics?api_key=XYZ123 HTTP/1.1', 'POST /v1/metrics?api_key=[REDACTED] HTTP/1.1'],
      ['bad request: Authorization: Basic dXNlcjpwYXNz', 'bad request: Authorization: Basic [REDACTED]'],
      ['map[Authorization:[Bearer eyJhbGc.x1] X-Org:[7]]', 'map[Authorization:[Bearer [REDACTED]] X-Org:[7]]'],
      ['{"password":"hunter2","token": "t0k"}', '{"password":"[REDACTED]","token": "[REDACTED]"}'],
      ['echo: \\"api_key=v4lue\\"', 'echo: \\"api_key=[REDACTED]\\"'],
      ['https://glc_t0ken@host/otlp', 'https://[REDACTED]@host/otlp'],
    ];
    for (const [text, expected] of cases) assert.equal(scrubSecrets(text), expected, text);
  });

  it('leaves ordinary text alone', () => {
    for (const text of [
      'Basic authentication required. unauthorized: bad token',
      'prompt_tokens_total{model="tiny"} 5',
      'target is down: connect ECONNREFUSED 127.0.0.1:8080',
      'max_tokens: 128, token_count: 5',
      'expected string, received number 42',
      'c.yaml:7:45: exporters.otlphttp.auth.basic.password: must not be empty',
      'c.yaml:5:22: receivers.prometheus.headers.Authorization: header value contains a line break',
    ]) {
      assert.equal(scrubSecrets(text), text);
    }
  });
});

describe('URLs', () => {
  it('a password holding @ is hidden whole, in a URL that parses or not', () => {
    assert.equal(redactUrlText('http://user:p@ss@host:8080/m?k=v#f'), 'http://user:[REDACTED]@host:8080/m?k=[REDACTED]#f');
    assert.equal(redactUrlText('http://user:pa/ss#x@host:99999/m'), 'http://user:[REDACTED]@host:99999/m');
    assert.equal(redactUrlText('http://host/a@b'), 'http://host/a@b');
    assert.doesNotMatch(redactUrl('http://user:pa/ss@host:99999/m?k=v'), /pa\/ss|k=v/);
    assert.doesNotMatch(redactUrl('http://user:p@ss@host/m'), /p@ss|ss@/);
  });

  it('finds the password, the query values and the Basic token a URL stands for', () => {
    const found = secretsOfUrl('http://user:pa/ss#x@host:99999/m?api_key=k%2By&x=a+9b');
    for (const v of ['pa/ss#x', Buffer.from('user:pa/ss#x').toString('base64'), 'k%2By', 'k+y', 'a 9b']) assert.ok(found.includes(v), v);
    assert.deepEqual(secretsOfUrl('http://host/a@b'), []);
    // A word under an ordinary name is not hidden from every line (it would hide component names).
    assert.deepEqual(secretsOfUrl('http://host/m?format=prometheus&v=2'), []);
    assert.deepEqual(secretsOfUrl('http://host/m?sig=prometheus&q=a9f3'), ['prometheus', 'prometheus', 'a9f3', 'a9f3']);
  });

  it('finds the token and the Basic password in a header value', () => {
    const token = Buffer.from('id:pw-1234').toString('base64');
    assert.deepEqual(secretsOfHeaderValue(`Basic ${token}`), [`Basic ${token}`, token, 'id:pw-1234', 'pw-1234']);
    assert.deepEqual(secretsOfHeaderValue('Bearer abc.def'), ['Bearer abc.def', 'abc.def']);
  });
});

describe('secrets of a config', () => {
  it('collects passwords, every header value, URL secrets and Basic credentials; not ordinary values', () => {
    const values = secretValuesOf(
      {
        receivers: {
          'prometheus/a': {
            headers: { 'X-Scope-OrgID': 'tenant-7' },
            targets: [{ url: 'http://scraper:scr4pe@127.0.0.1:8080/metrics?token=q7', attributes: { model: 'tiny-llama' } }],
          },
        },
        exporters: { otlphttp: { endpoint: 'https://otlp.example.com', auth: { basic: { username: 123456, password: 'glc_pw' } } } },
      },
      registry,
    );
    for (const v of ['tenant-7', 'scr4pe', 'q7', Buffer.from('scraper:scr4pe').toString('base64'), 'glc_pw', Buffer.from('123456:glc_pw').toString('base64')]) {
      assert.ok(values.includes(v), v);
    }
    for (const v of ['tiny-llama', 'https://otlp.example.com', '123456']) assert.ok(!values.includes(v), v);
  });
});

describe('logger', () => {
  it('scrubs every line before it is written', () => {
    registerSecrets(['l0gged-s3cret']);
    const lines: string[] = [];
    const log = createLogger('debug', (l) => lines.push(l));
    log.warn('push failed', { cause: 'HTTP 400: bad key l0gged-s3cret', error: new Error('GET http://u:pw@h/x?api_key=zz') });
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0]!, /l0gged|pw@|zz/);
    assert.equal(JSON.parse(lines[0]!).cause, 'HTTP 400: bad key [REDACTED]');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigFromText } from '../../../src/config/load.js';
import type { OtlpHttpExporterConfig } from '../../../src/exporters/otlphttp/config.js';
import { otlpHttpExporterFactory } from '../../../src/exporters/otlphttp/index.js';
import { registry } from '../../../src/registry.js';

const parse = (body: Record<string, unknown>) => otlpHttpExporterFactory.configSchema.safeParse({ endpoint: 'http://a', ...body });

/** `path: message` of each issue. */
const issuesOf = (body: Record<string, unknown>) => parse(body).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

describe('otlphttp config: durations', () => {
  it('rejects intervals and timeouts of 0', () => {
    assert.deepEqual(issuesOf({ timeout: 0, export_interval: '0s', retry_on_failure: { initial_interval: 0, max_interval: '0ms' } }).sort(), [
      'export_interval: must be greater than 0 (e.g. 5s)',
      'retry_on_failure.initial_interval: must be greater than 0 (e.g. 5s)',
      'retry_on_failure.max_interval: must be greater than 0 (e.g. 5s)',
      'timeout: must be greater than 0 (e.g. 5s)',
    ]);
  });

  it('keeps max_elapsed_time 0 meaning "retry forever"', () => {
    const c = parse({ retry_on_failure: { max_elapsed_time: 0 } });
    assert.equal(c.data?.retry_on_failure.max_elapsed_time, 0);
  });

  it('needs a unit on any other number', () => {
    assert.deepEqual(issuesOf({ export_interval: 15, shutdown_timeout: 10 }), [
      'export_interval: duration 15 has no unit: add a unit, e.g. 5s',
      'shutdown_timeout: duration 10 has no unit: add a unit, e.g. 5s',
    ]);
  });
});

describe('otlphttp config: credentials', () => {
  it('takes a numeric or boolean password and header value as its text', () => {
    const c = parse({ auth: { basic: { username: 123456, password: 918273 } }, headers: { 'X-Scope-OrgID': 42, 'X-Flag': true } });
    assert.deepEqual(c.data?.auth?.basic, { username: '123456', password: '918273' });
    assert.deepEqual(c.data?.headers, { 'X-Scope-OrgID': '42', 'X-Flag': 'true' });
  });

  it('keeps a token from the environment exactly as set', () => {
    for (const token of ['0123', '1e3', 'true', '5550123', '1.10']) {
      const text = `receivers:
  prometheus:
    targets: [{ url: http://127.0.0.1:8080 }]
exporters:
  otlphttp:
    endpoint: https://otlp.example.com/otlp
    auth:
      basic:
        username: \${env:USER}
        password: \${env:TOKEN}
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [otlphttp] }
`;
      const { config } = loadConfigFromText([{ name: 'o.yaml', text }], registry, { USER: '123456', TOKEN: token });
      assert.deepEqual((config.exporters.otlphttp as OtlpHttpExporterConfig).auth?.basic, { username: '123456', password: token }, token);
    }
  });
});

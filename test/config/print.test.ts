import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfigFromText } from '../../src/config/load.js';
import { printConfig } from '../../src/config/print.js';
import { registry } from '../../src/registry.js';
import { fakeRegistry } from './fake-registry.js';

const SECRETS = ['hunter2', 's3cr3t-pass', 'glc_tokenvalue', 'k-123', 'pw-in-url', 'cookie-value', 'xyz-bearer', 'qsecret3', 'qs2', 'qs-other'];

const CONFIG = `receivers:
  prometheus:
    targets:
      - url: "http://user:pw-in-url@127.0.0.1:8080/metrics"
      - url: "http://admin:pw-in-url@127.0.0.1:8081/metrics?token=qsecret3&other=qs-other&flag#top"
    auth: { basic: { username: admin, password: "\${env:SCRAPE_PASSWORD}" } }
exporters:
  prometheus:
  otlphttp:
    endpoint: https://user:pw-in-url@otlp.example.com/otlp?api_key=qs2
    headers:
      Authorization: "Basic \${env:GRAFANA_TOKEN}"
      X-Api-Key: k-123
      Cookie: cookie-value
      X-Scope-OrgID: "42"
    auth: { instance_id: "123456", pass: s3cr3t-pass }
processors:
  resource:
    attributes:
      bearer: xyz-bearer
      model: "price: $$5"
service:
  pipelines:
    metrics:
      receivers: [prometheus]
      processors: [resource]
      exporters: [prometheus, otlphttp]
`;

describe('printConfig', () => {
  const loaded = loadConfigFromText([{ name: 'p.yaml', text: CONFIG }], fakeRegistry, {
    SCRAPE_PASSWORD: 'hunter2',
    GRAFANA_TOKEN: 'glc_tokenvalue',
  });
  const out = printConfig(loaded, fakeRegistry);

  it('leaves no secret anywhere in the output', () => {
    for (const secret of SECRETS) assert.equal(out.includes(secret), false, `"${secret}" leaked`);
  });

  it('prints the merged, expanded config with secrets replaced', () => {
    assert.deepEqual(parse(out), {
      receivers: {
        prometheus: {
          targets: [
            { url: 'http://user:[REDACTED]@127.0.0.1:8080/metrics' },
            { url: 'http://admin:[REDACTED]@127.0.0.1:8081/metrics?token=[REDACTED]&other=[REDACTED]&flag#top' },
          ],
          auth: { basic: { username: 'admin', password: '[REDACTED]' } },
        },
      },
      exporters: {
        prometheus: null,
        otlphttp: {
          endpoint: 'https://user:[REDACTED]@otlp.example.com/otlp?api_key=[REDACTED]',
          headers: { Authorization: '[REDACTED]', 'X-Api-Key': '[REDACTED]', Cookie: '[REDACTED]', 'X-Scope-OrgID': '42' },
          auth: { instance_id: '123456', pass: '[REDACTED]' },
        },
      },
      processors: { resource: { attributes: { bearer: '[REDACTED]', model: 'price: $$5' } } },
      service: {
        pipelines: { metrics: { receivers: ['prometheus'], processors: ['resource'], exporters: ['prometheus', 'otlphttp'] } },
      },
    });
  });

  it('prints something that loads back to the same config', () => {
    const again = loadConfigFromText([{ name: 'printed.yaml', text: out }], fakeRegistry, {});
    assert.equal((again.config.processors.resource as { attributes: { model: string } }).attributes.model, 'price: $5');
    assert.deepEqual(again.config.service, loaded.config.service);
  });

  it('does not change the loaded config', () => {
    assert.equal((loaded.config.exporters.otlphttp as { auth: { pass: string } }).auth.pass, 's3cr3t-pass');
  });
});

describe('printConfig with the real components', () => {
  const text = `receivers:
  prometheus:
    targets:
      - url: http://admin:pw3@127.0.0.1:8080/metrics?token=qsecret3
exporters:
  otlphttp:
    endpoint: https://user:pw2@otlp.example.com/otlp?api_key=qs2
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [otlphttp] }
`;
  const out = printConfig(loadConfigFromText([{ name: 'p.yaml', text }], registry, {}), registry);

  it('hides URL passwords and query values, keeping parameter names', () => {
    for (const secret of ['pw3', 'qsecret3', 'pw2', 'qs2']) assert.equal(out.includes(secret), false, `"${secret}" leaked`);
    assert.match(out, /\?token=\[REDACTED\]/);
    assert.match(out, /\?api_key=\[REDACTED\]/);
  });

  it('prints a config that still validates', () => {
    const again = loadConfigFromText([{ name: 'printed.yaml', text: out }], registry, {});
    assert.deepEqual(Object.keys(again.config.exporters), ['otlphttp']);
  });
});

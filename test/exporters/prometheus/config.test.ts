import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatIssue } from '../../../src/config/errors.js';
import { loadConfigFromText } from '../../../src/config/load.js';
import { prometheusExporterConfigSchema } from '../../../src/exporters/prometheus/config.js';
import { registry } from '../../../src/registry.js';
import { prometheusExporterFactory } from '../../../src/exporters/prometheus/index.js';
import { parseListenAddress } from '../../../src/net/listen-address.js';
import { acceptsGzip, negotiate, requestedNames } from '../../../src/exporters/prometheus/negotiation.js';

/** The formatted config errors of a prometheus exporter with these `const_labels`, loaded with the real components. */
function constLabelErrors(constLabels: string): string[] {
  const text = `receivers:
  prometheus:
    targets: [{ url: http://127.0.0.1:8080 }]
exporters:
  prometheus:
    const_labels: ${constLabels}
service:
  pipelines:
    metrics: { receivers: [prometheus], exporters: [prometheus] }
`;
  try {
    loadConfigFromText([{ name: 'e.yaml', text }], registry, {});
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map(formatIssue);
  }
  return [];
}

describe('prometheus exporter config', () => {
  it('fills every default from an empty body', () => {
    assert.equal(prometheusExporterFactory.type, 'prometheus');
    assert.deepEqual(prometheusExporterConfigSchema.parse(null), {
      endpoint: '127.0.0.1:9464',
      unix_socket_mode: 0o660,
      max_connections: 512,
      read_header_timeout: 5_000,
      path: '/metrics',
      resource_attributes_as_labels: ['backend', 'model', 'mode'],
      const_labels: {},
      honor_labels: false,
      metric_expiration: 300_000,
      include_own_metrics: true,
    });
  });

  it('reads unix_socket_mode as octal, quoted or as YAML reads an unquoted 0660', () => {
    for (const mode of ['0660', '660', '0o660', 660]) {
      assert.equal(prometheusExporterConfigSchema.parse({ unix_socket_mode: mode }).unix_socket_mode, 0o660, String(mode));
    }
    assert.equal(prometheusExporterConfigSchema.parse({ unix_socket_mode: '0600' }).unix_socket_mode, 0o600);
    for (const bad of ['0680', 'rw-rw----', '107777']) {
      assert.equal(prometheusExporterConfigSchema.safeParse({ unix_socket_mode: bad }).success, false, bad);
    }
  });

  it('parses durations and stringifies const label values', () => {
    const c = prometheusExporterConfigSchema.parse({ metric_expiration: '90s', const_labels: { replica: 2, canary: true } });
    assert.equal(c.metric_expiration, 90_000);
    assert.deepEqual(c.const_labels, { replica: '2', canary: 'true' });
  });

  it('keeps metric_expiration 0 meaning "never" and needs a unit otherwise', () => {
    assert.equal(prometheusExporterConfigSchema.parse({ metric_expiration: 0 }).metric_expiration, 0);
    const result = prometheusExporterConfigSchema.safeParse({ metric_expiration: 300 });
    assert.equal(result.error?.issues[0]?.message, 'duration 300 has no unit: add a unit, e.g. 5s');
  });

  it('rejects label names that clash with bucket and quantile labels or are reserved', () => {
    const messages = (body: object) => prometheusExporterConfigSchema.safeParse(body).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.deepEqual(constLabelErrors('{ le: x, quantile: y, __name__: z, level: ok }'), [
      'e.yaml:6:21: exporters.prometheus.const_labels.le: label name "le" is reserved: histogram and summary series use it',
      'e.yaml:6:28: exporters.prometheus.const_labels.quantile: label name "quantile" is reserved: histogram and summary series use it',
      "e.yaml:6:41: exporters.prometheus.const_labels.__name__: label name \"__name__\" is reserved: names starting with __ are Prometheus' own",
    ]);
    assert.deepEqual(messages({ resource_attributes_as_labels: ['model', 'le', 'quantile', '..x', '__meta', 'service.name'] }), [
      'resource_attributes_as_labels.1: label name "le" is reserved: histogram and summary series use it',
      'resource_attributes_as_labels.2: label name "quantile" is reserved: histogram and summary series use it',
      "resource_attributes_as_labels.3: attribute \"..x\" becomes label \"__x\", which is reserved: names starting with __ are Prometheus' own",
      "resource_attributes_as_labels.4: label name \"__meta\" is reserved: names starting with __ are Prometheus' own",
    ]);
    const ok = prometheusExporterConfigSchema.parse({ resource_attributes_as_labels: ['service.name', 'le.x'], const_labels: { level: 'a' } });
    assert.deepEqual(ok.resource_attributes_as_labels, ['service.name', 'le.x']);
  });

  it('rejects bad values naming the key', () => {
    const bad = [
      { endpoint: 'localhost' },
      { endpoint: 'unix:relative.sock' },
      { path: 'metrics' },
      { const_labels: { 'bad-name': 'x' } },
      { const_labels: { __reserved: 'x' } },
      { metric_expiration: 'soon' },
      { unknown_key: 1 },
    ];
    for (const body of bad) {
      const result = prometheusExporterConfigSchema.safeParse(body);
      assert.equal(result.success, false, JSON.stringify(body));
      const key = Object.keys(body)[0]!;
      assert.ok(JSON.stringify(result.error!.issues).includes(key), `${key}: ${JSON.stringify(result.error!.issues)}`);
    }
  });
});

describe('listen addresses', () => {
  it('reads host:port, [ipv6]:port, :port and Unix sockets', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9464'), { ok: true, address: { kind: 'tcp', host: '127.0.0.1', port: 9464 } });
    assert.deepEqual(parseListenAddress('localhost:0'), { ok: true, address: { kind: 'tcp', host: 'localhost', port: 0 } });
    assert.deepEqual(parseListenAddress('[::1]:9464'), { ok: true, address: { kind: 'tcp', host: '::1', port: 9464 } });
    assert.deepEqual(parseListenAddress(':9464'), { ok: true, address: { kind: 'tcp', host: '', port: 9464 } });
    assert.deepEqual(parseListenAddress('unix:/run/m.sock'), { ok: true, address: { kind: 'unix', path: '/run/m.sock' } });
    assert.deepEqual(parseListenAddress('unix:///run/m.sock'), { ok: true, address: { kind: 'unix', path: '/run/m.sock' } });
    for (const bad of ['9464', '::1:9464', 'host:99999', 'unix:', 'http://127.0.0.1:9464']) {
      assert.equal(parseListenAddress(bad).ok, false, bad);
    }
  });
});

describe('scrape negotiation', () => {
  it('picks OpenMetrics only when it ranks at least as high as text', () => {
    const negotiateFormat = (accept: string | undefined) => negotiate(accept).format;
    assert.equal(negotiateFormat(undefined), 'text');
    assert.equal(negotiateFormat('*/*'), 'text');
    assert.equal(negotiateFormat('text/plain;version=0.0.4'), 'text');
    assert.equal(negotiateFormat('application/openmetrics-text; version=1.0.0'), 'openmetrics');
    assert.equal(negotiateFormat('text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5'), 'text');
    assert.equal(negotiateFormat('application/openmetrics-text;q=0'), 'text');
  });

  it("takes the escaping scheme from the chosen clause's escaping parameter, underscores by default", () => {
    // What Prometheus 3 sends with its default scrape protocols and UTF-8 names.
    const prometheus3 =
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,' +
      'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';
    assert.deepEqual(negotiate(prometheus3), { format: 'openmetrics', escaping: 'allow-utf-8' });
    assert.deepEqual(negotiate('text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1'), {
      format: 'text',
      escaping: 'allow-utf-8',
    });
    // Prometheus 2.x names no scheme.
    const prometheus2 = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    assert.deepEqual(negotiate(prometheus2), { format: 'openmetrics', escaping: 'underscores' });
    assert.deepEqual(negotiate(undefined), { format: 'text', escaping: 'underscores' });
    for (const scheme of ['underscores', 'dots', 'values'] as const) {
      assert.deepEqual(negotiate(`text/plain;version=0.0.4;escaping=${scheme}`), { format: 'text', escaping: scheme });
    }
    // An unknown scheme is ignored, as Prometheus' expfmt ignores it.
    assert.deepEqual(negotiate('text/plain;escaping=utf-16'), { format: 'text', escaping: 'underscores' });
    // A clause that is not chosen does not set the scheme.
    assert.deepEqual(negotiate('application/openmetrics-text;escaping=allow-utf-8;q=0.2,text/plain;q=0.9'), { format: 'text', escaping: 'underscores' });
  });

  it('allows gzip explicitly or through *', () => {
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip('identity'), false);
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('deflate, GZIP;q=0.5'), true);
    assert.equal(acceptsGzip('gzip;q=0'), false);
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip('*, gzip;q=0'), false);
  });

  it('collects name[] parameters', () => {
    assert.equal(requestedNames(new URLSearchParams('')), undefined);
    assert.deepEqual([...requestedNames(new URLSearchParams('name%5B%5D=a&name[]=b&other=c'))!], ['a', 'b']);
  });
});

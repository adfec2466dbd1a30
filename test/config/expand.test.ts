import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { expandText } from '../../src/config/expand.js';
import { loadConfigFromText } from '../../src/config/load.js';
import { fakeRegistry } from './fake-registry.js';

/** Loads a config whose resource processor carries `attributes`, and returns them as loaded. */
function attributes(yamlAttributes: string, env: NodeJS.ProcessEnv) {
  const loaded = loadConfigFromText(
    [
      {
        name: 'env.yaml',
        text: `receivers:
  prometheus:
    targets: [{ url: x }]
processors:
  resource:
    attributes:
${yamlAttributes}
exporters:
  prometheus:
service:
  pipelines:
    metrics: { receivers: [prometheus], processors: [resource], exporters: [prometheus] }
`,
      },
    ],
    fakeRegistry,
    env,
  );
  return { attrs: (loaded.config.processors.resource as { attributes: Record<string, unknown> }).attributes, loaded };
}

describe('expandText', () => {
  it('a default may hold references, so a renamed variable\'s old name keeps working', () => {
    const nested = '${env:METRICS_ADDR:-${env:LLAMACPP_EXPORTER_ADDR:-127.0.0.1:9464}}';
    assert.deepEqual(expandText(nested, {}), { text: '127.0.0.1:9464', singleReference: true, unset: [] });
    assert.equal(expandText(nested, { LLAMACPP_EXPORTER_ADDR: 'unix:/run/x.sock' }).text, 'unix:/run/x.sock');
    assert.equal(expandText(nested, { LLAMACPP_EXPORTER_ADDR: 'old:1', METRICS_ADDR: 'new:2' }).text, 'new:2');
    assert.deepEqual(expandText('${env:A:-${env:B}}/x', {}), { text: '/x', singleReference: false, unset: ['B'] });
    assert.equal(expandText('${env:A:-a$${env:B:-b}}', {}).text, 'a${env:B:-b}', '$$ escapes inside a default too');
    assert.equal(expandText('${env:A:-x}}', {}).text, 'x}', 'a stray brace after a reference stays text');
    assert.throws(() => expandText('${env:A:-${env:B:-x}', {}), /unterminated/);
  });

  it('substitutes variables, defaults and $$', () => {
    const env = { HOST: 'gpu-box', EMPTY: '' };
    assert.deepEqual(expandText('http://${env:HOST}:8080', env), { text: 'http://gpu-box:8080', singleReference: false, unset: [] });
    assert.equal(expandText('${env:MISSING:-127.0.0.1}', env).text, '127.0.0.1');
    assert.equal(expandText('${env:EMPTY:-fallback}', env).text, 'fallback');
    assert.equal(expandText('${env:HOST:-fallback}', env).text, 'gpu-box');
    assert.equal(expandText('${env:MISSING:-}', env).text, '');
    assert.equal(expandText('cost: $$5 and $$${env:HOST}', env).text, 'cost: $5 and $gpu-box');
    assert.equal(expandText('a lone $ stays', env).text, 'a lone $ stays');
    assert.deepEqual(expandText('${env:MISSING}', env), { text: '', singleReference: true, unset: ['MISSING'] });
  });

  it('rejects malformed references', () => {
    assert.throws(() => expandText('${foo', {}), /unterminated reference "\$\{foo"/);
    assert.throws(() => expandText('${env:}', {}), /empty variable name in "\$\{env:\}"/);
    assert.throws(() => expandText('${HOME}', {}), /only \$\{env:VAR\} is supported \(did you mean \$\{env:HOME\}\?\)/);
    assert.throws(() => expandText('${env:A-B}', {}), /invalid variable name "A-B"/);
  });
});

describe('env expansion while loading', () => {
  it('expands with and without defaults, empty variables and $$', () => {
    const { attrs, loaded } = attributes(
      `      host: \${env:HOST}
      port: "\${env:PORT:-8080}"
      zone: \${env:ZONE:-eu}
      empty: "\${env:EMPTY}"
      empty_default: \${env:EMPTY:-none}
      price: "$$5"
      url: http://\${env:HOST}:\${env:PORT:-9}/x`,
      { HOST: 'gpu-box', EMPTY: '' },
    );
    assert.deepEqual(attrs, {
      host: 'gpu-box',
      port: '8080',
      zone: 'eu',
      empty: '',
      empty_default: 'none',
      price: '$5',
      url: 'http://gpu-box:9/x',
    });
    assert.deepEqual(loaded.warnings, []);
  });

  it('warns about an unset variable without a default and uses an empty string', () => {
    const { attrs, loaded } = attributes('      model: ${env:MODEL}', {});
    assert.equal(attrs.model, '');
    assert.deepEqual(loaded.warnings, [
      { file: 'env.yaml', line: 7, column: 14, path: 'processors.resource.attributes.model', message: 'environment variable MODEL is not set; using an empty string' },
    ]);
  });

  it('re-types a plain scalar that is exactly one reference as a number or boolean', () => {
    const { attrs } = attributes(
      `      count: \${env:N}
      ratio: \${env:R}
      on: \${env:B}
      quoted: "\${env:N}"
      mixed: \${env:N}s
      nested: \${env:MAP}
      list: \${env:LIST}`,
      { N: '5', R: '0.25', B: 'true', MAP: 'a: b', LIST: '[1, 2]' },
    );
    assert.deepEqual(attrs, { count: 5, ratio: 0.25, on: true, quoted: '5', mixed: '5s', nested: 'a: b', list: '[1, 2]' });
  });

  it('re-types only text a number or boolean writes back exactly', () => {
    const values: Record<string, string> = {
      version: '1.10',
      padded: '007',
      exponent: '1e3',
      hex: '0x1F',
      nothing: 'null',
      tilde: '~',
      capital: 'True',
      plus: '+5',
      spaced: ' 5',
      negative: '-5',
      zero: '0',
      off: 'false',
    };
    const env = Object.fromEntries(Object.entries(values).map(([k, v]) => [k.toUpperCase(), v]));
    const { attrs } = attributes(Object.keys(values).map((k) => `      ${k}: \${env:${k.toUpperCase()}}`).join('\n'), env);
    assert.deepEqual(attrs, { ...values, negative: -5, zero: 0, off: false });
  });

  it('lets a number from the environment satisfy a numeric key', () => {
    const loaded = loadConfigFromText(
      [
        {
          name: 'n.yaml',
          text: 'receivers:\n  prometheus:\n    targets: [{ url: x }]\nexporters:\n  prometheus:\n    max_series: ${env:N}\n    enabled: ${env:ON}\nservice:\n  pipelines:\n    metrics: { receivers: [prometheus], exporters: [prometheus] }\n',
        },
      ],
      fakeRegistry,
      { N: '2500', ON: 'false' },
    );
    assert.equal((loaded.config.exporters.prometheus as { max_series: number }).max_series, 2500);
    assert.equal((loaded.config.exporters.prometheus as { enabled: boolean }).enabled, false);
  });

  it('never turns a variable into YAML structure', () => {
    const { attrs } = attributes('      x: "${env:EVIL}"', { EVIL: 'a\nreceivers:\n  bad: {}' });
    assert.equal(attrs.x, 'a\nreceivers:\n  bad: {}');
  });

  it('reports invalid references with their position', () => {
    assert.throws(
      () => attributes('      a: ok\n      b: "${foo"\n      c: ${env:}', {}),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(
          e.issues.map((i) => [i.file, i.line, i.column, i.path]),
          [
            ['env.yaml', 8, 10, 'processors.resource.attributes.b'],
            ['env.yaml', 9, 10, 'processors.resource.attributes.c'],
          ],
        );
        assert.match(e.issues[0]!.message, /^unterminated reference/);
        assert.match(e.issues[1]!.message, /^empty variable name/);
        return true;
      },
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatIssue } from '../../../src/config/errors.js';
import { loadConfigFromText, type LoadedConfig } from '../../../src/config/load.js';
import type { OllamaReceiverConfig } from '../../../src/receivers/ollama/config.js';
import { resolveOllamaTarget, endpointUrl } from '../../../src/receivers/ollama/target.js';
import { registry } from '../../../src/registry.js';

/** A config with one ollama receiver whose body lines are `receiverBody`. */
function load(receiverBody: string, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const text = `receivers:
  ollama/local:
${receiverBody}
exporters:
  prometheus:
service:
  pipelines:
    metrics: { receivers: [ollama/local], exporters: [prometheus] }
`;
  return loadConfigFromText([{ name: 'o.yaml', text }], registry, env);
}

function receiverConfig(body: string, env: NodeJS.ProcessEnv = {}): OllamaReceiverConfig {
  return load(body, env).config.receivers['ollama/local'] as OllamaReceiverConfig;
}

function errorsOf(receiverBody: string): string[] {
  try {
    load(receiverBody);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.issues.map(formatIssue);
  }
  assert.fail('expected the config to be rejected');
}

describe('ollama receiver config', () => {
  it('an empty body watches the local Ollama with the documented defaults', () => {
    assert.deepEqual(receiverConfig(''), {
      scrape_interval: 15_000,
      scrape_timeout: 3_000,
      body_size_limit: 16 * 1024 * 1024,
      metrics_path: '/metrics',
      headers: {},
      targets: [{ url: 'http://127.0.0.1:11434', attributes: {} }],
    });
  });

  it('takes targets with attributes and env-expanded URLs', () => {
    const c = receiverConfig('    scrape_interval: 5s\n    targets:\n      - url: ${env:OLLAMA_BASE_URL}\n        attributes: { site: lab }', {
      OLLAMA_BASE_URL: 'http://gpu-box:11434',
    });
    assert.equal(c.scrape_interval, 5_000);
    assert.deepEqual(c.targets, [{ url: 'http://gpu-box:11434', attributes: { site: 'lab' } }]);
  });

  it('rejects a model attribute, a bad URL and two targets at one address, each at its place', () => {
    assert.deepEqual(errorsOf('    targets:\n      - attributes: { model: x }'), [
      'o.yaml:4:30: receivers.ollama/local.targets[0].attributes.model: "model" is set by the receiver to each loaded model\'s name; remove it here',
    ]);
    assert.deepEqual(errorsOf('    targets: [{ url: "ftp://x" }]'), [
      'o.yaml:3:22: receivers.ollama/local.targets[0].url: target url "ftp://x/" must be http:// or https://',
    ]);
    assert.deepEqual(errorsOf('    targets:\n      - url: http://h:11434\n      - url: http://h:11434/'), [
      'o.yaml:5:9: receivers.ollama/local.targets[1]: targets[0] and targets[1] are both h:11434',
    ]);
    assert.match(errorsOf('    scrape_timeout: 3')[0]!, /duration 3 has no unit/);
  });

  it('endpoints keep a proxy path prefix; credentials become Basic auth, out of the URL', () => {
    const a = resolveOllamaTarget('http://user:s3cret@proxy:8080/ollama/?x=1');
    assert.equal(endpointUrl(a, '/api/ps'), 'http://proxy:8080/ollama/api/ps');
    assert.equal(a.instance, 'proxy:8080');
    assert.equal(a.authorization, 'Basic ' + Buffer.from('user:s3cret').toString('base64'));
    assert.doesNotMatch(a.base + a.display, /s3cret/);
    assert.equal(endpointUrl(resolveOllamaTarget('http://127.0.0.1:11434'), '/api/tags'), 'http://127.0.0.1:11434/api/tags');
  });
});

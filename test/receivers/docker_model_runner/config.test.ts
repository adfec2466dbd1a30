import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatIssue } from '../../../src/config/errors.js';
import { loadConfigFromText, type LoadedConfig } from '../../../src/config/load.js';
import { registry } from '../../../src/registry.js';
import { resolveDmrTarget } from '../../../src/receivers/docker_model_runner/target.js';
import { canonicalRunnerLabels, normalizeModelRef, parseGoDuration, parseLocalModels, parseRunningBackends, parseServedModels, servesModel } from '../../../src/runners/docker-model-runner.js';
import { readFixture } from '../../helpers/fixtures.js';

function load(body: string): LoadedConfig {
  const text = `receivers:
  docker_model_runner:
${body}
exporters:
  prometheus:
service:
  pipelines:
    metrics: { receivers: [docker_model_runner], exporters: [prometheus] }
`;
  return loadConfigFromText([{ name: 'd.yaml', text }], registry, {});
}

function errorsOf(body: string): string[] {
  try {
    load(body);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.issues.map(formatIssue);
  }
  assert.fail('expected the config to be rejected');
}

describe('docker_model_runner receiver config', () => {
  it('is valid empty: the model runner is found from the environment', () => {
    const { config } = load('');
    const body = config.receivers['docker_model_runner'] as { scrape_interval: number; path_prefix: string; metrics: boolean };
    assert.equal(body.scrape_interval, 15_000);
    assert.equal(body.path_prefix, '');
    assert.equal(body.metrics, true);
  });

  it('direct: defaults to the slots\' TCP ports; sockets must be absolute globs; a target names one address and its model', () => {
    const body = load('    direct: { sockets: [/run/dmr/inference-runner-*.sock] }').config.receivers['docker_model_runner'] as { direct: { enabled: boolean; tcp_ports: number[]; tcp_host: string; sockets: string[] } };
    assert.equal(body.direct.enabled, true);
    assert.deepEqual(body.direct.tcp_ports, [30000, 30001, 30002, 30003, 30004, 30005, 30006, 30007]);
    assert.equal(body.direct.tcp_host, '127.0.0.1');
    assert.deepEqual(body.direct.sockets, ['/run/dmr/inference-runner-*.sock']);
    assert.deepEqual(errorsOf('    direct: { sockets: [runners/*.sock] }'), ['d.yaml:3:25: receivers.docker_model_runner.direct.sockets[0]: "runners/*.sock" must be an absolute path']);
    assert.deepEqual(errorsOf('    direct: { targets: [{ model: m, url: http://a:1, unix_socket: /s }] }'), [
      'd.yaml:3:25: receivers.docker_model_runner.direct.targets[0]: give exactly one of url and unix_socket',
    ]);
    assert.deepEqual(errorsOf('    direct: { targets: [{ model: m, url: "localhost:30000" }] }'), [
      'd.yaml:3:42: receivers.docker_model_runner.direct.targets[0].url: target url "localhost:30000" has no scheme: add http:// (or https://) in front, e.g. http://localhost:30000',
    ]);
    assert.deepEqual(errorsOf('    direct: { tcp_ports: [70000] }'), ['d.yaml:3:27: receivers.docker_model_runner.direct.tcp_ports[0]: must be at most 65535']);
  });

  it('errors name file, line and column', () => {
    assert.deepEqual(errorsOf('    url: ftp://x'), ['d.yaml:3:10: receivers.docker_model_runner.url: target url "ftp://x/" must be http:// or https://']);
    assert.deepEqual(errorsOf('    path_prefix: exp/vDD4.40'), [
      'd.yaml:3:18: receivers.docker_model_runner.path_prefix: must be empty or a path starting with / (Docker Desktop: /exp/vDD4.40)',
    ]);
    assert.deepEqual(errorsOf('    attributes: { model: x }'), [
      'd.yaml:3:26: receivers.docker_model_runner.attributes.model: "model" comes from the model runner for each runner; remove it here',
    ]);
  });
});

describe('finding the model runner as the docker model CLI does', () => {
  const none = { path_prefix: '' };
  it('TCP 127.0.0.1:$MODEL_RUNNER_PORT when set, else $MODEL_RUNNER_SOCK, else model-runner.sock', () => {
    assert.equal(resolveDmrTarget(none, { MODEL_RUNNER_PORT: '12434', MODEL_RUNNER_SOCK: '/x.sock' }).base, 'http://127.0.0.1:12434');
    assert.equal(resolveDmrTarget(none, { MODEL_RUNNER_SOCK: '/run/x.sock' }).socketPath, '/run/x.sock');
    assert.equal(resolveDmrTarget(none, {}).socketPath, 'model-runner.sock');
  });
  it('MODEL_RUNNER_HOST, the URL the docker model CLI is pointed at by hand, comes first', () => {
    assert.equal(resolveDmrTarget(none, { MODEL_RUNNER_HOST: 'http://10.0.0.5:12434/', MODEL_RUNNER_PORT: '1' }).base, 'http://10.0.0.5:12434');
    assert.throws(() => resolveDmrTarget(none, { MODEL_RUNNER_HOST: 'localhost:12434' }), /has no scheme/);
  });
  it('configured values win; port 0 means the socket; the Desktop prefix goes before every path', () => {
    const a = resolveDmrTarget({ url: 'http://127.0.0.1:0', unix_socket: '/var/run/docker.sock', path_prefix: '/exp/vDD4.40' }, { MODEL_RUNNER_PORT: '1' });
    assert.equal(a.socketPath, '/var/run/docker.sock');
    assert.equal(a.base, 'http://localhost/exp/vDD4.40');
    assert.equal(resolveDmrTarget({ url: 'http://h:5/', path_prefix: '' }, { MODEL_RUNNER_PORT: '1' }).base, 'http://h:5');
  });
});

describe('/engines/ps', () => {
  it('reads the captured answer', () => {
    const runners = parseRunningBackends(readFixture('runners', 'dmr-engines-ps.json'));
    assert.deepEqual(runners.map((r) => [r.backend, r.model, r.mode, r.loading, r.inUse, r.keepAliveSeconds, r.lastUsedMs !== undefined]), [
      ['llama.cpp', 'ai/smollm2', 'completion', false, true, undefined, false],
      ['llama.cpp', 'ai/mxbai-embed-large:335M-F16', 'embedding', false, false, 600, true],
      ['vllm', 'ai/qwen3:0.6B-F16', 'completion', true, false, undefined, false],
    ]);
    assert.deepEqual(parseRunningBackends('null'), []);
    assert.throws(() => parseRunningBackends('{"a":1}'), /not a list/);
  });
  it("reads Go's durations", () => {
    assert.equal(parseGoDuration('10m0s'), 600);
    assert.equal(parseGoDuration('1h30m'), 5400);
    assert.equal(parseGoDuration('1.5s'), 1.5);
    assert.equal(parseGoDuration('-1ns'), -1e-9);
    assert.equal(parseGoDuration('forever'), undefined);
  });
});

describe('recognising a runner on its own address', () => {
  it('reads the names a runner serves from llama-server\'s and OpenAI\'s /v1/models, and the model runner\'s /models', () => {
    assert.deepEqual(parseServedModels(readFixture('llamacpp-router', 'single.v0.5.0.completion.idle.v1-models.json')), ['tiny-llama-rand']);
    assert.deepEqual(parseServedModels('{"data":[{"id":"ai/qwen3","root":"/m/x"}]}'), ['ai/qwen3', '/m/x']);
    assert.deepEqual(parseServedModels('not json'), []);
    assert.deepEqual(parseServedModels('[1]'), []);
    assert.deepEqual(parseLocalModels(readFixture('runners', 'dmr-models.json')), [{ id: 'sha256:354bf30d0aa3af413d2aa5ae4f23c66d78980072d1e07a5b0d776e9606a2f0b9', tags: ['ai/smollm2:latest'] }]);
    assert.throws(() => parseLocalModels('{}'), /not a list/);
  });
  it('matches by reference (tag and registry written or not), or by the model ID digest in a served path', () => {
    assert.equal(normalizeModelRef('docker.io/ai/smollm2'), 'ai/smollm2:latest');
    assert.equal(normalizeModelRef('ai/qwen3:0.6B-F16'), 'ai/qwen3:0.6b-f16');
    assert.equal(servesModel(['ai/smollm2:latest'], 'ai/smollm2', undefined), true);
    assert.equal(servesModel(['ai/smollm2:360M'], 'ai/smollm2', undefined), false);
    const local = parseLocalModels(readFixture('runners', 'dmr-models.json'));
    const path = '/models/bundles/sha256/354bf30d0aa3af413d2aa5ae4f23c66d78980072d1e07a5b0d776e9606a2f0b9/model/model.gguf';
    assert.equal(servesModel([path], 'ai/smollm2', undefined), false, 'without /models the digest is not known');
    assert.equal(servesModel([path], 'ai/smollm2', local), true);
    assert.equal(servesModel([path], 'ai/other', local), false);
    assert.equal(servesModel(['/models/x/model.gguf'], 'ai/smollm2', local), false);
  });
});

describe('the aggregated page', () => {
  it('gets backend, model, mode in one order after the runner\'s own labels; values as written', () => {
    assert.equal(
      canonicalRunnerLabels('a{mode="m",le="1",backend="b,}\\"",model="x"} 1\n# HELP a {mode="m",backend="b"}\nb 2\n'),
      'a{le="1",backend="b,}\\"",model="x",mode="m"} 1\n# HELP a {mode="m",backend="b"}\nb 2\n',
    );
    const inOrder = 'a{slot="0",backend="b",model="x",mode="m"} 1\n';
    assert.equal(canonicalRunnerLabels(inOrder), inOrder);
    const broken = 'a{mode="m",backend="b} 1\n';
    assert.equal(canonicalRunnerLabels(broken), broken, 'left for the parser to report');
  });
});

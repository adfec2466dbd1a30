import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../helpers/fixtures.js';
import {
  LLAMACPP_ENDPOINTS,
  LLAMACPP_WAKING_ENDPOINTS,
  llamacppEndpoint,
  llamacppIdentity,
  parseModels,
  parseProps,
  parseRouterModels,
  childAddress,
  requestedModel,
  routerMetricsPath,
  routerModelRunning,
} from '../../src/runners/llamacpp.js';
import { RunnerAnswerError } from '../../src/runners/identity.js';

const b4748 = (name: string) => readFixture('llamacpp-real', name);
const v050 = (name: string) => readFixture('llamacpp-router', name);

function identityOf(props: string | undefined, models: string | undefined, requested?: string) {
  return llamacppIdentity(props === undefined ? undefined : parseProps(props), models === undefined ? undefined : parseModels(models), requested);
}

test('b4748: the alias from /v1/models, completion or embedding', () => {
  assert.deepEqual(identityOf(b4748('completion.idle.props.json'), b4748('completion.idle.v1-models.json')), {
    backend: 'llama.cpp',
    model: 'tiny-llama-rand',
    mode: 'completion',
  });
  // No field says "embeddings" in either version; the WordPiece vocabulary (vocab_type 3) of a BERT encoder does.
  assert.deepEqual(identityOf(b4748('embedding.idle.props.json'), b4748('embedding.idle.v1-models.json')), {
    backend: 'llama.cpp',
    model: 'tiny-bert-rand',
    mode: 'embedding',
  });
});

test('b4748: every field identity reads from /props and /v1/models', () => {
  assert.deepEqual(parseProps(b4748('completion.idle.props.json')), {
    router: false,
    alias: undefined,
    modelPath: 'models/tiny-llama-rand.gguf',
    buildInfo: 'b4748-c392e5094',
    // `-np 2 -c 4096`: two slots of 2048; b4748 has no idle sleep, so no is_sleeping.
    totalSlots: 2,
    slotContext: 2048,
    sleeping: undefined,
  });
  assert.deepEqual(parseModels(b4748('embedding.idle.v1-models.json')), [
    { id: 'tiny-bert-rand', aliases: [], vocabType: 3, status: undefined, args: [], preset: undefined, params: 2086400, sizeBytes: 4176640 },
  ]);
});

test('b4748: /props crashing with HTTP 500 (vocabulary without BOS) still leaves /v1/models to tell', () => {
  assert.throws(() => parseProps(b4748('embedding-nobos.props.500.json')), RunnerAnswerError);
  assert.deepEqual(identityOf(undefined, b4748('embedding.idle.v1-models.json')), { backend: 'llama.cpp', model: 'tiny-bert-rand', mode: 'embedding' });
});

test('b4748 without --alias: the id is the model path, named by its file without .gguf', () => {
  const models = b4748('completion.idle.v1-models.json').replace('"id": "tiny-llama-rand"', '"id": "models/tiny-llama-rand.gguf"');
  assert.equal(identityOf(undefined, models).model, 'tiny-llama-rand');
});

test('only /props answered: model_path (b4748) or model_alias (v0.5.0) names it; the mode is not known', () => {
  assert.deepEqual(identityOf(b4748('completion.idle.props.json'), undefined), { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: undefined });
  assert.deepEqual(identityOf(v050('single.v0.5.0.embedding.idle.props.json'), undefined), { backend: 'llama.cpp', model: 'tiny-bert-rand', mode: undefined });
});

test('v0.5.0 single mode and a router child on its own port: same identity as b4748', () => {
  for (const [props, models, model, mode] of [
    ['single.v0.5.0.completion.idle.props.json', 'single.v0.5.0.completion.idle.v1-models.json', 'tiny-llama-rand', 'completion'],
    ['single.v0.5.0.embedding.idle.props.json', 'single.v0.5.0.embedding.idle.v1-models.json', 'tiny-bert-rand', 'embedding'],
    ['router.v0.5.0.d-both-loaded.child-tiny-llama-rand-direct.props.json', 'router.v0.5.0.d-both-loaded.child-tiny-llama-rand-direct.v1-models.json', 'tiny-llama-rand', 'completion'],
    ['router.v0.5.0.d-both-loaded.child-tiny-bert-rand-direct.props.json', 'router.v0.5.0.d-both-loaded.child-tiny-bert-rand-direct.v1-models.json', 'tiny-bert-rand', 'embedding'],
  ] as const) {
    assert.deepEqual(identityOf(v050(props), v050(models)), { backend: 'llama.cpp', model, mode }, props);
  }
  const props = parseProps(v050('single.v0.5.0.completion.idle.props.json'));
  assert.deepEqual(props, {
    router: false,
    alias: 'tiny-llama-rand',
    modelPath: 'models/tiny-llama-rand.gguf',
    buildInfo: 'b1-de3ff81',
    totalSlots: 2,
    slotContext: 2048,
    sleeping: false,
  });
  assert.deepEqual(parseModels(v050('single.v0.5.0.completion.idle.v1-models.json'))[0]!.aliases, ['tiny-llama-rand']);
});

test('a router answers for itself: no one model unless the target names one, then that model and its mode', () => {
  const props = v050('router.v0.5.0.d-both-loaded.props.json');
  const models = v050('router.v0.5.0.d-both-loaded.v1-models.json');
  assert.equal(parseProps(props).router, true);
  assert.equal(parseProps(props).modelPath, undefined, '"none" is no path');
  // Not "llama-server" (the router's alias) and not the first listed model.
  assert.deepEqual(identityOf(props, models), { backend: 'llama.cpp' });
  // The child's command line says --embeddings.
  assert.deepEqual(identityOf(props, models, 'tiny-bert-rand'), { backend: 'llama.cpp', model: 'tiny-bert-rand', mode: 'embedding' });
  assert.deepEqual(identityOf(props, models, 'tiny-llama-rand'), { backend: 'llama.cpp', model: 'tiny-llama-rand', mode: 'completion' });
  const bert = parseModels(models).find((m) => m.id === 'tiny-bert-rand')!;
  assert.equal(bert.status, 'loaded');
  assert.ok(bert.args.includes('--embeddings'));
  // Its /props?model=…&autoload=false is the child's, so the model is named either way.
  assert.deepEqual(identityOf(v050('router.v0.5.0.d-both-loaded.props.model-tiny-bert-rand.autoload-false.json'), models, 'tiny-bert-rand').model, 'tiny-bert-rand');
});

test('garbage answers are errors, never an identity', () => {
  for (const body of ['', 'llamacpp:prompt_tokens_total 1\n', '[]', 'null', '{"data":"x"}', '{"data":[]}', '{"data":[{"object":"model"}]}', `{"data":[{"id":"${'x'.repeat(300)}"}]}`]) {
    assert.throws(() => parseModels(body), RunnerAnswerError, JSON.stringify(body.slice(0, 40)));
  }
  for (const body of ['', '<html>', '[]', '{}', '{"model_path":""}', '{"model_path":42}', b4748('embedding-nobos.props.500.json')]) {
    assert.throws(() => parseProps(body), RunnerAnswerError, JSON.stringify(body.slice(0, 40)));
  }
  assert.deepEqual(llamacppIdentity(undefined, undefined), { backend: 'llama.cpp' });
});

test('endpoints: same origin; a router target keeps its model with autoload=false on /props; /slots is never asked', () => {
  assert.equal(llamacppEndpoint('http://127.0.0.1:8080/metrics', LLAMACPP_ENDPOINTS.props), 'http://127.0.0.1:8080/props');
  assert.equal(
    llamacppEndpoint('http://127.0.0.1:8080/metrics?model=tiny-bert-rand&autoload=false', LLAMACPP_ENDPOINTS.props),
    'http://127.0.0.1:8080/props?model=tiny-bert-rand&autoload=false',
  );
  assert.equal(llamacppEndpoint('http://127.0.0.1:8080/metrics?model=tiny-bert-rand', LLAMACPP_ENDPOINTS.models), 'http://127.0.0.1:8080/v1/models');
  assert.equal(requestedModel('http://127.0.0.1:8080/metrics?model=tiny-bert-rand'), 'tiny-bert-rand');
  assert.equal(requestedModel('http://127.0.0.1:8080/metrics'), undefined);
  for (const path of Object.values(LLAMACPP_ENDPOINTS)) assert.ok(!(LLAMACPP_WAKING_ENDPOINTS as readonly string[]).includes(path), path);
});

test('v0.5.0 router: GET /models gives each model and its state, in every state captured', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['router.v0.5.0.a-nothing-loaded.models.json', { 'tiny-bert-rand': 'unloaded', 'tiny-llama-rand': 'unloaded' }],
    ['router.v0.5.0.b-load.immediately-after-load.models.json', { 'tiny-bert-rand': 'unloaded', 'tiny-llama-rand': 'loading' }],
    ['router.v0.5.0.b-llama-loaded.models.json', { 'tiny-bert-rand': 'unloaded', 'tiny-llama-rand': 'loaded' }],
    ['router.v0.5.0.d-both-loaded.models.json', { 'tiny-bert-rand': 'loaded', 'tiny-llama-rand': 'loaded' }],
    ['router.v0.5.0.e-bert-unloaded.models.json', { 'tiny-bert-rand': 'unloaded', 'tiny-llama-rand': 'loaded' }],
    ['router.v0.5.0.f-llama-sleeping.models.json', { 'tiny-bert-rand': 'unloaded', 'tiny-llama-rand': 'sleeping' }],
    ['router-max1.v0.5.0.2-load-bert-while-llama-loaded.immediately.models.json', { 'tiny-bert-rand': 'loading', 'tiny-llama-rand': 'unloaded' }],
    ['router-max1.v0.5.0.3-bert-sleeping.models.json', { 'tiny-bert-rand': 'sleeping', 'tiny-llama-rand': 'unloaded' }],
  ];
  for (const [file, want] of cases) {
    const got = Object.fromEntries(parseRouterModels(v050(file)).map((m) => [m.id, m.state]));
    assert.deepEqual(got, want, file);
  }
  // /v1/models is the same handler on a router.
  assert.deepEqual(parseRouterModels(v050('router.v0.5.0.d-both-loaded.v1-models.json')).length, 2);
  // A single-mode server answers /models without any status: not a router.
  assert.throws(() => parseRouterModels(v050('single.v0.5.0.completion.idle.models.json')), RunnerAnswerError);
  // An unknown state is skipped rather than scraped.
  const odd = JSON.stringify({ data: [{ id: 'a', status: { value: 'downloading' } }, { id: 'b', status: { value: 'loaded' } }] });
  assert.deepEqual(parseRouterModels(odd), [{ id: 'b', state: 'loaded', mode: 'completion', child: undefined }]);
  assert.deepEqual(
    (['unloaded', 'loading', 'loaded', 'sleeping'] as const).filter(routerModelRunning),
    ['loaded', 'sleeping'],
  );
  assert.equal(routerMetricsPath('/', 'tiny llama/x'), '/metrics?model=tiny%20llama%2Fx&autoload=false');
  assert.equal(routerMetricsPath('/llama/', 'm'), '/llama/metrics?model=m&autoload=false');
});

test('router: each model\'s mode and its child\'s own address, from the entry\'s command line', () => {
  const both = parseRouterModels(v050('router.v0.5.0.d-both-loaded.models.json'));
  assert.deepEqual(both, [
    { id: 'tiny-bert-rand', state: 'loaded', mode: 'embedding', child: { host: '127.0.0.1', port: 56837 } },
    { id: 'tiny-llama-rand', state: 'loaded', mode: 'completion', child: { host: '127.0.0.1', port: 33561 } },
  ]);
  // Before the first load the port is 0: no address.
  assert.deepEqual(parseRouterModels(v050('router.v0.5.0.a-nothing-loaded.models.json')).map((m) => m.child), [undefined, undefined]);
  assert.deepEqual(childAddress(['llama-server', '--port=8081']), { host: '127.0.0.1', port: 8081 });
  assert.deepEqual(childAddress(['llama-server', '--host', '0.0.0.0', '--port', '8081']), { host: '127.0.0.1', port: 8081 });
  assert.deepEqual(childAddress(['llama-server', '--host', '::1', '--port', '8081']), { host: '::1', port: 8081 });
  assert.equal(childAddress(['llama-server', '--host', '/run/x.sock', '--port', '8081']), undefined);
  assert.equal(childAddress(['llama-server', '--port', '70000']), undefined);
  assert.equal(childAddress(['llama-server', '--port', 'x']), undefined);
  // args[0] is the binary, never a flag's value.
  assert.equal(childAddress(['--port', '1']), undefined);
});

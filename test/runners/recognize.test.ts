import { test } from 'node:test';
import assert from 'node:assert/strict';
import { questionsFor, recognisePage, WELL_KNOWN_PORTS, MODEL_RUNNER_ONLY, type Question } from '../../src/runners/recognize.js';
import { readFixture } from '../helpers/fixtures.js';

const runners = (name: string) => readFixture('runners', name);
const router = (name: string) => readFixture('llamacpp-router', name);
const real = (name: string) => readFixture('llamacpp-real', name);

function question(path: string): Question {
  const q = questionsFor(undefined).find((x) => x.path === path);
  assert.ok(q, path);
  return q;
}

test('/v1/models tells a llama-server (b4748, v0.5.0) from a router, and from another server\'s OpenAI list', () => {
  const q = question('/v1/models');
  assert.equal(q.recognise(real('completion.idle.v1-models.json')), 'llamacpp');
  assert.equal(q.recognise(real('embedding.idle.v1-models.json')), 'llamacpp');
  assert.equal(q.recognise(router('single.v0.5.0.completion.idle.v1-models.json')), 'llamacpp');
  assert.equal(q.recognise(router('router.v0.5.0.d-both-loaded.v1-models.json')), 'llamacpp_router');
  assert.equal(q.recognise(router('router.v0.5.0.a-nothing-loaded.models.json')), 'llamacpp_router');
  // vLLM/SGLang/Ollama answer OpenAI's list without llama-server's marks.
  assert.equal(q.recognise('{"object":"list","data":[{"id":"Qwen/Qwen2.5-0.5B","object":"model","owned_by":"vllm"}]}'), undefined);
  assert.equal(q.recognise(runners('dmr-openai-models.json')), undefined);
  assert.equal(q.recognise('<html>hello</html>'), undefined);
  assert.equal(q.recognise('{"error":{"code":404}}'), undefined);
});

test('Ollama, Docker Model Runner, TGI and SGLang by their own endpoints; garbage is no runner', () => {
  assert.equal(question('/api/version').recognise(runners('ollama-api-version.json')), 'ollama');
  assert.equal(question('/api/version').recognise('{"version":""}'), undefined);
  assert.equal(question('/engines/ps').recognise(runners('dmr-engines-ps.json')), 'docker_model_runner');
  assert.equal(question('/engines/ps').recognise('null'), 'docker_model_runner');
  assert.equal(question('/engines/ps').recognise('{"models":[]}'), undefined);
  assert.equal(question('/info').recognise(runners('tgi-info.json')), 'tgi');
  assert.equal(question('/info').recognise('{"model_id":"x"}'), undefined, 'model_id alone is too common');
  assert.equal(question('/get_model_info').recognise(runners('sglang-get-model-info.json')), 'sglang');
  assert.equal(question('/get_model_info').recognise(runners('sglang-get-model-info.embedding.json')), 'sglang');
  assert.equal(question('/get_model_info').recognise('{"model_path":"x"}'), undefined);
});

test('/metrics pages by their families: llama.cpp single vs Docker Model Runner\'s aggregate, vLLM, TGI, SGLang, Triton, TorchServe', () => {
  assert.equal(recognisePage(runners('llamacpp-completion.prom')), 'llamacpp');
  assert.equal(recognisePage(router('single.v0.5.0.completion.idle.metrics.prom')), 'llamacpp');
  assert.equal(recognisePage(runners('dmr-aggregated.prom')), 'docker_model_runner');
  assert.equal(recognisePage('# No active runners\n'), 'docker_model_runner');
  assert.equal(recognisePage(runners('vllm.prom')), 'vllm');
  assert.equal(recognisePage(runners('tgi.prom')), 'tgi');
  assert.equal(recognisePage(runners('sglang.prom')), 'sglang');
  assert.equal(recognisePage(runners('triton.prom')), 'triton');
  assert.equal(recognisePage(runners('torchserve.prom')), 'torchserve');
  assert.equal(recognisePage('# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 3\n'), undefined);
});

test('each well-known port asks its own runner\'s question first, then every other once; Docker Desktop\'s socket only /engines/ps', () => {
  const first: Record<string, string> = { llamacpp: '/v1/models', docker_model_runner: '/engines/ps', ollama: '/api/version', vllm: '/metrics', tgi: '/info', sglang: '/get_model_info', triton: '/metrics', torchserve: '/metrics' };
  for (const { kind } of WELL_KNOWN_PORTS) {
    const paths = questionsFor(kind).map((q) => q.path);
    assert.equal(paths[0], first[kind], kind);
    assert.equal(new Set(paths).size, 6, kind);
  }
  assert.deepEqual(questionsFor(undefined).map((q) => q.path), ['/v1/models', '/api/version', '/metrics', '/engines/ps', '/info', '/get_model_info']);
  assert.deepEqual(MODEL_RUNNER_ONLY.map((q) => q.path), ['/engines/ps']);
  // Nothing that loads or wakes a model is ever asked.
  for (const q of questionsFor(undefined)) assert.doesNotMatch(q.path, /slots|completion|chat|embed|generate|load/);
});

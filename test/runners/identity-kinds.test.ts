import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../helpers/fixtures.js';
import { modelNameFromPath, RunnerAnswerError } from '../../src/runners/identity.js';
import { vllmIdentity } from '../../src/runners/vllm.js';
import { parseInfo, tgiIdentity } from '../../src/runners/tgi.js';
import { parseModelInfo, sglangIdentity } from '../../src/runners/sglang.js';
import { scanPage } from '../../src/receivers/prometheus/identity.js';

const TEXT = 'text/plain; version=0.0.4';

test('vLLM: the model is its model_name label; no mode is told', () => {
  const facts = scanPage(readFixture('runners', 'vllm.prom'), TEXT);
  assert.deepEqual(facts, { kind: 'vllm', labelledModel: false, modelNames: ['Qwen/Qwen2.5-1.5B-Instruct'] });
  assert.deepEqual(vllmIdentity(facts.modelNames), { backend: 'vllm', model: 'Qwen/Qwen2.5-1.5B-Instruct' });
  assert.deepEqual(vllmIdentity([]), { backend: 'vllm' });
  assert.deepEqual(vllmIdentity(['  ']), { backend: 'vllm' });
});

test('TGI: GET /info names the model; TGI only generates', () => {
  const info = parseInfo(readFixture('runners', 'tgi-info.json'));
  assert.deepEqual(info, { modelId: 'meta-llama/Llama-3.1-8B-Instruct', version: '3.3.4' });
  assert.deepEqual(tgiIdentity(info), { backend: 'tgi', model: 'meta-llama/Llama-3.1-8B-Instruct', mode: 'completion' });
  assert.equal(scanPage(readFixture('runners', 'tgi.prom'), TEXT).kind, 'tgi');
  for (const body of ['', '[]', '{}', '{"model_id":""}', '{"model_id":7}']) assert.throws(() => parseInfo(body), RunnerAnswerError, body);
});

test('SGLang: the model_name label names it (model_path as fallback); is_generation tells the mode', () => {
  const facts = scanPage(readFixture('runners', 'sglang.prom'), TEXT);
  assert.equal(facts.kind, 'sglang');
  assert.deepEqual(facts.modelNames, ['meta-llama/Llama-3.2-1B-Instruct']);
  const info = parseModelInfo(readFixture('runners', 'sglang-get-model-info.json'));
  assert.deepEqual(sglangIdentity(facts.modelNames, info), { backend: 'sglang', model: 'meta-llama/Llama-3.2-1B-Instruct', mode: 'completion' });
  const embedding = parseModelInfo(readFixture('runners', 'sglang-get-model-info.embedding.json'));
  assert.deepEqual(sglangIdentity([], embedding), { backend: 'sglang', model: 'Alibaba-NLP/gte-Qwen2-1.5B-instruct', mode: 'embedding' });
  assert.deepEqual(sglangIdentity(facts.modelNames, undefined), { backend: 'sglang', model: 'meta-llama/Llama-3.2-1B-Instruct' });
  for (const body of ['', '[]', '{}', '{"is_generation":"yes"}']) assert.throws(() => parseModelInfo(body), RunnerAnswerError, body);
});

test('a page that labels its own series with model (Docker Model Runner) says so; llama.cpp pages carry no labels', () => {
  assert.deepEqual(scanPage(readFixture('runners', 'dmr-aggregated.prom'), TEXT), { kind: 'llamacpp', labelledModel: true, modelNames: [] });
  assert.deepEqual(scanPage(readFixture('llamacpp-real', 'completion.idle.metrics.prom'), TEXT), { kind: 'llamacpp', labelledModel: false, modelNames: [] });
  assert.deepEqual(scanPage(readFixture('runners', 'torchserve.prom'), TEXT).kind, undefined);
});

test('model file names', () => {
  assert.equal(modelNameFromPath('models/tiny-llama-rand.gguf'), 'tiny-llama-rand');
  assert.equal(modelNameFromPath('C:\\models\\Qwen2.5-0.5B-Q4_K_M.GGUF'), 'Qwen2.5-0.5B-Q4_K_M');
  assert.equal(modelNameFromPath('/'), undefined);
});

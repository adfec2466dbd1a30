import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunnerAnswerError } from '../../src/runners/identity.js';
import { parseLocalModels, parseRunningModels, parseVersion } from '../../src/runners/ollama.js';
import { readFixture } from '../helpers/fixtures.js';

test('/api/ps: the captured answer gives name, sizes, context length and expiry', () => {
  const [model, ...rest] = parseRunningModels(readFixture('runners', 'ollama-api-ps.json'));
  assert.equal(rest.length, 0);
  assert.deepEqual(model, {
    name: 'llama3.2:latest',
    sizeBytes: 3587280896,
    vramBytes: 3587280896,
    contextLength: 4096,
    expiresAtMs: Date.UTC(2026, 6, 22, 9, 46, 7, 512),
  });
});

test('/api/tags and /api/version: the documented answers', () => {
  assert.deepEqual(parseLocalModels(readFixture('runners', 'ollama-api-tags.json')), ['llama3.2:latest', 'deepseek-r1:latest', 'all-minilm:latest']);
  assert.equal(parseVersion(readFixture('runners', 'ollama-api-version.json')), '0.5.1');
});

test('a figure Ollama did not give, or gave as nonsense, is absent, not zero', () => {
  const [m] = parseRunningModels(
    JSON.stringify({
      models: [{ model: 'old:latest', size: -1, size_vram: '12', context_length: 0, expires_at: '0001-01-01T00:00:00Z' }],
    }),
  );
  assert.deepEqual(m, { name: 'old:latest', sizeBytes: undefined, vramBytes: undefined, contextLength: undefined, expiresAtMs: undefined });
});

test('entries without a name are skipped, a repeated name counts once; models null is none', () => {
  const models = parseRunningModels('{"models":[{"size":1},"x",null,{"name":"a","size":2},{"name":"a","size":3}]}');
  assert.deepEqual(models.map((m) => [m.name, m.sizeBytes]), [['a', 2]]);
  assert.deepEqual(parseRunningModels('{"models":null}'), []);
  assert.deepEqual(parseLocalModels('{}'), []);
});

test('garbage answers are errors that say which endpoint and why', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => parseRunningModels('<html>'), /\/api\/ps answered invalid JSON/],
    [() => parseRunningModels('[1,2]'), /\/api\/ps answered a list, not an object/],
    [() => parseRunningModels('{"models":"x"}'), /"models" as a string, not a list/],
    [() => parseLocalModels('"tags"'), /\/api\/tags answered a string/],
    [() => parseVersion('{"version":7}'), /\/api\/version answered without a "version" string/],
    [() => parseVersion('{}'), /without a "version" string/],
    [() => parseVersion(JSON.stringify({ version: 'v'.repeat(500) })), /500 characters/],
  ];
  for (const [run, message] of cases) {
    assert.throws(run, (e: unknown) => e instanceof RunnerAnswerError && message.test(e.message), String(message));
  }
});

/**
 * End to end against a real llama-server (llama.cpp v0.5.0, built once by
 * test/setup/llama-server.sh) serving the two tiny models our GGUF writer makes,
 * through the real collector process (dist/src/cli.js with a config):
 *
 *  - single mode: backend, model and mode come from the servers' own answers,
 *    and the counters equal the server's own after traffic;
 *  - a router with an API key, its models scraped on their children's own
 *    ports with the router's headers.
 *
 * The router's minute of scraping is in real-llama-router.test.ts, a file of
 * its own so that it runs beside these. Skipped, with the reason, only when the
 * binary cannot be built here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  countersMatch,
  ok,
  realLlamaServer,
  routerModels,
  seriesLabels,
  servedState,
  startCollector,
  startRouter,
  startSingle,
  TINY_BERT,
  TINY_LLAMA,
  type LlamaServerKit,
} from '../helpers/real-llama-server.js';
import { eventually } from '../helpers/processes.js';
import { GgufType, ggufNumber, ggufString, readGgufHeader } from '../../src/runners/gguf.js';

const kit = await realLlamaServer();
const skip = typeof kit === 'string' ? kit : false;
const SCRAPE = '1s';

test('single mode: backend, model and mode from each server\'s own answers, counters equal to its own', { skip }, async () => {
  const k = kit as LlamaServerKit;
  const [llama, bert] = await Promise.all([startSingle(k, { model: 'llama' }), startSingle(k, { model: 'bert' })]);
  // No attributes configured: all three come from the runners.
  const collector = await startCollector(`scrape_interval: ${SCRAPE}\ntargets:\n  - url: ${llama.url}/metrics\n  - url: ${bert.url}/metrics`);
  try {
    for (let i = 0; i < 2; i++) await ok(llama, '/completion', { prompt: 'Hello there, tell me', n_predict: 8 });
    await ok(bert, '/v1/embeddings', { input: ['one', 'two'] });
    const own = await countersMatch(collector.metrics, () => ok(llama, '/metrics'), TINY_LLAMA);
    assert.ok(own.get('llamacpp:tokens_predicted_total')! > 0, 'the completions moved the counters');
    await countersMatch(collector.metrics, () => ok(bert, '/metrics'), TINY_BERT);
    const body = await collector.metrics();
    assert.deepEqual(seriesLabels(body, TINY_LLAMA), [{ backend: 'llama.cpp', model: TINY_LLAMA, mode: 'completion' }]);
    assert.deepEqual(seriesLabels(body, TINY_BERT), [{ backend: 'llama.cpp', model: TINY_BERT, mode: 'embedding' }]);

    // Our GGUF reader agrees with llama.cpp about the files our writer made.
    for (const [server, path] of [[llama, k.models.llama], [bert, k.models.bert]] as const) {
      const meta = (JSON.parse(await ok(server, '/v1/models')) as { data: Array<{ meta: Record<string, number> }> }).data[0]!.meta;
      const header = await readGgufHeader(path);
      const arch = ggufString(header, 'general.architecture');
      const params = header.tensors.reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0);
      const vocab = header.kv.get('tokenizer.ggml.tokens');
      assert.deepEqual(
        { n_params: meta['n_params'], n_embd: meta['n_embd'], n_ctx_train: meta['n_ctx_train'], n_vocab: meta['n_vocab'] },
        { n_params: params, n_embd: ggufNumber(header, `${arch}.embedding_length`), n_ctx_train: ggufNumber(header, `${arch}.context_length`), n_vocab: vocab?.type === GgufType.ARRAY ? vocab.length : -1 },
        path,
      );
    }
  } finally {
    await collector.stop();
    await Promise.all([llama.stop(), bert.stop()]);
  }
  assert.doesNotMatch(collector.proc.output(), /runner identity unknown|"level":"error"/);
});

test('router with an API key: /models and each model scraped on its child\'s own port, with the router\'s headers', { skip }, async () => {
  const k = kit as LlamaServerKit;
  const key = `test-key-${process.pid}-${Date.now()}`;
  const router = await startRouter(k, { apiKey: key });
  // The key is needed: without it the router answers 401, even for /models.
  assert.equal((await fetch(`${router.url}/models`)).status, 401);
  const collector = await startCollector(
    `scrape_interval: ${SCRAPE}\nllamacpp_router_sd_configs:\n  - url: ${router.url}\n    refresh_interval: ${SCRAPE}\n    scrape_via: child\n    headers: { Authorization: 'Bearer \${env:ROUTER_KEY}' }`,
    { ROUTER_KEY: key },
  );
  try {
    await eventually(async () => (servedState(await collector.metrics(), TINY_LLAMA) === 'unloaded' ? true : undefined), 'the router\'s /models read with the key', 15_000, 250);
    await ok(router, '/models/load', { model: TINY_LLAMA });
    const entry = await eventually(async () => (await routerModels(router)).find((m) => m.id === TINY_LLAMA && m.state === 'loaded'), 'llama loaded', 30_000, 100);
    const port = Number(entry.args[entry.args.indexOf('--port') + 1]);
    assert.ok(port > 0 && port !== router.port, `child port ${port}`);
    for (let i = 0; i < 2; i++) await ok(router, '/completion', { model: TINY_LLAMA, prompt: 'Hello there, tell me', n_predict: 8 });
    const child = { ...router, request: async (path: string) => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: router.auth });
      return { status: r.status, text: await r.text() };
    } };
    await countersMatch(collector.metrics, () => ok(child, '/metrics'), TINY_LLAMA);
    assert.deepEqual(seriesLabels(await collector.metrics(), TINY_LLAMA), [{ backend: 'llama.cpp', model: TINY_LLAMA, mode: 'completion' }]);
    // Scraped on the child's port, not through the router.
    assert.match(collector.proc.output(), new RegExp(`"target added".*"target":"http://127\\.0\\.0\\.1:${port}/metrics"`));
    assert.doesNotMatch(collector.proc.output(), /"target added".*autoload=false/);
  } finally {
    await collector.stop();
    await router.stop();
  }
  assert.doesNotMatch(collector.proc.output(), /"level":"error"|discovery error|target is down/);
  assert.ok(!collector.proc.output().includes(key), 'the key never logged');
});

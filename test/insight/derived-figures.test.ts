/**
 * The derived llama.cpp figures from real captures (b4748 in llamacpp-real,
 * v0.5.0 in llamacpp-router), every expected value worked out by hand from the
 * numbers in the files, quoted in the comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../helpers/fixtures.js';
import { counterRates, type CounterSample } from '../../src/insight/counter-rates.js';
import { llamacppStatus, maxContextTokens, parseCommandLine, parseModels, parseProps, childPort, isLlamaServerCommandLine, LLAMACPP_FAMILIES } from '../../src/runners/llamacpp.js';

const b4748 = (name: string) => readFixture('llamacpp-real', name);
const v050 = (name: string) => readFixture('llamacpp-router', name);

/** A counter's value on a captured page, read with a regular expression (not the code under test). */
function value(page: string, family: string): number {
  const m = new RegExp(`^${family.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (\\S+)$`, 'm').exec(page);
  assert.ok(m, `${family} on the page`);
  return Number(m[1]);
}

function sample(page: string, atMs: number): CounterSample {
  return {
    atMs,
    promptTokens: value(page, LLAMACPP_FAMILIES.promptTokens),
    promptSeconds: value(page, LLAMACPP_FAMILIES.promptSeconds),
    predictedTokens: value(page, LLAMACPP_FAMILIES.predictedTokens),
    predictedSeconds: value(page, LLAMACPP_FAMILIES.predictedSeconds),
    decodeCalls: value(page, LLAMACPP_FAMILIES.decodeCalls),
  };
}

function close(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined, `${what} is known`);
  assert.ok(Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
}

test('b4748, after-traffic then final 10 s later: tokens/s and batch latency from the counters', () => {
  const rates = counterRates(sample(b4748('completion.after-traffic.metrics.prom'), 1_000), sample(b4748('completion.final.metrics.prom'), 11_000));
  // tokens_predicted_total 78 -> 12206: 12128 tokens in 10 s.
  close(rates.generationTokensPerSecond, 1212.8, 'generation tokens/s');
  // prompt_tokens_total 121 -> 1201: 1080 tokens in 10 s.
  close(rates.promptTokensPerSecond, 108, 'prompt tokens/s');
  // prompt_seconds_total 0.006 -> 0.385 (+0.379), tokens_predicted_seconds_total 0.044 -> 9.044 (+9.000),
  // n_decode_total 78 -> 6175 (+6097): 9.379 s / 6097 calls.
  close(rates.batchLatencySeconds, 9.379 / 6097, 'batch latency');
  // Not the throughput gauges: predicted_tokens_seconds on the final page is 1515.87, a per-request figure.
  assert.notEqual(Math.round(rates.generationTokensPerSecond!), 1516);
});

test('v0.5.0 router model, loaded then after 5 completions 5 s later; asleep then woken 2 s later', () => {
  const loaded = sample(v050('router.v0.5.0.b-llama-loaded.metrics.model-tiny-llama-rand.autoload-false.prom'), 0);
  const after = sample(v050('router.v0.5.0.c-after-5-completions.metrics.model-tiny-llama-rand.autoload-false.prom'), 5_000);
  const rates = counterRates(loaded, after);
  // 0 -> 60 generated tokens (5 × 12), 0 -> 10 prompt tokens (6 + 4 × 1, the rest cached).
  close(rates.generationTokensPerSecond, 12, 'generation tokens/s');
  close(rates.promptTokensPerSecond, 2, 'prompt tokens/s');
  // (0.004204 + 0.030053) s over 60 decode calls.
  close(rates.batchLatencySeconds, 0.034257 / 60, 'batch latency');

  const asleep = sample(v050('router.v0.5.0.f-llama-sleeping.metrics.model-tiny-llama-rand.autoload-false.prom'), 0);
  const woken = sample(v050('router.v0.5.0.f-wake.metrics.model-tiny-llama-rand.prom'), 2_000);
  const wake = counterRates(asleep, woken);
  // 72 -> 84 generated, 11 -> 17 prompt (the KV cache was dropped: the prompt ran in full), 72 -> 84 decodes.
  close(wake.generationTokensPerSecond, 6, 'generation tokens/s');
  close(wake.promptTokensPerSecond, 3, 'prompt tokens/s');
  // (0.005398 - 0.004944) + (0.039793 - 0.035728) = 0.000454 + 0.004065 = 0.004519 s over 12 calls.
  close(wake.batchLatencySeconds, 0.004519 / 12, 'batch latency');
});

test('no traffic between scrapes: 0 tokens/s (known), no batch latency (no decode call to time)', () => {
  const first = sample(b4748('completion.after-traffic.metrics.prom'), 0);
  // The rescrape has the same counters; only the throughput gauges were reset by the first scrape.
  const again = sample(b4748('completion.after-traffic.rescrape.metrics.prom'), 5_000);
  const rates = counterRates(first, again);
  assert.equal(rates.generationTokensPerSecond, 0);
  assert.equal(rates.promptTokensPerSecond, 0);
  assert.equal(rates.batchLatencySeconds, undefined);
});

test('the first scrape, a restart (counters going down) and no time passing give no rates', () => {
  const final = sample(b4748('completion.final.metrics.prom'), 0);
  const idle = sample(b4748('completion.idle.metrics.prom'), 5_000);
  assert.deepEqual(counterRates(undefined, final), { generationTokensPerSecond: undefined, promptTokensPerSecond: undefined, batchLatencySeconds: undefined });
  assert.deepEqual(counterRates(final, idle), { generationTokensPerSecond: undefined, promptTokensPerSecond: undefined, batchLatencySeconds: undefined });
  assert.deepEqual(counterRates(final, { ...final }), { generationTokensPerSecond: undefined, promptTokensPerSecond: undefined, batchLatencySeconds: undefined });
});

test('max context: n_ctx per slot × slots, agreeing with b4748\'s own KV usage ratio; a unified pool counts once', () => {
  const props = parseProps(b4748('completion.after-traffic.props.json'));
  // n_ctx 2048 per slot, total_slots 2 (-np 2 -c 4096).
  assert.equal(maxContextTokens(props, undefined), 4096);
  // b4748 says kv_cache_usage_ratio = kv_cache_tokens / the whole context: 101 / 4096 = 0.0246582 (6 digits).
  const page = b4748('completion.after-traffic.metrics.prom');
  assert.equal((value(page, 'llamacpp:kv_cache_tokens') / 4096).toPrecision(6), String(value(page, 'llamacpp:kv_cache_usage_ratio')));

  // v0.5.0 embedding server, run with -c 512 and no -np: 4 slots ("auto") sharing one unified pool of 512 cells.
  const embedding = parseProps(v050('single.v0.5.0.embedding.idle.props.json'));
  assert.deepEqual([embedding.totalSlots, embedding.slotContext], [4, 512]);
  const commandLine = parseCommandLine(['llama-server', '-m', 'models/tiny-bert-rand.gguf', '--embeddings', '-c', '512', '-t', '1']);
  assert.equal(maxContextTokens(embedding, commandLine), 512);
  assert.equal(maxContextTokens(embedding, parseCommandLine(['-c', '512', '-np', '4'])), 2048);
  assert.equal(maxContextTokens(embedding, parseCommandLine(['-np', '4', '--kv-unified'])), 512);
  // Without a command line (a server on another host) the slots are taken as separate.
  assert.equal(maxContextTokens(embedding, undefined), 2048);
});

test('a router child\'s command line from /models status.args: port, context, slots', () => {
  const models = parseModels(v050('router.v0.5.0.f-llama-sleeping.v1-models.json'));
  const llama = models.find((m) => m.id === 'tiny-llama-rand')!;
  // "--port","33561", "--ctx-size","4096", "--parallel","2".
  assert.equal(childPort(llama), 33561);
  // Only what the line says: no batch sizes or cache types (their defaults are not guessed).
  assert.deepEqual(parseCommandLine(llama.args), { port: 33561, ctxSize: 4096, parallel: 2 });
  // Its meta while asleep: n_params 4178240, size 8357120.
  assert.deepEqual([llama.params, llama.sizeBytes], [4178240, 8357120]);
  // The unloaded bert model has no meta: no size or parameters.
  const bert = models.find((m) => m.id === 'tiny-bert-rand')!;
  assert.deepEqual([bert.params, bert.sizeBytes], [undefined, undefined]);
  assert.deepEqual(parseCommandLine(['-b', '4096', '--ubatch-size=1024', '-ctk', 'Q8_0', '--cache-type-v=q4_0']), {
    batchSize: 4096,
    ubatchSize: 1024,
    cacheTypeK: 'q8_0',
    cacheTypeV: 'q4_0',
  });
});

test('status: sleeping from /props is_sleeping, running from requests_processing, idle; none without /props', () => {
  const asleep = parseProps(v050('router.v0.5.0.f-llama-sleeping.props.model-tiny-llama-rand.autoload-false.json'));
  assert.equal(asleep.sleeping, true);
  // A sleeping server's /metrics is a cached copy (requests_processing 0): is_sleeping decides.
  assert.equal(llamacppStatus(asleep, 0), 'sleeping');
  const awake = parseProps(v050('router.v0.5.0.c-after-5-completions.props.model-tiny-llama-rand.autoload-false.json'));
  assert.equal(llamacppStatus(awake, 0), 'idle');
  // b4748 in flight: requests_processing 2.
  const b4748Props = parseProps(b4748('completion.idle.props.json'));
  assert.equal(b4748Props.sleeping, undefined, 'b4748 has no idle sleep');
  assert.equal(llamacppStatus(b4748Props, value(b4748('completion.inflight.metrics.prom'), 'llamacpp:requests_processing')), 'running');
  assert.equal(llamacppStatus(undefined, 0), undefined);
  assert.equal(llamacppStatus(awake, undefined), undefined);
});

test('only llama-server\'s own command line is read for settings, not another program on the port', () => {
  assert.equal(isLlamaServerCommandLine(['/opt/llama.cpp/bin/llama-server', '--host', '127.0.0.1']), true);
  assert.equal(isLlamaServerCommandLine(['./server', '-c', '2048']), true);
  assert.equal(isLlamaServerCommandLine(['python3', 'launch.py', '-m', 'models/x.gguf']), true, 'a wrapper that passes the model on');
  assert.equal(isLlamaServerCommandLine(['node', '--test', 'dist/test/x.test.js']), false);
  assert.equal(isLlamaServerCommandLine(['nginx', '-c', '/etc/nginx.conf']), false);
});

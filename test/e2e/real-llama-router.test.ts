/**
 * A real llama.cpp v0.5.0 router over the two tiny models, through the real
 * collector, for a minute of scraping every second: each model labelled right,
 * its state series, counters equal to the server's own after traffic, an
 * unloaded model's series gone at once and new series when it loads again, a
 * sleeping model never woken, and no model ever loaded by a scrape (every state
 * `GET /models` shows in that minute is one the test caused). Skipped, with the
 * reason, only when the binary cannot be built here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  countersMatch,
  counters,
  ok,
  realLlamaServer,
  routerModels,
  seriesLabels,
  servedState,
  startCollector,
  startRouter,
  TINY_BERT,
  TINY_LLAMA,
  type LlamaServerKit,
  type StartedLlamaServer,
} from '../helpers/real-llama-server.js';
import { eventually } from '../helpers/processes.js';

const kit = await realLlamaServer();
const skip = typeof kit === 'string' ? kit : false;
const SCRAPE = '1s';

/**
 * Watches a router's `GET /models` (which never touches a child) every half
 * second, and records every state that the test did not allow at that moment:
 * a model loaded or woken by anything but the test.
 */
class RouterWatch {
  readonly violations: string[] = [];
  readonly failures: string[] = [];
  polls = 0;
  latest = new Map<string, string>();
  private readonly allowed = new Map<string, Set<string>>();
  private readonly t0 = Date.now();
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly server: StartedLlamaServer, initial: Record<string, string[]>) {
    for (const [m, states] of Object.entries(initial)) this.allowed.set(m, new Set(states));
    this.done = this.loop();
  }

  allow(model: string, ...states: string[]): void {
    this.allowed.set(model, new Set(states));
  }

  /** Waits until a poll (after this call) shows the model in `state`. */
  async seen(model: string, state: string, timeoutMs = 30_000): Promise<void> {
    const after = this.polls;
    await eventually(() => (this.polls > after && this.latest.get(model) === state ? true : undefined), `${model} ${state} in /models`, timeoutMs, 50);
  }

  get seconds(): number {
    return (Date.now() - this.t0) / 1000;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const models = await routerModels(this.server).catch((err: Error) => {
        // A lost connection says nothing about states; too many would leave the minute unwatched (see polls).
        this.failures.push(`${this.seconds.toFixed(1)}s GET /models failed: ${err.message}: ${String((err.cause as Error | undefined)?.message ?? '')}`);
        return undefined;
      });
      if (models === undefined) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const m of models) {
        this.latest.set(m.id, m.state);
        if (!this.allowed.get(m.id)?.has(m.state)) this.violations.push(`${this.seconds.toFixed(1)}s ${m.id} ${m.state} (allowed: ${[...(this.allowed.get(m.id) ?? [])].join(', ')})`);
      }
      this.polls++;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

test('router mode: a minute of scraping never loads or wakes a model; labels, states, counters, unload and reload', { skip }, async () => {
  const k = kit as LlamaServerKit;
  const SLEEP_S = 10;
  const router = await startRouter(k, { sleepIdleSeconds: SLEEP_S });
  const ids = (await routerModels(router)).map((m) => `${m.id} ${m.state}`);
  assert.deepEqual(ids, [`${TINY_BERT} unloaded`, `${TINY_LLAMA} unloaded`]);
  const watch = new RouterWatch(router, { [TINY_LLAMA]: ['unloaded'], [TINY_BERT]: ['unloaded'] });
  // /models is looked at every 3 s, the models scraped every second: after an unload, up to three scrapes
  // still ask for the model before the look drops it, and none of them may load it again.
  const collector = await startCollector(`scrape_interval: ${SCRAPE}\nllamacpp_router_sd_configs:\n  - url: ${router.url}\n    refresh_interval: 3s`);
  const own = (model: string) => () => ok(router, `/metrics?model=${model}&autoload=false`);
  try {
    // Nothing loaded: both models stated unloaded, no runner series.
    await eventually(async () => {
      const body = await collector.metrics();
      return servedState(body, TINY_LLAMA) === 'unloaded' && servedState(body, TINY_BERT) === 'unloaded' ? body : undefined;
    }, 'both models stated unloaded', 15_000, 250);
    assert.equal(counters(await collector.metrics(), {}, false).size, 0);

    // The test loads the llama model and sends it a few completions.
    watch.allow(TINY_LLAMA, 'unloaded', 'loading', 'loaded', 'sleeping');
    await ok(router, '/models/load', { model: TINY_LLAMA });
    await watch.seen(TINY_LLAMA, 'loaded');
    for (let i = 0; i < 3; i++) await ok(router, '/completion', { model: TINY_LLAMA, prompt: 'Hello there, tell me', n_predict: 8 });
    watch.allow(TINY_LLAMA, 'loaded', 'sleeping');
    const llamaCounters = await countersMatch(collector.metrics, own(TINY_LLAMA), TINY_LLAMA);
    assert.ok(llamaCounters.get('llamacpp:tokens_predicted_total')! > 0);
    let body = await collector.metrics();
    assert.deepEqual(seriesLabels(body, TINY_LLAMA), [{ backend: 'llama.cpp', model: TINY_LLAMA, mode: 'completion' }]);
    assert.equal(servedState(body, TINY_LLAMA), 'loaded');

    // The bert model, while the llama model idles towards sleep: loaded, used, unloaded, loaded again.
    watch.allow(TINY_BERT, 'unloaded', 'loading', 'loaded', 'sleeping');
    await ok(router, '/models/load', { model: TINY_BERT });
    await watch.seen(TINY_BERT, 'loaded');
    await ok(router, '/v1/embeddings', { model: TINY_BERT, input: ['one', 'two'] });
    const bertCounters = await countersMatch(collector.metrics, own(TINY_BERT), TINY_BERT);
    assert.ok(bertCounters.get('llamacpp:prompt_tokens_total')! > 0);
    assert.deepEqual(seriesLabels(await collector.metrics(), TINY_BERT), [{ backend: 'llama.cpp', model: TINY_BERT, mode: 'embedding' }]);

    await ok(router, '/models/unload', { model: TINY_BERT });
    await watch.seen(TINY_BERT, 'unloaded');
    watch.allow(TINY_BERT, 'unloaded');
    // Its series leave at once (a removed target's empty snapshot), not after metric_expiration (5 min).
    body = await eventually(async () => {
      const b = await collector.metrics();
      return seriesLabels(b, TINY_BERT).length === 0 && servedState(b, TINY_BERT) === 'unloaded' ? b : undefined;
    }, 'the unloaded model\'s series gone', 10_000, 100);
    assert.ok(seriesLabels(body, TINY_LLAMA).length > 0, 'the other model is still served');

    // A few scrapes with the bert model unloaded (the watch proves none loads it), then it loads again.
    await new Promise((r) => setTimeout(r, 3_000));
    watch.allow(TINY_BERT, 'unloaded', 'loading', 'loaded', 'sleeping');
    await ok(router, '/models/load', { model: TINY_BERT });
    await watch.seen(TINY_BERT, 'loaded');
    // A new child: new series, its counters from 0, not the old ones continued.
    await eventually(async () => {
      const c = counters(await collector.metrics(), { model: TINY_BERT });
      return c.size > 0 && c.get('llamacpp:prompt_tokens_total') === 0 ? true : undefined;
    }, 'new series for the reloaded model', 15_000, 250);

    // The llama model falls asleep on its own; it is still scraped, and never woken.
    await watch.seen(TINY_LLAMA, 'sleeping', (SLEEP_S + 20) * 1000);
    watch.allow(TINY_LLAMA, 'sleeping');
    await eventually(async () => (servedState(await collector.metrics(), TINY_LLAMA) === 'sleeping' ? true : undefined), 'sleeping stated', 10_000, 250);

    // The rest of the minute (and at least 10 scrapes of the sleeping model): /models shows only what the test did.
    const left = Math.max(60 - watch.seconds, 10);
    await new Promise((r) => setTimeout(r, left * 1000));
    body = await collector.metrics();
    assert.equal(servedState(body, TINY_LLAMA), 'sleeping');
    // Still scraped while asleep, from the child's cached counters: the same values as before it slept.
    const asleep = counters(body, { model: TINY_LLAMA }, false);
    for (const [name, v] of llamaCounters) assert.equal(asleep.get(name), v, name);
    const props = JSON.parse(await ok(router, `/props?model=${TINY_LLAMA}&autoload=false`)) as { is_sleeping?: boolean };
    assert.equal(props.is_sleeping, true);
  } finally {
    await watch.stop();
    await collector.stop();
    await router.stop();
  }
  assert.ok(watch.polls >= 60, `/models watched ${watch.polls} times; failures: ${watch.failures.join('; ')}`);
  if (watch.failures.length > 0) console.log(`# /models polls lost: ${watch.failures.join('; ')}`);
  assert.deepEqual(watch.violations, [], 'a model was loaded or woken by something other than the test');
  assert.deepEqual([...watch.latest.keys()].sort(), [TINY_BERT, TINY_LLAMA], 'the model list is unchanged');
  assert.doesNotMatch(collector.proc.output(), /"level":"error"|discovery error/);
});


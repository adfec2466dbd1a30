import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrometheusExporter } from '../../../src/exporters/prometheus/exporter.js';
import { parseFamilies } from '../../../src/prometheus/families.js';
import { counter, gauge, histogram, resourceBatch, testConfig, testContext } from './batches.js';
import { COMPLETION, EMBEDDING, EXPECTED_TEXT, bothBatches, completionBatch, embeddingBatch } from './fixtures.js';

function exporter(body: Record<string, unknown> = {}, now?: () => number): PrometheusExporter {
  return new PrometheusExporter(testConfig(body), testContext(), now ? { now } : {});
}

describe('prometheus exporter rendering', () => {
  it('writes one family block per name across resources, families sorted, names verbatim', () => {
    const e = exporter();
    e.consume(bothBatches());
    assert.equal(e.render(), EXPECTED_TEXT);
  });

  it('renders the same body whatever order the resources arrived in', () => {
    const a = exporter();
    a.consume([completionBatch()]);
    a.consume([embeddingBatch()]);
    const b = exporter();
    b.consume([embeddingBatch(), completionBatch()]);
    assert.equal(a.render(), b.render());
    assert.equal(a.render(), a.render());
  });

  it('writes HELP and TYPE once per family, and parses back', () => {
    const e = exporter();
    e.consume(bothBatches());
    const families = parseFamilies(e.render());
    assert.deepEqual(
      families.map((f) => [f.name, f.type]),
      [
        ['llamacpp:prompt_tokens_total', 'counter'],
        ['llamacpp:requests_processing', 'gauge'],
        ['rpc_duration_seconds', 'summary'],
        ['vllm:e2e_request_latency_seconds', 'histogram'],
      ],
    );
    const body = e.render();
    assert.equal(body.match(/^# TYPE llamacpp:prompt_tokens_total /gm)?.length, 1);
    assert.equal(body.match(/^# HELP llamacpp:prompt_tokens_total /gm)?.length, 1);
  });

  it('puts the resource labels on every series', () => {
    const e = exporter();
    e.consume(bothBatches());
    for (const family of parseFamilies(e.render())) {
      for (const sample of family.samples) {
        const labels = new Map<string, string>();
        for (let i = 0; i < sample.labels.length; i += 2) labels.set(sample.labels[i]!, sample.labels[i + 1]!);
        assert.equal(labels.get('backend'), 'llama.cpp', sample.name);
        assert.ok(labels.get('model'), sample.name);
        assert.ok(labels.get('mode'), sample.name);
      }
    }
  });

  it('renames a clashing runner label exported_<name> by default', () => {
    const e = exporter();
    e.consume([resourceBatch(COMPLETION, [gauge('g', 'G.', [[{ model: 'from-runner', slot: '0' }, 1]])])]);
    assert.equal(
      e.render(),
      '# HELP g G.\n# TYPE g gauge\n' +
        'g{exported_model="from-runner",slot="0",backend="llama.cpp",model="qwen3",mode="completion"} 1\n',
    );
  });

  it('keeps prefixing while the exported_ name is taken too', () => {
    const e = exporter();
    e.consume([resourceBatch(COMPLETION, [gauge('g', '', [[{ model: 'a', exported_model: 'b' }, 1]])])]);
    assert.equal(
      e.render(),
      '# TYPE g gauge\n' +
        'g{exported_exported_model="a",exported_model="b",backend="llama.cpp",model="qwen3",mode="completion"} 1\n',
    );
  });

  it("keeps the runner's label and drops ours with honor_labels", () => {
    const e = exporter({ honor_labels: true, const_labels: { slot: 'ours' } });
    e.consume([resourceBatch(COMPLETION, [gauge('g', 'G.', [[{ model: 'from-runner', slot: '0' }, 1]])])]);
    assert.equal(
      e.render(),
      '# HELP g G.\n# TYPE g gauge\ng{model="from-runner",slot="0",backend="llama.cpp",mode="completion"} 1\n',
    );
  });

  it('sanitizes dotted resource attribute names, omits absent and empty ones, appends const labels', () => {
    const e = exporter({
      resource_attributes_as_labels: ['service.name', 'model', 'mode', 'absent'],
      const_labels: { env: 'dev', replica: 2 },
    });
    e.consume([resourceBatch({ ...COMPLETION, mode: '' }, [gauge('g', 'G.', [[{}, 1]])])]);
    assert.equal(
      e.render(),
      '# HELP g G.\n# TYPE g gauge\ng{service_name="llama-server",model="qwen3",env="dev",replica="2"} 1\n',
    );
  });

  it('writes a series without any label bare', () => {
    const e = exporter({ resource_attributes_as_labels: [] });
    e.consume([resourceBatch({}, [gauge('up', 'Up.', [[{}, 1]])])]);
    assert.equal(e.render(), '# HELP up Up.\n# TYPE up gauge\nup 1\n');
  });

  it('escapes label values and help, and formats special values', () => {
    const e = exporter({ resource_attributes_as_labels: [] });
    e.consume([
      resourceBatch({}, [
        gauge('g', 'line one\nback\\slash', [
          [{ path: 'a"b\\c\nd' }, NaN],
          [{ path: 'up' }, Infinity],
          [{ path: 'down' }, -Infinity],
        ]),
      ]),
    ]);
    assert.equal(
      e.render(),
      '# HELP g line one\\nback\\\\slash\n# TYPE g gauge\n' +
        'g{path="a\\"b\\\\c\\nd"} NaN\ng{path="up"} +Inf\ng{path="down"} -Inf\n',
    );
  });

  it('derives TYPE from the point type when the receiver kept none', () => {
    const e = exporter({ resource_attributes_as_labels: [] });
    const up = counter('up_total', 'U.', [[{}, 3]]);
    const { prometheus: _, ...derivedCounter } = up;
    const nonMonotonic = { ...derivedCounter, descriptor: { ...up.descriptor, name: 'queue' }, isMonotonic: false };
    e.consume([resourceBatch({}, [derivedCounter as typeof up, nonMonotonic as typeof up])]);
    assert.deepEqual(
      parseFamilies(e.render()).map((f) => [f.name, f.type]),
      [
        ['queue', 'gauge'],
        ['up_total', 'counter'],
      ],
    );
  });

  it('takes TYPE and HELP from the first resource when resources disagree', () => {
    const e = exporter();
    e.consume([
      resourceBatch(EMBEDDING, [counter('x', 'From embedding.', [[{}, 2]])]),
      resourceBatch(COMPLETION, [gauge('x', 'From completion.', [[{}, 1]])]),
    ]);
    const [family] = parseFamilies(e.render());
    assert.equal(family!.type, 'gauge');
    assert.equal(family!.help, 'From completion.');
    assert.equal(family!.samples.length, 2);
  });

  it('writes a histogram named with _total as a histogram', () => {
    const e = exporter({ resource_attributes_as_labels: [] });
    e.consume([resourceBatch({}, [histogram('tokens_total', '', [[{}, { boundaries: [], counts: [4], sum: 9 }]])])]);
    assert.equal(
      e.render(),
      '# TYPE tokens_total histogram\ntokens_total_bucket{le="+Inf"} 4\ntokens_total_sum 9\ntokens_total_count 4\n',
    );
  });

  it('replaces a resource snapshot whole and shows new values for reused attribute objects', () => {
    const e = exporter();
    e.consume(bothBatches());
    e.render();
    const next = completionBatch(500);
    e.consume([{ ...next, scopeMetrics: [{ ...next.scopeMetrics[0]!, metrics: next.scopeMetrics[0]!.metrics.slice(0, 1) }] }]);
    const body = e.render();
    assert.match(body, /^llamacpp:prompt_tokens_total\{backend="llama.cpp",model="qwen3",mode="completion"\} 500$/m);
    assert.doesNotMatch(body, /model="qwen3",mode="completion"\} 1$/m, 'the old gauge went with the old snapshot');
    assert.doesNotMatch(body, /vllm:e2e/);
  });

  it('drops resources not updated within metric_expiration', () => {
    let now = 0;
    const e = exporter({ metric_expiration: '5m' }, () => now);
    e.consume([completionBatch()]);
    now = 200_000;
    e.consume([embeddingBatch()]);
    now = 299_999;
    assert.match(e.render(), /mode="completion"/);
    now = 300_000;
    const body = e.render();
    assert.doesNotMatch(body, /mode="completion"/);
    assert.match(body, /mode="embedding"/);
    now = 500_000;
    assert.equal(e.render(), '');
  });

  it('keeps a resource alive while it keeps sending, and forever with metric_expiration 0', () => {
    let now = 0;
    const live = exporter({ metric_expiration: '1m' }, () => now);
    const forever = exporter({ metric_expiration: 0 }, () => now);
    for (; now <= 600_000; now += 30_000) live.consume([completionBatch()]);
    forever.consume([completionBatch()]);
    now += 3_600_000;
    assert.match(forever.render(), /mode="completion"/);
    now = 600_000 + 59_000;
    assert.match(live.render(), /mode="completion"/);
  });

  it('filters families by name[] (render option)', () => {
    const e = exporter();
    e.consume(bothBatches());
    const names = new Set(['rpc_duration_seconds_count', 'llamacpp:requests_processing', 'unknown_metric']);
    assert.deepEqual(
      parseFamilies(e.render({ names })).map((f) => f.name),
      ['llamacpp:requests_processing', 'rpc_duration_seconds'],
    );
    assert.equal(e.render({ names: new Set(['nope']) }), '');
  });
});

describe('prometheus exporter OpenMetrics output', () => {
  it('names counter families without _total, samples with it, and ends with # EOF', () => {
    const e = exporter({ resource_attributes_as_labels: [] });
    e.consume([
      resourceBatch({}, [
        counter('llamacpp:tokens_predicted_total', 'Predicted.', [[{}, 7]]),
        counter('Requests2XX', 'Requests with 2xx status.', [[{ Level: 'Host' }, 3]]),
        { ...gauge('legacy', 'Untyped.', [[{}, 1]]), prometheus: { type: 'untyped' } },
      ]),
    ]);
    assert.equal(
      e.render({ format: 'openmetrics' }),
      '# HELP Requests2XX Requests with 2xx status.\n# TYPE Requests2XX unknown\nRequests2XX{Level="Host"} 3\n' +
        '# HELP legacy Untyped.\n# TYPE legacy unknown\nlegacy 1\n' +
        '# HELP llamacpp:tokens_predicted Predicted.\n# TYPE llamacpp:tokens_predicted counter\nllamacpp:tokens_predicted_total 7\n' +
        '# EOF\n',
    );
    assert.match(e.render({ format: 'text' }), /^# TYPE legacy untyped$/m);
  });

  it('keeps every counter and info sample name verbatim, writing unsuffixed ones as unknown', () => {
    const e = exporter({ resource_attributes_as_labels: [] });
    e.consume([
      resourceBatch({}, [
        counter('Requests2XX', 'Requests with 2xx status.', [[{ Level: 'Host' }, 3]]),
        counter('llamacpp:prompt_tokens_total', 'Prompt tokens.', [[{}, 120]]),
        { ...gauge('vllm:cache_config_info', 'Cache config.', [[{ block_size: '16' }, 1]]), prometheus: { type: 'info' } },
        { ...gauge('build', 'Info without the suffix.', [[{ version: '1' }, 1]]), prometheus: { type: 'info' } },
      ]),
    ]);
    const body = e.render({ format: 'openmetrics' });
    const families = parseFamilies(body, { openMetrics: true });
    assert.deepEqual(
      families.map((f) => [f.name, f.type, f.samples.map((s) => s.name)]),
      [
        ['Requests2XX', 'unknown', ['Requests2XX']],
        ['build', 'unknown', ['build']],
        ['llamacpp:prompt_tokens', 'counter', ['llamacpp:prompt_tokens_total']],
        ['vllm:cache_config', 'info', ['vllm:cache_config_info']],
      ],
    );
    // Text format 0.0.4 is unchanged: every type as declared, names as they are.
    assert.match(e.render({ format: 'text' }), /^# TYPE Requests2XX counter\nRequests2XX\{Level="Host"\} 3$/m);
  });

  it('round-trips through the OpenMetrics parser', () => {
    const e = exporter();
    e.consume(bothBatches());
    const families = parseFamilies(e.render({ format: 'openmetrics' }), { openMetrics: true });
    assert.deepEqual(
      families.map((f) => [f.name, f.type, f.samples.length]),
      [
        ['llamacpp:prompt_tokens', 'counter', 2],
        ['llamacpp:requests_processing', 'gauge', 2],
        ['rpc_duration_seconds', 'summary', 4],
        ['vllm:e2e_request_latency_seconds', 'histogram', 5],
      ],
    );
  });
});

describe('prometheus exporter own metrics', () => {
  it('serves the collector’s own metrics as one more resource', () => {
    const context = testContext();
    const e = new PrometheusExporter(testConfig({ include_own_metrics: true }), context);
    e.consume(bothBatches());
    e.render();
    const body = e.render();
    assert.match(body, /^runner_metrics_exporter_prometheus_scrapes_total\{exporter="prometheus\/test"\} 2$/m);
    assert.match(body, /^runner_metrics_exporter_prometheus_series\{exporter="prometheus\/test"\} 6$/m);
    assert.match(body, /^runner_metrics_exporter_prometheus_render_seconds\{exporter="prometheus\/test"\} [0-9.e-]+$/m);
    assert.equal(body.match(/^# TYPE runner_metrics_exporter_prometheus_scrapes_total counter$/gm)?.length, 1);
  });

  it('leaves them out with include_own_metrics: false', () => {
    const e = exporter({ include_own_metrics: false });
    e.consume(bothBatches());
    assert.doesNotMatch(e.render(), /runner_metrics_/);
  });
});

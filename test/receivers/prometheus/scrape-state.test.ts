import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';
import { ScrapeError } from '../../../src/receivers/prometheus/fetch.js';
import { holdPoints } from '../../../src/model/point-holds.js';
import { DataPointType, SUMMARY, hrTimeToMillis, type Metric, type ResourceBatch } from '../../../src/model/batch.js';
import { readFixture } from '../../helpers/fixtures.js';
import { metricNamed } from '../../helpers/collect.js';

const TEXT = 'text/plain; version=0.0.4';
const resource = resourceFromAttributes({ backend: 'llama.cpp', model: 'm', mode: 'completion' });

function get(rb: ResourceBatch, name: string): Metric {
  const m = metricNamed(rb, name);
  assert.ok(m, `metric ${name} present`);
  return m;
}

test('llama.cpp page becomes counters and gauges with names kept verbatim', () => {
  const state = new ScrapeState(resource);
  const { batch, samples } = state.convert(readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom'), TEXT, 1_000_000);
  assert.equal(batch.resource, resource);
  const prompt = get(batch, 'llamacpp:prompt_tokens_total');
  assert.equal(prompt.dataPointType, DataPointType.SUM);
  assert.equal(prompt.prometheus?.type, 'counter');
  assert.ok(samples >= 10);
  const processing = get(batch, 'llamacpp:requests_processing');
  assert.equal(processing.dataPointType, DataPointType.GAUGE);
});

test('llama.cpp quirk: n_tokens_max and n_busy_slots_per_decode are gauges', () => {
  const state = new ScrapeState(resource);
  const { batch } = state.convert(readFixture('runners', 'llamacpp-completion.prom'), TEXT, 1_000_000);
  for (const name of ['llamacpp:n_tokens_max', 'llamacpp:n_busy_slots_per_decode']) {
    const m = get(batch, name);
    assert.equal(m.dataPointType, DataPointType.GAUGE, name);
    assert.equal(m.prometheus?.type, 'gauge', name);
  }
  const decode = get(batch, 'llamacpp:n_decode_total');
  assert.equal(decode.dataPointType, DataPointType.SUM);
  assert.equal(decode.dataPoints[0]!.value, 2301);
});

test('unchanged series reuse their attributes object; start time kept across scrapes', () => {
  const state = new ScrapeState(resource);
  const page = (v: number) => `# TYPE c counter\nc{a="1"} ${v}\n# TYPE g gauge\ng{a="1"} ${v}\n`;
  const first = state.convert(page(5), TEXT, 1_000_000).batch;
  const second = state.convert(page(7), TEXT, 1_005_000).batch;
  const p1 = get(first, 'c').dataPoints[0]!;
  const p2 = get(second, 'c').dataPoints[0]!;
  assert.equal(p1.attributes, p2.attributes);
  assert.deepEqual(p2.attributes, { a: '1' });
  assert.equal(p2.value, 7);
  assert.equal(hrTimeToMillis(p2.startTime), 1_000_000);
  assert.equal(hrTimeToMillis(p2.endTime), 1_005_000);
  assert.equal(state.convert(page(7), TEXT, 1_010_000).seriesAdded, 0);
});

test('counter reset (runner restart) moves the start time to the scrape that saw it', () => {
  const state = new ScrapeState(resource);
  const page = (v: number) => `# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total ${v}\n`;
  state.convert(page(100), TEXT, 1_000_000);
  state.convert(page(150), TEXT, 1_005_000);
  const after = state.convert(page(3), TEXT, 1_010_000).batch;
  const p = get(after, 'llamacpp:prompt_tokens_total').dataPoints[0]!;
  assert.equal(p.value, 3);
  assert.equal(hrTimeToMillis(p.startTime), 1_010_000);
  const later = state.convert(page(9), TEXT, 1_015_000).batch;
  assert.equal(hrTimeToMillis(get(later, 'llamacpp:prompt_tokens_total').dataPoints[0]!.startTime), 1_010_000);
});

test('gauges going down are not resets', () => {
  const state = new ScrapeState(resource);
  state.convert('# TYPE g gauge\ng 10\n', TEXT, 1_000_000);
  const b = state.convert('# TYPE g gauge\ng 1\n', TEXT, 1_005_000).batch;
  assert.equal(hrTimeToMillis(get(b, 'g').dataPoints[0]!.startTime), 1_000_000);
});

test('histogram: cumulative buckets become per-bucket counts, sum and count kept', () => {
  const state = new ScrapeState(resource);
  const page = [
    '# TYPE lat histogram',
    'lat_bucket{route="/a",le="0.1"} 2',
    'lat_bucket{route="/a",le="1"} 5',
    'lat_bucket{route="/a",le="+Inf"} 6',
    'lat_sum{route="/a"} 3.5',
    'lat_count{route="/a"} 6',
    '',
  ].join('\n');
  const m = get(state.convert(page, TEXT, 1_000_000).batch, 'lat');
  assert.equal(m.dataPointType, DataPointType.HISTOGRAM);
  const p = m.dataPoints[0]!;
  assert.deepEqual(p.attributes, { route: '/a' });
  assert.deepEqual(p.value, {
    buckets: { boundaries: [0.1, 1], counts: [2, 3, 1] },
    boundaryLabels: ['0.1', '1'],
    sum: 3.5,
    count: 6,
  });
});

test('histogram buckets that go down or are NaN give zero counts, never negative ones', () => {
  const state = new ScrapeState(resource);
  const page = [
    '# TYPE h histogram',
    'h_bucket{le="0.5"} 2',
    'h_bucket{le="1"} 5',
    'h_bucket{le="2"} 4',
    'h_bucket{le="4"} NaN',
    'h_bucket{le="8"} 6',
    'h_bucket{le="+Inf"} 3',
    'h_sum 7',
    'h_count 3',
    '',
  ].join('\n');
  const p = get(state.convert(page, TEXT, 1_000_000).batch, 'h').dataPoints[0]!;
  const value = p.value as { buckets: { boundaries: number[]; counts: number[] }; count: number };
  assert.deepEqual(value.buckets.boundaries, [0.5, 1, 2, 4, 8]);
  assert.deepEqual(value.buckets.counts, [2, 3, 0, 0, 1, 0]);
  assert.equal(value.count, 3);
});

test('histogram reset detected from its count', () => {
  const state = new ScrapeState(resource);
  const page = (n: number) => `# TYPE h histogram\nh_bucket{le="1"} ${n}\nh_bucket{le="+Inf"} ${n}\nh_sum ${n}\nh_count ${n}\n`;
  state.convert(page(10), TEXT, 1_000_000);
  const b = state.convert(page(2), TEXT, 1_005_000).batch;
  assert.equal(hrTimeToMillis(get(b, 'h').dataPoints[0]!.startTime), 1_005_000);
});

test('summary (TGI) maps to the SUMMARY point type with quantiles, sum and count', () => {
  const state = new ScrapeState(resource);
  const { batch } = state.convert(readFixture('runners', 'tgi.prom'), TEXT, 1_000_000);
  const summaries = batch.scopeMetrics[0]!.metrics.filter((m) => m.dataPointType === SUMMARY);
  assert.ok(summaries.length >= 1, 'TGI page has a summary');
  const p = summaries[0]!.dataPoints[0]! as unknown as { value: { quantiles: Array<{ quantile: number }>; count: number } };
  assert.ok(p.value.quantiles.length > 0);
  assert.ok(p.value.quantiles.every((q) => q.quantile >= 0 && q.quantile <= 1));
});

test('vLLM _created gauges give the counters their true start time', () => {
  const state = new ScrapeState(resource);
  const { batch } = state.convert(readFixture('runners', 'vllm.prom'), TEXT, 1_900_000_000_000);
  const counter = get(batch, 'vllm:prompt_tokens_total');
  assert.equal(counter.dataPointType, DataPointType.SUM);
  const start = hrTimeToMillis(counter.dataPoints[0]!.startTime);
  assert.ok(Math.abs(start - 1.758000000123456e12) < 1, `start ${start}`);
  // The _created family itself is kept verbatim, as the runner exposed it.
  assert.equal(get(batch, 'vllm:prompt_tokens_created').dataPointType, DataPointType.GAUGE);
});

test('TorchServe trailing commas and empty families', () => {
  const state = new ScrapeState(resource);
  const { batch } = state.convert(readFixture('runners', 'torchserve.prom'), TEXT, 1_000_000);
  const m = get(batch, 'ts_inference_requests_total');
  assert.deepEqual(m.dataPoints[0]!.attributes, { model_name: 'resnet18', model_version: 'default', hostname: 'inference-host-1' });
  assert.equal(m.dataPoints[0]!.value, 3);
  assert.equal(metricNamed(batch, 'Requests5XX'), undefined, 'a family with no samples has no points to send');
});

test('a bad line fails the whole scrape and leaves the previous state untouched', () => {
  const state = new ScrapeState(resource);
  state.convert('# TYPE c counter\nc 5\n', TEXT, 1_000_000);
  assert.throws(
    () => state.convert('# TYPE c counter\nc 1\nnew_series{a="1"} 1\nc{oops 3\n', TEXT, 1_005_000),
    (err: unknown) => err instanceof ScrapeError && err.reason === 'parse' && /line 4/.test(err.message),
  );
  assert.equal(state.seriesCount, 1, 'series from the failed page were rolled back');
  // The failed page's lower value must not have been taken as a reset.
  const b = state.convert('# TYPE c counter\nc 6\n', TEXT, 1_010_000).batch;
  assert.equal(hrTimeToMillis(get(b, 'c').dataPoints[0]!.startTime), 1_000_000);
});

test('a series repeated in one page keeps its first sample; the repeats are counted', () => {
  const state = new ScrapeState(resource);
  const page = [
    '# TYPE a counter',
    'a 1',
    'a 2',
    '# TYPE g gauge',
    'g{x="1"} 5',
    'g{x="2"} 6',
    'g{x="1"} 7',
    '# TYPE h histogram',
    'h_bucket{le="1"} 1',
    'h_bucket{le="1"} 9',
    'h_bucket{le="+Inf"} 2',
    'h_count 2',
    '',
  ].join('\n');
  for (const at of [1_000_000, 1_005_000]) {
    const { batch, samples, duplicates } = state.convert(page, TEXT, at);
    assert.equal(duplicates, 3);
    assert.equal(samples, 9, 'scrape_samples_scraped counts every sample line, as in Prometheus');
    assert.deepEqual(get(batch, 'a').dataPoints.map((p) => p.value), [1]);
    assert.deepEqual(get(batch, 'g').dataPoints.map((p) => [p.attributes, p.value]), [[{ x: '1' }, 5], [{ x: '2' }, 6]]);
    const h = get(batch, 'h').dataPoints;
    assert.equal(h.length, 1);
    assert.deepEqual((h[0]!.value as { buckets: unknown }).buckets, { boundaries: [1], counts: [1, 1] });
  }
  // A page that failed to parse leaves no marks behind: the next page has no false repeats.
  assert.throws(() => state.convert('a 1\ng{x="1"} 1\nbroken{\n', TEXT, 1_010_000));
  assert.equal(state.convert('a 3\ng{x="1"} 8\n', TEXT, 1_015_000).duplicates, 0);
});

test('sample_limit fails the scrape', () => {
  const state = new ScrapeState(resource, 2);
  assert.throws(() => state.convert('a 1\nb 1\nc 1\n', TEXT, 1), (e: unknown) => e instanceof ScrapeError && e.reason === 'sample_limit');
});

test('series that disappear are forgotten', () => {
  const state = new ScrapeState(resource);
  state.convert('a 1\nb 1\n', TEXT, 1);
  assert.equal(state.seriesCount, 2);
  const { batch } = state.convert('a 2\n', TEXT, 2);
  assert.equal(state.seriesCount, 1);
  assert.equal(metricNamed(batch, 'b'), undefined);
});

test('every runner fixture converts', () => {
  for (const f of ['dmr-aggregated.prom', 'llamacpp-embedding.prom', 'llamacpp-legacy-b4750.prom', 'sglang.prom', 'triton.prom', 'torchserve-filtered.prom']) {
    const state = new ScrapeState(resource);
    const { batch, samples } = state.convert(readFixture('runners', f), TEXT, 1_000_000);
    assert.ok(samples > 0, f);
    assert.ok(batch.scopeMetrics[0]!.metrics.length > 0, f);
  }
});

test('cached series do not keep the pages they were first seen in alive', async () => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  const state = new ScrapeState(resource);
  const padding = `# ${'x'.repeat(2_000_000)}\n`;
  const lines: string[] = [];
  gc();
  const before = process.memoryUsage().heapUsed;
  // Every scrape adds one series with a long key and long label value; each page is ~2 MB.
  for (let i = 0; i < 40; i++) {
    lines.push(`llamacpp:requests_processing{model="a-rather-long-model-name-${i}",slot="slot-number-${i}"} ${i}`);
    state.convert(padding + lines.join('\n') + '\n', TEXT, 1_000_000 + i);
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(state.seriesCount, 40);
  // Pinning the pages would hold ~80 MB; the series themselves need a few KB.
  assert.ok(grown < 10_000_000, `heap grew by ${grown} bytes`);
});

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

function startMs(m: Metric, i = 0): number {
  return hrTimeToMillis(m.dataPoints[i]!.startTime);
}

test('OpenMetrics counters are named as Prometheus stores their samples, _created giving the start', () => {
  const state = new ScrapeState(resource);
  const { batch } = state.convert(readFixture('prometheus-textparse', 'alltypes.5mfs.om.txt'), OPENMETRICS, 1_900_000_000_000);
  const names = batch.scopeMetrics[0]!.metrics.map((m) => m.descriptor.name);
  assert.deepEqual(names, [
    'go_build_info',
    'promhttp_metric_handler_errors_total',
    'rpc_durations_histogram_seconds',
    'rpc_durations_seconds',
    'rpc_requests_total',
  ]);
  const errors = get(batch, 'promhttp_metric_handler_errors_total');
  assert.equal(errors.dataPointType, DataPointType.SUM);
  assert.equal(errors.descriptor.description, 'Total number of internal errors encountered by the promhttp metric handler.');
  assert.deepEqual(errors.dataPoints.map((p) => p.attributes), [{ cause: 'encoding' }, { cause: 'gathering' }]);
  assert.equal(startMs(errors, 0), 1.726839813016397e12);
  assert.equal(startMs(errors, 1), 1.726839813016395e12);
  const requests = get(batch, 'rpc_requests_total');
  assert.deepEqual(requests.dataPoints.map((p) => p.value), [22, 15, 11]);
  assert.equal(startMs(requests, 1), 1.726839813016717e12);
  assert.equal(startMs(get(batch, 'rpc_durations_histogram_seconds')), 1.726839813016302e12);
  assert.equal(startMs(get(batch, 'rpc_durations_seconds'), 2), 1.72683981301684e12);
});

test('a vLLM page in OpenMetrics gives the same names as its text format page', () => {
  const page = [
    '# HELP vllm:prompt_tokens Number of prefill tokens processed.',
    '# TYPE vllm:prompt_tokens counter',
    'vllm:prompt_tokens_total{engine="0",model_name="m"} 48211.0',
    'vllm:prompt_tokens_created{engine="0",model_name="m"} 1.758000000123456e+09',
    '# HELP vllm:cache_config Information of the LLMEngine CacheConfig',
    '# TYPE vllm:cache_config info',
    'vllm:cache_config_info{block_size="16"} 1.0',
    '# HELP vllm:iteration_tokens_total Histogram of number of tokens per engine_step.',
    '# TYPE vllm:iteration_tokens_total histogram',
    'vllm:iteration_tokens_total_bucket{engine="0",le="1.0"} 3.0',
    'vllm:iteration_tokens_total_bucket{engine="0",le="+Inf"} 5.0',
    'vllm:iteration_tokens_total_count{engine="0"} 5.0',
    'vllm:iteration_tokens_total_sum{engine="0"} 50.0',
    'vllm:iteration_tokens_total_created{engine="0"} 1.7580000005e+09',
    '# EOF',
    '',
  ].join('\n');
  const state = new ScrapeState(resource);
  const { batch } = state.convert(page, OPENMETRICS, 1_900_000_000_000);
  const names = batch.scopeMetrics[0]!.metrics.map((m) => m.descriptor.name);
  assert.deepEqual(names, ['vllm:prompt_tokens_total', 'vllm:cache_config_info', 'vllm:iteration_tokens_total']);
  const prompt = get(batch, 'vllm:prompt_tokens_total');
  assert.equal(prompt.prometheus?.type, 'counter');
  assert.equal(prompt.descriptor.description, 'Number of prefill tokens processed.');
  assert.equal(prompt.dataPoints[0]!.value, 48211);
  assert.equal(startMs(prompt), 1.758000000123456e12);
  const info = get(batch, 'vllm:cache_config_info');
  assert.equal(info.prometheus?.type, 'info');
  assert.equal(info.descriptor.description, 'Information of the LLMEngine CacheConfig');
  assert.equal(startMs(get(batch, 'vllm:iteration_tokens_total')), 1.7580000005e12);

  // The text format page names them alike, and its separate _created gauges give the same starts.
  const text = new ScrapeState(resource).convert(readFixture('runners', 'vllm.prom'), TEXT, 1_900_000_000_000).batch;
  assert.equal(startMs(get(text, 'vllm:prompt_tokens_total')), 1.758000000123456e12);
  assert.equal(startMs(get(text, 'vllm:iteration_tokens_total')), 1.758000000123456e12);
});

test('text format: a counter sample is named as written, whatever name its TYPE line gave', () => {
  const page = [
    '# HELP a Declared without the suffix.',
    '# TYPE a counter',
    'a_total 1',
    '# TYPE b_total counter',
    'b_total 2',
    '# TYPE Requests2XX counter',
    'Requests2XX{Level="Host"} 3',
    '',
  ].join('\n');
  const { batch } = new ScrapeState(resource).convert(page, TEXT, 1_000_000);
  assert.deepEqual(
    batch.scopeMetrics[0]!.metrics.map((m) => [m.descriptor.name, m.prometheus?.type, m.dataPoints[0]!.value]),
    [
      ['a_total', 'counter', 1],
      ['b_total', 'counter', 2],
      ['Requests2XX', 'counter', 3],
    ],
  );
  assert.equal(get(batch, 'a_total').descriptor.description, 'Declared without the suffix.');
});

test('_created start times are exact to the microsecond (no float noise in the nanoseconds)', async () => {
  const { createdToHrTime } = await import('../../../src/receivers/prometheus/scrape-state.js');
  assert.deepEqual(createdToHrTime(1.758000000123456e9), [1758000000, 123456000]);
  assert.deepEqual(createdToHrTime(1758000000), [1758000000, 0]);
  assert.deepEqual(createdToHrTime(1758000000.9999997), [1758000001, 0]);
});

test('a batch keeps its values while the next page is read and handed on; points are reused every other scrape', () => {
  const state = new ScrapeState(resource);
  const page = (v: number, extra = '') => `# TYPE c counter\nc{a="1"} ${v}\nc{a="2"} ${v + 1}\n# TYPE g gauge\ng ${v * 2}\n${extra}`;
  const values = (b: ResourceBatch) => ['c', 'g'].flatMap((n) => get(b, n).dataPoints.map((p) => [n, p.value, hrTimeToMillis(p.endTime)]));
  const first = state.convert(page(1), TEXT, 1_000).batch;
  const firstSeen = values(first);
  const second = state.convert(page(2), TEXT, 2_000).batch;
  assert.deepEqual(values(first), firstSeen, 'the next scrape leaves the batch exporters hold as it was');
  // A failed page changes nothing either.
  assert.throws(() => state.convert(page(9, 'bad line here\n'), TEXT, 2_500));
  assert.deepEqual(values(first), firstSeen);
  const secondSeen = values(second);
  const third = state.convert(page(3, 'c{a="3"} 0\n'), TEXT, 3_000).batch;
  assert.deepEqual(values(second), secondSeen);
  assert.deepEqual(values(third), [['c', 3, 3_000], ['c', 4, 3_000], ['c', 0, 3_000], ['g', 6, 3_000]]);
  // The scrape after next writes into the first batch's points: that is the bound of the contract.
  assert.equal(get(third, 'g').dataPoints[0], get(first, 'g').dataPoints[0]);
  assert.notEqual(get(third, 'g').dataPoints[0], get(second, 'g').dataPoints[0]);
});

/** A histogram, a summary and a gauge, every figure a multiple of `v`. */
const threeTypesPage = (v: number) =>
  [
    '# TYPE h histogram',
    `h_bucket{le="0.5"} ${v}`,
    `h_bucket{le="+Inf"} ${v * 3}`,
    `h_sum ${v * 10}`,
    `h_count ${v * 3}`,
    '# TYPE s summary',
    `s{quantile="0.5"} ${v / 2}`,
    `s{quantile="0.9"} ${v}`,
    `s_sum ${v * 7}`,
    `s_count ${v * 5}`,
    '# TYPE g gauge',
    `g ${v}`,
    '',
  ].join('\n');

/** Everything a consumer can read of a batch, as plain data. */
const seen = (b: ResourceBatch) => JSON.parse(JSON.stringify(b.scopeMetrics.map((s) => s.metrics.map((m) => [m.descriptor.name, m.dataPoints]))));

test('histograms, summaries, metrics and the batch itself follow the same contract: unchanged until the scrape after next', () => {
  const state = new ScrapeState(resource);
  const page = threeTypesPage;
  const first = state.convert(page(1), TEXT, 1_000).batch;
  const firstSeen = seen(first);
  assert.deepEqual(get(first, 'h').dataPoints[0]!.value, { buckets: { boundaries: [0.5], counts: [1, 2] }, boundaryLabels: ['0.5'], sum: 10, count: 3 });
  const second = state.convert(page(2), TEXT, 2_000).batch;
  assert.deepEqual(seen(first), firstSeen, 'the next scrape leaves every part of the batch as it was');
  const secondSeen = seen(second);
  const third = state.convert(page(4), TEXT, 3_000).batch;
  assert.deepEqual(seen(second), secondSeen);
  // The scrape after next writes into the first batch's objects, all of them: nothing is made anew.
  assert.equal(third, first);
  for (const name of ['h', 's', 'g']) {
    assert.equal(get(third, name), get(first, name), name);
    assert.equal(get(third, name).dataPoints[0], get(first, name).dataPoints[0], name);
    assert.notEqual(get(third, name).dataPoints[0], get(second, name).dataPoints[0], name);
  }
  assert.deepEqual(get(third, 'h').dataPoints[0]!.value, { buckets: { boundaries: [0.5], counts: [4, 8] }, boundaryLabels: ['0.5'], sum: 40, count: 12 });
  assert.deepEqual(get(third, 's').dataPoints[0]!.value, {
    sum: 28,
    count: 20,
    quantiles: [
      { quantile: 0.5, value: 2, label: '0.5' },
      { quantile: 0.9, value: 4, label: '0.9' },
    ],
  });
});

test('while points are held, the scrape after next makes its objects anew and leaves the held batch as it was', () => {
  const state = new ScrapeState(resource);
  const page = threeTypesPage;
  const first = state.convert(page(1), TEXT, 1_000).batch;
  const firstSeen = seen(first);
  // An exporter takes the newest batch and holds it while it encodes piece by piece.
  const release = holdPoints();
  let third: ResourceBatch;
  try {
    state.convert(page(2), TEXT, 2_000);
    third = state.convert(page(4), TEXT, 3_000).batch;
  } finally {
    release();
  }
  assert.deepEqual(seen(first), firstSeen, 'the held batch keeps the first scrape\'s figures');
  assert.notEqual(third, first);
  for (const name of ['h', 's', 'g']) {
    assert.notEqual(get(third, name), get(first, name), name);
    assert.notEqual(get(third, name).dataPoints, get(first, name).dataPoints, name);
    assert.notEqual(get(third, name).dataPoints[0], get(first, name).dataPoints[0], name);
  }
  assert.deepEqual(get(third, 'g').dataPoints[0]!.value, 4);
  assert.deepEqual(get(third, 'h').dataPoints[0]!.value, { buckets: { boundaries: [0.5], counts: [4, 8] }, boundaryLabels: ['0.5'], sum: 40, count: 12 });
  // Released, the next scrapes take turns in their objects again: the fifth rewrites the third's.
  state.convert(page(5), TEXT, 4_000);
  const fifth = state.convert(page(6), TEXT, 5_000).batch;
  assert.equal(fifth, third);
  assert.equal(get(fifth, 'g').dataPoints[0], get(third, 'g').dataPoints[0]);
  assert.deepEqual(seen(first), firstSeen);
});

test('a metric whose help or type changes is a new Metric; one that stays the same is reused two scrapes on', () => {
  const state = new ScrapeState(resource);
  const page = (help: string) => `# HELP g ${help}\n# TYPE g gauge\ng 1\n`;
  // Each scrape's metric, taken when handed on: the batch object itself is rewritten two scrapes on.
  const metrics = ['one', 'one', 'one', 'two'].map((help, i) => get(state.convert(page(help), TEXT, 1_000 * (i + 1)).batch, 'g'));
  assert.equal(metrics[2], metrics[0]);
  assert.notEqual(metrics[3], metrics[1]);
  assert.equal(metrics[3]!.descriptor.description, 'two');
  assert.equal(metrics[1]!.descriptor.description, 'one', 'the metric of two scrapes before is left as it was');
});

test('a family whose type changes between scrapes gets points and a Metric of the new type, its reused objects notwithstanding', () => {
  const state = new ScrapeState(resource);
  const histogram = (v: number) => `# TYPE x histogram\nx_bucket{le="1"} ${v}\nx_bucket{le="+Inf"} ${v}\nx_sum ${v}\nx_count ${v}\n`;
  const counter = (v: number) => `# TYPE x counter\nx ${v}\n`;
  const pages = [histogram(1), counter(2), counter(3), histogram(4), counter(5)];
  pages.forEach((page, i) => {
    const x = get(state.convert(page, TEXT, 1_000 * (i + 1)).batch, 'x');
    if (page.includes('histogram')) {
      assert.equal(x.dataPointType, DataPointType.HISTOGRAM, `scrape ${i}`);
      assert.deepEqual(x.dataPoints.map((p) => (p.value as { count: number }).count), [i + 1]);
    } else {
      assert.equal(x.dataPointType, DataPointType.SUM, `scrape ${i}`);
      assert.deepEqual(x.dataPoints.map((p) => p.value), [i + 1]);
    }
  });
});

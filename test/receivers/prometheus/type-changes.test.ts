/**
 * A target's series are cached between scrapes; what the page declares about them
 * (TYPE lines, HELP, the family a sample belongs to) may change from one scrape to
 * the next, or within a page come after samples. Every page is either converted
 * as it reads now or rejected with a parse error and its line: nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';
import { ScrapeError } from '../../../src/receivers/prometheus/fetch.js';
import { PrometheusExporter } from '../../../src/exporters/prometheus/exporter.js';
import { DataPointType, SUMMARY, hrTimeToMillis, type Metric, type ResourceBatch } from '../../../src/model/batch.js';
import { metricNamed } from '../../helpers/collect.js';
import { testConfig, testContext } from '../../exporters/prometheus/batches.js';

const TEXT = 'text/plain; version=0.0.4';
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';
const resource = resourceFromAttributes({});

function get(rb: ResourceBatch, name: string): Metric {
  const m = metricNamed(rb, name);
  assert.ok(m, `metric ${name} present`);
  return m;
}

function names(rb: ResourceBatch): string[] {
  return rb.scopeMetrics.flatMap((s) => s.metrics.map((m) => `${m.descriptor.name}:${m.prometheus?.type}`));
}

/** Converts the pages in turn on one state, 15 s apart, and returns every batch. */
function scrapes(pages: readonly string[], contentType = TEXT): ResourceBatch[] {
  const state = new ScrapeState(resource);
  return pages.map((page, i) => state.convert(page, contentType, 1_000_000 + i * 15_000).batch);
}

function rejectsAtLine(state: ScrapeState, page: string, line: number): void {
  assert.throws(
    () => state.convert(page, TEXT, 2_000_000),
    (err: unknown) => err instanceof ScrapeError && err.reason === 'parse' && err.message.includes(`line ${line}:`),
  );
}

test('gauge → summary between scrapes: the cached series joins the summary', () => {
  const gauge = '# TYPE a gauge\na{quantile="0.5"} 1\n';
  const summary = '# TYPE a summary\na{quantile="0.5"} 4\na_sum 2\na_count 3\n';
  const [first, second, third] = scrapes([gauge, summary, gauge]);
  assert.equal(get(first!, 'a').dataPointType, DataPointType.GAUGE);
  const s = get(second!, 'a');
  assert.equal(s.dataPointType, SUMMARY);
  assert.deepEqual(s.dataPoints[0]!.value, { sum: 2, count: 3, quantiles: [{ quantile: 0.5, value: 4, label: '0.5' }] });
  const back = get(third!, 'a');
  assert.equal(back.dataPointType, DataPointType.GAUGE);
  assert.deepEqual(back.dataPoints[0]!.attributes, { quantile: '0.5' });
  assert.equal(back.dataPoints[0]!.value, 1);
});

test('gauge → histogram between scrapes: a cached _count gauge becomes the histogram count', () => {
  const gauges = '# TYPE a_count gauge\na_count 7\n';
  const histogram = '# TYPE a histogram\na_bucket{le="1"} 1\na_bucket{le="+Inf"} 2\na_count 7\n';
  const [, second] = scrapes([gauges, histogram]);
  assert.deepEqual(names(second!), ['a:histogram']);
  const point = get(second!, 'a').dataPoints[0]!.value as { count: number };
  assert.equal(point.count, 7);
});

test('gauge → histogram of the same name: the untyped sample and the histogram clash, a parse error at its line', () => {
  const state = new ScrapeState(resource);
  state.convert('# TYPE a gauge\na 1\n', TEXT, 1_000_000);
  rejectsAtLine(state, '# TYPE a histogram\na 1\na_bucket{le="+Inf"} 1\na_count 1\n', 3);
  // The failed page changed nothing: the gauge page still converts as before.
  assert.deepEqual(names(state.convert('# TYPE a gauge\na 1\n', TEXT, 3_000_000).batch), ['a:gauge']);
});

test('summary → histogram: the groups start afresh', () => {
  const summary = '# TYPE a summary\na_sum 1\na_count 1\n';
  const histogram = '# TYPE a histogram\na_bucket{le="+Inf"} 10\na_sum 10\na_count 10\n';
  const [, second] = scrapes([summary, histogram]);
  const h = get(second!, 'a');
  assert.equal(h.dataPointType, DataPointType.HISTOGRAM);
  assert.equal(hrTimeToMillis(h.dataPoints[0]!.startTime), 1_015_000, 'not the summary\'s start');
});

test('a TYPE line that disappears turns the cached series untyped', () => {
  const typed = '# TYPE a summary\na{quantile="0.5"} 1\na_sum 1\na_count 1\n';
  const bare = 'a{quantile="0.5"} 1\na_sum 1\na_count 1\n';
  const [, second] = scrapes([typed, bare]);
  assert.deepEqual(names(second!), ['a:untyped', 'a_sum:untyped', 'a_count:untyped']);
  assert.deepEqual(get(second!, 'a').dataPoints[0]!.attributes, { quantile: '0.5' });
});

test('samples before their TYPE: a parse error at the TYPE line when it would regroup them', () => {
  const state = new ScrapeState(resource);
  rejectsAtLine(state, 'a 1\n# TYPE a summary\na_sum 1\na_count 1\n', 2);
  rejectsAtLine(state, 'a_sum 1\n# TYPE a summary\na_count 1\n', 2);
  rejectsAtLine(state, 'x{le="1"} 1\nx_bucket{le="1"} 1\n# TYPE x histogram\n', 3);
  rejectsAtLine(state, '# TYPE a gauge\na{x="1"} 1\n# TYPE a summary\na{x="2"} 1\n', 3);
});

test('a TYPE line after samples it does not regroup is accepted', () => {
  const state = new ScrapeState(resource);
  const { batch } = state.convert('a 1\n# TYPE a untyped\na{x="1"} 2\nb_total 1\n# TYPE b gauge\nb 2\n', TEXT, 1_000_000);
  assert.deepEqual(names(batch), ['a:untyped', 'b_total:untyped', 'b:gauge']);
  assert.equal(get(batch, 'a').dataPoints.length, 2);
  // The same page again, now from the cache.
  assert.deepEqual(names(state.convert('a 1\n# TYPE a untyped\na{x="1"} 2\nb_total 1\n# TYPE b gauge\nb 2\n', TEXT, 1_015_000).batch), names(batch));
});

test('two families stored under one metric name in one page: a parse error at the second', () => {
  const state = new ScrapeState(resource);
  rejectsAtLine(state, '# TYPE a_sum histogram\na_sum_bucket{le="+Inf"} 1\na_sum_count 1\na_sum 5\n', 4);
});

test('a repeated, identical TYPE line is accepted', () => {
  const state = new ScrapeState(resource);
  const { batch } = state.convert('# TYPE a counter\na 1\n# TYPE a counter\na{x="1"} 2\n', TEXT, 1_000_000);
  assert.equal(get(batch, 'a').dataPoints.length, 2);
});

test('the declaration moving from family a to a_total: HELP follows, the counter keeps its start', () => {
  const om = '# HELP a first\n# TYPE a counter\na_total 1\n';
  const text = '# HELP a_total second\n# TYPE a_total counter\na_total 2\n';
  const [first, second] = scrapes([om, text]);
  assert.equal(get(first!, 'a_total').descriptor.description, 'first');
  const c = get(second!, 'a_total');
  assert.equal(c.descriptor.description, 'second');
  assert.equal(hrTimeToMillis(c.dataPoints[0]!.startTime), 1_000_000);
});

test('_created: a text-format gauge one scrape, an OpenMetrics counter part the next', () => {
  const state = new ScrapeState(resource);
  const text = '# TYPE x_total counter\nx_total 1\n# TYPE x_created gauge\nx_created 100\n';
  const om = '# TYPE x counter\nx_total 2\nx_created 100\n# EOF\n';
  const first = state.convert(text, TEXT, 1_000_000).batch;
  assert.deepEqual(names(first), ['x_total:counter', 'x_created:gauge']);
  const second = state.convert(om, OPENMETRICS, 1_015_000).batch;
  assert.deepEqual(names(second), ['x_total:counter']);
  assert.equal(hrTimeToMillis(get(second, 'x_total').dataPoints[0]!.startTime), 100_000);
  const third = state.convert(text, TEXT, 1_030_000).batch;
  assert.deepEqual(names(third), ['x_total:counter', 'x_created:gauge']);
});

test('a series regrouped by a new TYPE line and then repeated is read once', () => {
  const state = new ScrapeState(resource);
  state.convert('a{x="0"} 1\na{x="1"} 1\n', TEXT, 1_000_000);
  const { batch, duplicates } = state.convert('# TYPE a gauge\na{x="1"} 2\na{x="1"} 3\n', TEXT, 1_015_000);
  assert.equal(duplicates, 1);
  assert.deepEqual(
    get(batch, 'a').dataPoints.map((p) => p.value),
    [2],
  );
});

test('other texts of one series (x and x{}, labels reordered, trailing comma) are duplicates, not two series', () => {
  const state = new ScrapeState(resource);
  const page = 'x 1\nx{} 2\ny{a="1",b="2"} 3\ny{b="2",a="1"} 4\ny{a="1",b="2",} 5\n';
  for (const time of [1_000_000, 1_015_000]) {
    const { batch, duplicates } = state.convert(page, TEXT, time);
    assert.equal(duplicates, 3);
    assert.deepEqual(get(batch, 'x').dataPoints.map((p) => p.value), [1]);
    assert.deepEqual(get(batch, 'y').dataPoints.map((p) => p.value), [3]);
  }
  assert.equal(state.seriesCount, 2);
});

test('a page that fails after regrouping a series leaves the cached series as it was', () => {
  const state = new ScrapeState(resource);
  state.convert('# TYPE c counter\nc 5\n', TEXT, 1_000_000);
  assert.throws(() => state.convert('# TYPE c gauge\nc 1\nbad{', TEXT, 1_015_000), ScrapeError);
  const { batch, seriesAdded } = state.convert('# TYPE c counter\nc 6\n', TEXT, 1_030_000);
  assert.equal(seriesAdded, 0);
  assert.equal(hrTimeToMillis(get(batch, 'c').dataPoints[0]!.startTime), 1_000_000);
});

test('labels named __proto__, constructor, toString and hasOwnProperty are kept, through to /metrics', () => {
  const page = 'a{__proto__="p",constructor="c",toString="t",hasOwnProperty="h"} 1\n';
  const { batch } = new ScrapeState(resource).convert(page, TEXT, 1_000_000);
  const attributes = get(batch, 'a').dataPoints[0]!.attributes;
  assert.deepEqual(Object.keys(attributes), ['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
  assert.equal(Object.getPrototypeOf(attributes), Object.prototype);
  assert.equal(attributes['__proto__'], 'p');
  const exporter = new PrometheusExporter(testConfig(), testContext());
  exporter.consume([batch]);
  assert.match(exporter.render(), /^a\{__proto__="p",constructor="c",toString="t",hasOwnProperty="h"\} 1$/m);
});

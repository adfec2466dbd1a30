/**
 * Runner page → receiver → /metrics: bucket `le` and summary `quantile` label
 * values come back exactly as the runner wrote them (`1.0`, `1e+06`), since
 * Prometheus keys series by the label text, not the number it stands for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PrometheusExporter } from '../../../src/exporters/prometheus/exporter.js';
import { DataPointType, type Metric, type ResourceBatch } from '../../../src/model/batch.js';
import { ResourceProcessor, resourceProcessorConfigSchema } from '../../../src/processors/resource/index.js';
import { CollectingConsumer } from '../../helpers/collect.js';
import { parseFamilies } from '../../../src/prometheus/families.js';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';
import { readFixture } from '../../helpers/fixtures.js';
import { histogram, resourceBatch, testConfig, testContext } from './batches.js';

const TEXT = 'text/plain; version=0.0.4';

/**
 * For every bucket and quantile sample, keyed by its series without the bound
 * label (`name{labels}`), the bound texts in page order.
 */
function boundTexts(page: string): Map<string, string[]> {
  const bySeries = new Map<string, string[]>();
  for (const family of parseFamilies(page)) {
    for (const sample of family.samples) {
      const labels: string[] = [];
      let bound: string | undefined;
      for (let i = 0; i < sample.labels.length; i += 2) {
        const name = sample.labels[i]!;
        const value = sample.labels[i + 1]!;
        const isBound = (name === 'le' && sample.name.endsWith('_bucket')) || (name === 'quantile' && family.type === 'summary');
        if (isBound) bound = value;
        else labels.push(`${name}=${JSON.stringify(value)}`);
      }
      if (bound === undefined) continue;
      const key = `${sample.name}{${labels.sort().join(',')}}`;
      const texts = bySeries.get(key);
      if (texts) texts.push(bound);
      else bySeries.set(key, [bound]);
    }
  }
  return bySeries;
}

function render(batches: ResourceBatch[]): string {
  const exporter = new PrometheusExporter(testConfig(), testContext());
  exporter.consume(batches);
  return exporter.render();
}

function scrapeFixture(file: string, scrapes = 1): { page: string; batch: ResourceBatch } {
  const page = readFixture('runners', file);
  const state = new ScrapeState(resourceFromAttributes({}));
  let batch: ResourceBatch | undefined;
  for (let i = 0; i < scrapes; i++) batch = state.convert(page, TEXT, 1_000_000 + i * 15_000).batch;
  return { page, batch: batch! };
}

describe('runner bucket and quantile labels on /metrics', () => {
  for (const [file, kinds] of [
    ['vllm.prom', ['le']],
    ['sglang.prom', ['le']],
    ['tgi.prom', ['le', 'quantile']],
  ] as const) {
    it(`${file}: every ${kinds.join(' and ')} text is served as the runner wrote it`, () => {
      const { page, batch } = scrapeFixture(file);
      const expected = boundTexts(page);
      assert.ok(expected.size > 0, 'fixture has buckets');
      for (const kind of kinds) assert.ok(page.includes(`${kind}="`), `fixture has ${kind} labels`);
      assert.deepEqual(boundTexts(render([batch])), expected);
    });
  }

  it('vllm.prom: texts such as 1.0 that a number would not give back are kept', () => {
    const { page, batch } = scrapeFixture('vllm.prom');
    const body = render([batch]);
    for (const text of ['1.0', '10.0', '1000.0']) {
      assert.ok(page.includes(`le="${text}"`), `fixture has le="${text}"`);
      assert.ok(body.includes(`le="${text}"`), `served le="${text}"`);
    }
    assert.doesNotMatch(body, /le="(1|10|1000)"/, 'no reformatted bound');
  });

  it('exponent and padded texts (1e+06, 0.50) are kept, +Inf stays +Inf', () => {
    const page = [
      '# TYPE h histogram',
      'h_bucket{le="0.50"} 1',
      'h_bucket{le="1e+06"} 2',
      'h_bucket{le="+Inf"} 3',
      'h_sum 4',
      'h_count 3',
      '# TYPE s summary',
      's{quantile="0.50"} 1',
      's{quantile="0.9"} 2',
      's_sum 3',
      's_count 2',
      '',
    ].join('\n');
    const state = new ScrapeState(resourceFromAttributes({}));
    const body = render([state.convert(page, TEXT, 1_000_000).batch]);
    assert.match(body, /^h_bucket\{le="0\.50"\} 1$/m);
    assert.match(body, /^h_bucket\{le="1e\+06"\} 2$/m);
    assert.match(body, /^h_bucket\{le="\+Inf"\} 3$/m);
    assert.match(body, /^s\{quantile="0\.50"\} 1$/m);
    assert.match(body, /^s\{quantile="0\.9"\} 2$/m);
  });

  it('tgi.prom: summary quantile texts are kept', () => {
    const { page, batch } = scrapeFixture('tgi.prom');
    const body = render([batch]);
    const quantiles = (text: string) => new Set([...text.matchAll(/quantile="([^"]*)"/g)].map((m) => m[1]));
    assert.ok(quantiles(page).size > 0);
    assert.deepEqual(quantiles(body), quantiles(page));
  });

  it('keeps the texts on later scrapes, which reuse the boundaries array', () => {
    const page = readFixture('runners', 'vllm.prom');
    const state = new ScrapeState(resourceFromAttributes({}));
    const first = state.convert(page, TEXT, 1_000_000).batch;
    const second = state.convert(page, TEXT, 1_015_000).batch;
    const boundariesOf = (b: ResourceBatch) =>
      b.scopeMetrics
        .flatMap((s) => s.metrics)
        .flatMap((m) => (m.dataPointType === DataPointType.HISTOGRAM ? m.dataPoints.map((p) => p.value.buckets.boundaries) : []));
    const a = boundariesOf(first);
    const b = boundariesOf(second);
    assert.ok(a.length > 0);
    for (let i = 0; i < a.length; i++) assert.equal(b[i], a[i], 'same boundaries array while the bounds are unchanged');
    assert.deepEqual(boundTexts(render([second])), boundTexts(page));
  });

  it('a bucket rewritten with another text for the same bound (1.0 → 1) is served with the new text', () => {
    const page = '# TYPE h histogram\nh_bucket{le="1.0"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
    const state = new ScrapeState(resourceFromAttributes({}));
    state.convert(page, TEXT, 1_000_000);
    const { batch } = state.convert(page.replace('le="1.0"', 'le="1"'), TEXT, 1_015_000);
    const body = render([batch]);
    assert.match(body, /^h_bucket\{le="1"\} 1$/m);
    assert.doesNotMatch(body, /le="1\.0"/);
  });

  it('points without label texts (own metrics, other sources) still format the bound', () => {
    const body = render([
      resourceBatch({}, [histogram('h', 'h', [[{}, { boundaries: [0.5, 1, 1e6], counts: [1, 0, 0, 1], sum: 2 }]])]),
    ]);
    assert.match(body, /^h_bucket\{le="0\.5"\} 1$/m);
    assert.match(body, /^h_bucket\{le="1"\} 1$/m);
    assert.match(body, /^h_bucket\{le="1000000"\} 1$/m);
    assert.match(body, /^h_bucket\{le="\+Inf"\} 2$/m);
  });

  it('le texts travel in the point: copies of it (structuredClone, spread) keep le="1.0"', () => {
    const page = '# TYPE h histogram\nh_bucket{le="1.0"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
    const { batch } = new ScrapeState(resourceFromAttributes({})).convert(page, TEXT, 1_000_000);
    const metric = batch.scopeMetrics[0]!.metrics[0]!;
    assert.ok(metric.dataPointType === DataPointType.HISTOGRAM);
    assert.deepEqual(metric.dataPoints[0]!.value.boundaryLabels, ['1.0']);
    const cloned = structuredClone(metric);
    const spread: Metric = { ...metric, dataPoints: metric.dataPoints.map((p) => ({ ...p, value: { ...p.value } })) };
    for (const copy of [cloned, spread]) {
      const body = render([{ resource: batch.resource, scopeMetrics: [{ scope: batch.scopeMetrics[0]!.scope, metrics: [copy] }] }]);
      assert.match(body, /^h_bucket\{le="1\.0"\} 1$/m);
      assert.doesNotMatch(body, /le="1"/);
    }
  });

  it('through a processor that copies its batch (resource), /metrics still serves le="1.0"', () => {
    const page = '# TYPE h histogram\nh_bucket{le="1.0"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
    const { batch } = new ScrapeState(resourceFromAttributes({ model: 'm' })).convert(page, TEXT, 1_000_000);
    const sink = new CollectingConsumer();
    const processor = new ResourceProcessor(
      resourceProcessorConfigSchema.parse({ attributes: [{ key: 'backend', value: 'vllm', action: 'upsert' }] }),
      sink,
    );
    // A processor deep-copying points, as any may, must not lose the texts either.
    processor.consume([{ resource: batch.resource, scopeMetrics: structuredClone(batch.scopeMetrics) }]);
    const body = render([...sink.batches.at(-1)!]);
    assert.match(body, /^h_bucket\{backend="vllm",model="m",le="1\.0"\} 1$/m);
  });
});

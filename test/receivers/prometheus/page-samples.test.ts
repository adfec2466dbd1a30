import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PageSamples } from '../../../src/receivers/prometheus/page-samples.js';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';
import type { ResourceBatch } from '../../../src/model/batch.js';

const TEXT = 'text/plain; version=0.0.4';

test('PageSamples keeps its capacity across pages and lets go of a longer page\'s series', () => {
  const samples = new PageSamples<{ n: number }>();
  for (let i = 0; i < 1000; i++) samples.push({ n: i }, i / 2);
  const values = samples.values;
  const series = samples.series;
  samples.clear();
  for (let i = 0; i < 10; i++) samples.push({ n: -i }, 1 - i);
  assert.equal(samples.values, values, 'the value store is reused');
  assert.equal(samples.length, 10);
  assert.equal(samples.at(9)?.n, -9);
  assert.equal(samples.at(10), undefined, 'entries left from the longer page are not this page\'s');
  samples.release();
  assert.equal(series.length, 10, 'stale series are released in place');
  assert.equal(samples.series, series);
  assert.deepEqual([...samples.values.subarray(0, 3)], [1, 0, -1]);
});

/** Every (metric name, attributes, value) of a batch, in order. */
function points(batch: ResourceBatch): string[] {
  const out: string[] = [];
  for (const sm of batch.scopeMetrics) {
    for (const m of sm.metrics) for (const p of m.dataPoints) out.push(`${m.descriptor.name}${JSON.stringify(p.attributes)} ${JSON.stringify(p.value)}`);
  }
  return out;
}

function page(series: number, round: number, reversed: boolean): string {
  const order = Array.from({ length: series }, (_, i) => (reversed ? series - 1 - i : i));
  let text = '# TYPE g gauge\n';
  for (const i of order) text += `g{i="${i}"} ${round * 100 + i}\n`;
  text += '# TYPE h histogram\n';
  for (const i of order) text += `h_bucket{i="${i}",le="+Inf"} ${round}\nh_sum{i="${i}"} ${round}\nh_count{i="${i}"} ${round}\n`;
  return text;
}

test('pages that shrink, grow and change order convert as a fresh state would convert them', () => {
  const state = new ScrapeState(resourceFromAttributes({}));
  const sizes = [50, 3, 80, 0, 80, 10, 60];
  sizes.forEach((size, round) => {
    const text = page(size, round, round === 5);
    const fresh = new ScrapeState(resourceFromAttributes({})).convert(text, TEXT, 1000);
    const { batch, samples } = state.convert(text, TEXT, 1000);
    assert.equal(samples, size * 4, `round ${round}`);
    assert.deepEqual(points(batch), points(fresh.batch), `round ${round}`);
  });
});

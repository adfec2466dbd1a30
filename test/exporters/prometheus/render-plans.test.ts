/**
 * Renders remember, per family, which series they write (the duplicate-series
 * check) and reuse that while the same attributes objects come back. Whatever
 * changes between scrapes, a remembered render must write exactly what a fresh
 * exporter writes for the same data: random rounds of snapshots that reuse
 * attributes objects (as receivers do), with series coming and going, series
 * equal to another's, points of the wrong shape and resources appearing and
 * expiring, are rendered by one long-lived exporter and by a fresh one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { PrometheusExporter } from '../../../src/exporters/prometheus/exporter.js';
import type { Metric, ResourceBatch } from '../../../src/model/batch.js';
import { counter, gauge, histogram, resourceBatch, testConfig, testContext } from './batches.js';
import { Rng } from '../../helpers/rng.js';

const SEED = Number(process.env['RENDER_PLANS_SEED'] ?? Math.floor(Math.random() * 2 ** 32));


/** A pool of attributes objects per resource, reused from round to round; some equal another's content. */
function attributePool(rng: Rng): Attributes[] {
  const pool: Attributes[] = [];
  for (let i = 0; i < 6; i++) {
    const slot = String(rng.int(4)); // equal contents in distinct objects: duplicate series
    pool.push(rng.chance(0.3) ? { z: 'last', slot } : { slot, phase: rng.chance(0.5) ? 'decode' : 'prompt' });
  }
  return pool;
}

function round(rng: Rng, pools: Attributes[][], models: string[], n: number): ResourceBatch[] {
  const batches: ResourceBatch[] = [];
  for (let r = 0; r < pools.length; r++) {
    if (rng.chance(0.15)) continue; // this resource sends nothing this round
    const pick = () => pools[r]!.filter(() => rng.chance(0.8));
    const metrics: Metric[] = [
      counter('c_total', 'C.', pick().map((a, i) => [a, n * 10 + i] as const)),
      gauge('g', 'G.', pick().map((a, i) => [a, (n + i) / 7] as const)),
      histogram('h', 'H.', pick().map((a) => [a, { boundaries: [0.5, 1], counts: [n, 1, 2], sum: n * 1.5 }] as const)),
    ];
    if (rng.chance(0.2)) {
      // A point that does not hold what its type promises.
      const g = metrics[1]!;
      if (g.dataPoints.length > 0) (g.dataPoints[rng.int(g.dataPoints.length)] as { value: unknown }).value = 'x';
      const h = metrics[2]!;
      if (h.dataPoints.length > 0) (h.dataPoints[rng.int(h.dataPoints.length)] as { value: unknown }).value = 7;
    }
    if (rng.chance(0.2)) metrics.reverse();
    batches.push(resourceBatch({ 'service.instance.id': `r${r}`, backend: 'llama.cpp', model: models[r]!, mode: 'completion' }, metrics));
  }
  return batches;
}

describe('remembered render plans', () => {
  it(`write what a fresh render writes, round after round (seed ${SEED}; RENDER_PLANS_SEED replays)`, () => {
    const rng = new Rng(SEED);
    const pools = Array.from({ length: 5 }, () => attributePool(rng));
    // Two resources share a model, so their series can collide.
    const models = ['a', 'a', 'b', 'c', 'c'];
    let now = 0;
    const config = testConfig({ metric_expiration: '3s' });
    const long = new PrometheusExporter(config, testContext(), { now: () => now });
    const history: ResourceBatch[][] = [];
    for (let n = 0; n < 60; n++) {
      now += 1000;
      const batches = round(rng, pools, models, n);
      history.push(batches);
      long.consume(batches);
      // A fresh exporter fed the same rounds holds the same snapshots, with no plans.
      let freshNow = 0;
      const fresh = new PrometheusExporter(config, testContext(), { now: () => freshNow });
      history.forEach((past, i) => {
        freshNow = (i + 1) * 1000;
        fresh.consume(past);
      });
      freshNow = now;
      for (const format of ['text', 'openmetrics'] as const) {
        for (const escaping of ['underscores', 'allow-utf-8'] as const) {
          assert.equal(long.render({ format, escaping }), fresh.render({ format, escaping }), `round ${n}, ${format}, ${escaping} (seed ${SEED})`);
        }
      }
    }
  });

  it('write a point that loses or regains its shape on the same series as a fresh render does', () => {
    // Same attributes objects every round, so only the points' shapes can tell the plan it is stale.
    const series = [{ slot: '0' }, { slot: '1' }, { slot: '2' }];
    const config = testConfig({});
    const long = new PrometheusExporter(config, testContext());
    const shapes: [gauge: boolean, histogram: boolean][] = [[true, true], [false, true], [true, true], [true, false], [true, true], [false, false], [true, true]];
    shapes.forEach(([gaugeWellShaped, histogramWellShaped], n) => {
      const g = gauge('g', 'G.', series.map((a, i) => [a, n + i / 4] as const));
      const h = histogram('h', 'H.', series.map((a) => [a, { boundaries: [0.5, 1], counts: [n, 1, 2], sum: n * 1.5 }] as const));
      if (!gaugeWellShaped) (g.dataPoints[1] as { value: unknown }).value = 'x';
      if (!histogramWellShaped) (h.dataPoints[2] as { value: unknown }).value = 7;
      const batches = [resourceBatch({ 'service.instance.id': 'r0', backend: 'llama.cpp', model: 'm', mode: 'completion' }, [g, h])];
      long.consume(batches);
      const fresh = new PrometheusExporter(config, testContext());
      fresh.consume(batches);
      const body = long.render();
      assert.equal(body, fresh.render(), `round ${n}`);
      assert.equal(body.includes('g{slot="1"'), gaugeWellShaped, `round ${n}: gauge point written only when it holds a number`);
      assert.equal(body.includes('h_count{slot="2"'), histogramWellShaped, `round ${n}: histogram point written only when it holds buckets`);
    });
  });

  it('write a family under its new sample names when its type changes under the same name', () => {
    // Same attributes objects every round, so the plan fits; only the type, and with it the sample names, changes.
    const series = [{ slot: '0' }, { slot: '1' }];
    const config = testConfig({});
    const long = new PrometheusExporter(config, testContext());
    for (let n = 0; n < 6; n++) {
      const jobs = n % 2 === 0 ? counter('jobs_total', 'Jobs.', series.map((a, i) => [a, n + i] as const)) : gauge('jobs', 'Jobs.', series.map((a, i) => [a, n + i] as const));
      const batches = [resourceBatch({ 'service.instance.id': 'r0', backend: 'llama.cpp', model: 'm', mode: 'completion' }, [jobs])];
      long.consume(batches);
      const fresh = new PrometheusExporter(config, testContext());
      fresh.consume(batches);
      for (const format of ['text', 'openmetrics'] as const) {
        const body = long.render({ format });
        assert.equal(body, fresh.render({ format }), `round ${n}, ${format}`);
        assert.match(body, n % 2 === 0 ? /^jobs_total\{/m : /^jobs\{/m);
      }
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PrometheusType } from '../../src/model/batch.js';
import { parseFamilies, resolveFamily, storedName } from '../../src/prometheus/families.js';
import { readFixture } from '../helpers/fixtures.js';

function declared(entries: Record<string, PrometheusType>): Map<string, PrometheusType> {
  return new Map(Object.entries(entries));
}

describe('resolveFamily', () => {
  it('gives a histogram its _bucket, _sum, _count and _created', () => {
    const types = declared({ foo: 'histogram' });
    assert.deepEqual(resolveFamily('foo_bucket', types), { family: 'foo', type: 'histogram', role: 'bucket' });
    assert.deepEqual(resolveFamily('foo_sum', types), { family: 'foo', type: 'histogram', role: 'sum' });
    assert.deepEqual(resolveFamily('foo_count', types), { family: 'foo', type: 'histogram', role: 'count' });
    assert.deepEqual(resolveFamily('foo_created', types), { family: 'foo', type: 'histogram', role: 'created' });
    assert.deepEqual(resolveFamily('foo_total', types), { family: 'foo_total', type: 'untyped', role: 'value' });
  });

  it('gives a histogram declared with a _total name its samples', () => {
    const types = declared({ 'vllm:iteration_tokens_total': 'histogram' });
    assert.deepEqual(resolveFamily('vllm:iteration_tokens_total_bucket', types), {
      family: 'vllm:iteration_tokens_total',
      type: 'histogram',
      role: 'bucket',
    });
  });

  it('gives a summary its quantiles, _sum, _count and _created', () => {
    const types = declared({ foo: 'summary' });
    assert.equal(resolveFamily('foo', types).role, 'value');
    assert.equal(resolveFamily('foo_sum', types).role, 'sum');
    assert.equal(resolveFamily('foo_count', types).role, 'count');
    assert.equal(resolveFamily('foo_created', types).role, 'created');
  });

  it('gives a counter foo_total, foo and foo_created; a 0.0.4 counter named foo_total owns itself', () => {
    const om = declared({ foo: 'counter' });
    assert.deepEqual(resolveFamily('foo_total', om), { family: 'foo', type: 'counter', role: 'value' });
    assert.deepEqual(resolveFamily('foo', om), { family: 'foo', type: 'counter', role: 'value' });
    assert.deepEqual(resolveFamily('foo_created', om), { family: 'foo', type: 'counter', role: 'created' });
    const text = declared({ foo_total: 'counter' });
    assert.deepEqual(resolveFamily('foo_total', text), { family: 'foo_total', type: 'counter', role: 'value' });
  });

  it('lets a counter end in _count (TGI)', () => {
    const types = declared({ tgi_batch_inference_count: 'counter', tgi_batch_inference: 'histogram' });
    assert.equal(resolveFamily('tgi_batch_inference_count', types).family, 'tgi_batch_inference_count');
  });

  it('prefers the longest declared family', () => {
    const types = declared({ foo: 'counter', foo_total: 'histogram' });
    assert.deepEqual(resolveFamily('foo_total_bucket', types), { family: 'foo_total', type: 'histogram', role: 'bucket' });
    assert.deepEqual(resolveFamily('foo_total', types), { family: 'foo', type: 'counter', role: 'value' });
  });

  it('gives a gauge histogram _bucket, _gcount and _gsum, and info _info', () => {
    const types = declared({ g: 'gaugehistogram', build: 'info' });
    assert.equal(resolveFamily('g_bucket', types).role, 'bucket');
    assert.equal(resolveFamily('g_gcount', types).role, 'gcount');
    assert.equal(resolveFamily('g_gsum', types).role, 'gsum');
    assert.deepEqual(resolveFamily('build_info', types), { family: 'build', type: 'info', role: 'info' });
  });

  it('makes an undeclared sample its own untyped family', () => {
    assert.deepEqual(resolveFamily('foo_bucket', new Map()), { family: 'foo_bucket', type: 'untyped', role: 'value' });
    assert.deepEqual(resolveFamily('g_sum', declared({ g: 'gauge' })), { family: 'g_sum', type: 'untyped', role: 'value' });
  });
});

describe('storedName', () => {
  const stored = (sample: string, types: Map<string, PrometheusType>) => storedName(sample, resolveFamily(sample, types));

  it('names counter and info samples as written, the way Prometheus stores them', () => {
    const om = declared({ foo: 'counter', build: 'info', Requests2XX: 'counter', b_total: 'counter' });
    assert.equal(stored('foo_total', om), 'foo_total');
    assert.equal(stored('build_info', om), 'build_info');
    assert.equal(stored('Requests2XX', om), 'Requests2XX');
    assert.equal(stored('b_total', om), 'b_total');
  });

  it('names histogram and summary parts, and _created, after their family', () => {
    const types = declared({ h: 'histogram', s: 'summary', c: 'counter' });
    for (const sample of ['h_bucket', 'h_sum', 'h_count', 'h_created']) assert.equal(stored(sample, types), 'h');
    for (const sample of ['s', 's_sum', 's_count']) assert.equal(stored(sample, types), 's');
    assert.equal(stored('c_created', types), 'c');
  });
});

describe('parseFamilies', () => {
  it('groups the vLLM histogram and keeps its _created gauge family', () => {
    const families = parseFamilies(readFixture('runners', 'vllm.prom'));
    const histogram = families.find((f) => f.name === 'vllm:iteration_tokens_total');
    assert.equal(histogram?.type, 'histogram');
    assert.equal(histogram?.help, 'Histogram of number of tokens per engine_step.');
    assert.equal(histogram?.samples.length, 16);
    assert.deepEqual(histogram?.samples.at(-3), {
      name: 'vllm:iteration_tokens_total_bucket',
      labels: ['engine', '0', 'le', '+Inf', 'model_name', 'Qwen/Qwen2.5-1.5B-Instruct'],
      value: 20117,
    });
    assert.deepEqual(histogram?.samples.at(-1)?.value, 68397.8);
    const created = families.find((f) => f.name === 'vllm:iteration_tokens_total_created');
    assert.equal(created?.type, 'gauge');
    assert.equal(created?.samples[0]?.value, 1.758000000123456e9);
    const success = families.find((f) => f.name === 'vllm:request_success_total');
    assert.deepEqual(
      success?.samples.map((s) => s.value),
      [118, 9, 1],
    );
  });

  it('groups the TGI summary', () => {
    const families = parseFamilies(readFixture('runners', 'tgi.prom'));
    const summary = families.find((f) => f.name === 'tgi_request_skipped_tokens');
    assert.equal(summary?.type, 'summary');
    assert.equal(summary?.samples.length, 9);
    assert.deepEqual(summary?.samples.at(-1), { name: 'tgi_request_skipped_tokens_count', labels: [], value: 127 });
    const failure = families.find((f) => f.name === 'tgi_request_failure');
    assert.equal(failure?.help, undefined);
    assert.equal(failure?.type, 'counter');
  });

  it('keeps TorchServe families with no samples', () => {
    const families = parseFamilies(readFixture('runners', 'torchserve.prom'));
    assert.deepEqual(families[0], {
      name: 'Requests5XX',
      type: 'counter',
      help: 'Torchserve prometheus counter metric with unit: Count',
      samples: [],
    });
  });

  it('groups OpenMetrics counters with their _total and _created samples, and records UNIT', () => {
    const text = '# TYPE req counter\n# UNIT req requests\nreq_total 2\nreq_created 1.5e9\n# EOF\n';
    assert.deepEqual(parseFamilies(text, { openMetrics: true }), [
      {
        name: 'req',
        type: 'counter',
        unit: 'requests',
        samples: [
          { name: 'req_total', labels: [], value: 2 },
          { name: 'req_created', labels: [], value: 1.5e9 },
        ],
      },
    ]);
  });

  it('keeps body order, timestamps, and undeclared samples as untyped families', () => {
    const text = 'b 1 1000\n# HELP a Help.\na 2\n';
    assert.deepEqual(parseFamilies(text), [
      { name: 'b', type: 'untyped', samples: [{ name: 'b', labels: [], value: 1, timestamp: 1000 }] },
      { name: 'a', type: 'untyped', help: 'Help.', samples: [{ name: 'a', labels: [], value: 2 }] },
    ]);
  });
});

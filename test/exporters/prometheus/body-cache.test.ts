/**
 * Scrapes of unchanged data are served a body rendered once; any new data is
 * served at once; the cache holds a bounded number of bodies.
 */
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { BodyCache } from '../../../src/exporters/prometheus/body-cache.js';
import { PrometheusExporter } from '../../../src/exporters/prometheus/exporter.js';
import { scrape, testConfig, testContext } from './batches.js';
import { bothBatches, completionBatch } from './fixtures.js';

const GZIP = { 'accept-encoding': 'gzip' };
const OPENMETRICS = { accept: 'application/openmetrics-text;version=1.0.0' };

async function started(options: { cacheBodies?: boolean } = {}) {
  const context = testContext();
  const exporter = new PrometheusExporter(testConfig(), context, options);
  exporter.consume(bothBatches());
  await exporter.start();
  const renders = () => context.selfMetrics.counter('runner_metrics_exporter_prometheus_renders_total', '').value({ exporter: 'prometheus/test' });
  return { exporter, address: exporter.address()!, renders };
}

describe('prometheus exporter body cache', () => {
  it('renders once for many scrapes of the same data, plain and gzipped alike', async () => {
    const { exporter, address, renders } = await started();
    try {
      const plain = await scrape(address);
      const zipped = await Promise.all([scrape(address, '/metrics', { headers: GZIP }), scrape(address, '/metrics', { headers: GZIP })]);
      await scrape(address);
      assert.equal(renders(), 1);
      for (const z of zipped) {
        assert.equal(z.headers['content-encoding'], 'gzip');
        assert.equal(z.body, plain.body);
      }
      assert.equal(zipped[0]!.rawLength, zipped[1]!.rawLength);
    } finally {
      await exporter.shutdown();
    }
  });

  it('serves new data on the very next scrape', async () => {
    const { exporter, address, renders } = await started();
    try {
      assert.match((await scrape(address)).body, /llamacpp:prompt_tokens_total\{[^}]*mode="completion"\} 120$/m);
      exporter.consume([completionBatch(121)]);
      assert.match((await scrape(address)).body, /llamacpp:prompt_tokens_total\{[^}]*mode="completion"\} 121$/m);
      assert.match((await scrape(address, '/metrics', { headers: GZIP })).body, /mode="completion"\} 121$/m);
      assert.equal(renders(), 2);
    } finally {
      await exporter.shutdown();
    }
  });

  it('keeps one body per format and name[] filter, the filter in any order', async () => {
    const { exporter, address, renders } = await started();
    try {
      const text = (await scrape(address)).body;
      const om = (await scrape(address, '/metrics', { headers: OPENMETRICS })).body;
      assert.notEqual(om, text);
      assert.match(om, /# EOF\n$/);
      const ab = (await scrape(address, '/metrics?name[]=llamacpp:prompt_tokens_total&name[]=llamacpp:requests_processing')).body;
      const ba = (await scrape(address, '/metrics?name[]=llamacpp:requests_processing&name[]=llamacpp:prompt_tokens_total')).body;
      assert.equal(ab, ba);
      assert.notEqual(ab, text);
      assert.equal((await scrape(address)).body, text);
      assert.equal(renders(), 3);
    } finally {
      await exporter.shutdown();
    }
  });

  it('renders every scrape when the cache is off (the benchmark baseline)', async () => {
    const { exporter, address, renders } = await started({ cacheBodies: false });
    try {
      await scrape(address);
      await scrape(address, '/metrics', { headers: GZIP });
      assert.equal(renders(), 2);
    } finally {
      await exporter.shutdown();
    }
  });
});

describe('BodyCache', () => {
  it('holds at most maxEntries bodies, dropping the least recently used', () => {
    const cache = new BodyCache(2);
    let rendered = 0;
    const render = (text: string) => () => (rendered++, Buffer.from(text));
    cache.get('a', 1, render('A'));
    cache.get('b', 1, render('B'));
    cache.get('a', 1, render('A')); // a is now the most recent
    cache.get('c', 1, render('C')); // evicts b
    assert.equal(cache.size, 2);
    assert.equal(rendered, 3);
    assert.equal(cache.get('a', 1, render('A2')).bytes.toString(), 'A');
    assert.equal(cache.get('b', 1, render('B2')).bytes.toString(), 'B2');
  });

  it('drops every body when the version changes; a body already handed out stays whole', async () => {
    const cache = new BodyCache(4);
    const old = cache.get('a', 1, () => Buffer.from('old'));
    cache.get('b', 1, () => Buffer.from('other'));
    const fresh = cache.get('a', 2, () => Buffer.from('new'));
    assert.equal(cache.size, 1);
    assert.equal(fresh.bytes.toString(), 'new');
    // A scrape still compressing the old body gets the old body, complete.
    assert.equal(gunzipSync(await old.gzipped()).toString(), 'old');
    assert.strictEqual(fresh.gzipped(), fresh.gzipped(), 'one compression shared by every scrape');
  });
});

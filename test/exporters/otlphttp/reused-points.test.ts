/**
 * A scraping receiver rewrites its data points every other scrape (model/batch.ts):
 * a push that is still being encoded when the targets are scraped again sends the
 * values it was given, not later ones: it holds the points (model/point-holds.ts)
 * while it encodes, and the scrapes in between make theirs anew.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OtlpHttpExporter } from '../../../src/exporters/otlphttp/index.js';
import { ScrapeState } from '../../../src/receivers/prometheus/scrape-state.js';
import { testConfig, testContext } from './batches.js';
import { OtlpReceiver, points } from './receiver.js';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await OtlpReceiver.start();
});
after(() => receiver.close());

test('scrapes during an encode do not change what the push sends', async () => {
  const { context } = testContext();
  const exporter = new OtlpHttpExporter(testConfig({ endpoint: receiver.endpoint }), context);
  await exporter.start();
  try {
    // Several targets: the encoder yields between resources, and the scrapes land in between.
    const states = [0, 1, 2, 3].map((i) => new ScrapeState(resourceFromAttributes({ 'service.instance.id': `runner-${i}` })));
    const page = (v: number) => `# TYPE tokens counter\ntokens{slot="0"} ${v}\ntokens{slot="1"} ${v}\n`;
    exporter.consume(states.map((s) => s.convert(page(10), 'text/plain', 1_000).batch));
    const pushed = exporter.exportNow();
    // The push has started; two more scrapes of every target rewrite the points the pushed batches hold.
    await Promise.resolve();
    await Promise.resolve();
    for (const v of [20, 30]) for (const s of states) s.convert(page(v), 'text/plain', v * 100);
    await pushed;
    await exporter.forceFlush();
    const values = [...points(receiver.accepted)].map((p) => Number(p.point.asDouble ?? p.point.asInt));
    assert.equal(values.length, 8);
    assert.deepEqual([...new Set(values)], [10], 'every point as consumed');
  } finally {
    await exporter.shutdown();
  }
});

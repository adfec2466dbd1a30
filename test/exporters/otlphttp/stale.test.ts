/** A runner that went down hands on an empty snapshot: nothing is pushed for it, nothing pending is lost. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OtlpHttpExporter } from '../../../src/exporters/otlphttp/index.js';
import { runnerBatch, testConfig, testContext } from './batches.js';
import { attr, OtlpReceiver, type Decoded } from './receiver.js';

let receiver: OtlpReceiver;
before(async () => {
  receiver = await OtlpReceiver.start();
});
after(() => receiver.close());

test('empty snapshots are not pushed and do not withdraw the data already waiting', async () => {
  const { context } = testContext();
  const exporter = new OtlpHttpExporter(testConfig({ endpoint: receiver.endpoint }), context);
  await exporter.start();
  try {
    const live = runnerBatch(0, 1);
    const gone = runnerBatch(1, 1);
    exporter.consume([live, gone]);
    // Runner 1 goes down right after its last good scrape.
    exporter.consume([{ resource: gone.resource, scopeMetrics: [] }]);
    await exporter.forceFlush();
    const ids = receiver.accepted.flatMap((r) => (r.body.resourceMetrics as Decoded[]).map((rm) => attr(rm.resource.attributes, 'service.instance.id')));
    assert.deepEqual(ids, ['runner-0', 'runner-1'], 'the last good data of runner 1 still goes out');

    receiver.accepted.length = 0;
    exporter.consume([{ resource: gone.resource, scopeMetrics: [] }]);
    await exporter.forceFlush();
    assert.equal(receiver.accepted.length, 0, 'nothing to push for a runner that is down');
  } finally {
    await exporter.shutdown();
  }
});

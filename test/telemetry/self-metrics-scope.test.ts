import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';

const names = (self: SelfMetrics) =>
  self
    .collect()
    .scopeMetrics[0]!.metrics.flatMap((m) => m.dataPoints.map((p) => `${m.descriptor.name}${JSON.stringify(p.attributes)}=${p.value}`))
    .sort();

test("disposing a component's scope removes the series it created and nobody else's", () => {
  const root = new SelfMetrics();
  const kept = root.scope();
  const removed = root.scope();
  kept.counter('c_total', 'h').add({ job: 'kept' }, 2);
  removed.counter('c_total', 'h').add({ job: 'removed' });
  const perTarget = removed.scope();
  perTarget.gauge('up', 'h').set({ job: 'removed', instance: 'x' }, 1);
  let refreshed = 0;
  removed.onCollect(() => refreshed++);
  assert.deepEqual(names(root), ['c_total{"job":"kept"}=2', 'c_total{"job":"removed"}=1', 'up{"job":"removed","instance":"x"}=1']);
  assert.equal(refreshed, 1);

  removed.dispose();
  assert.deepEqual(names(root), ['c_total{"job":"kept"}=2']);
  assert.equal(refreshed, 1, 'its refreshers go too');

  // A late write of the removed component (a draining exporter) goes nowhere, even on a series its successor owns.
  const successor = root.scope();
  successor.counter('c_total', 'h').add({ job: 'removed' }, 5);
  removed.counter('c_total', 'h').add({ job: 'removed' }, 100);
  perTarget.gauge('up', 'h').set({ job: 'removed', instance: 'x' }, 0);
  assert.deepEqual(names(root), ['c_total{"job":"kept"}=2', 'c_total{"job":"removed"}=5']);
});

test('a kept series keeps its start time however many scopes come and go', () => {
  const root = new SelfMetrics();
  const kept = root.scope();
  kept.counter('c_total', 'h').add({ job: 'kept' });
  const start = root.collect().scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.startTime;
  for (let i = 0; i < 3; i++) {
    const other = root.scope();
    other.counter('c_total', 'h').add({ job: `other${i}` });
    other.dispose();
  }
  kept.counter('c_total', 'h').add({ job: 'kept' });
  const points = root.collect().scopeMetrics[0]!.metrics[0]!.dataPoints;
  assert.equal(points.length, 1);
  assert.deepEqual(points[0]!.startTime, start);
  assert.equal(points[0]!.value, 2);
});

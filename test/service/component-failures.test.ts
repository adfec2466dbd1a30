import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ComponentFailures } from '../../src/service/component-failures.js';
import { fanout } from '../../src/service/fanout.js';
import { SelfMetrics } from '../../src/telemetry/self-metrics.js';
import { CollectingConsumer, RecordingLogger } from '../helpers/collect.js';

const throwing = (message: () => string) => ({
  consume() {
    throw new Error(message());
  },
});

test('a fan-out isolates each consumer, a single one too; every failure counted, each cause logged once', () => {
  const metrics = new SelfMetrics();
  const logger = new RecordingLogger();
  const failures = new ComponentFailures({ component: 'exporter/bad' }, metrics, logger);
  const good = new CollectingConsumer();
  const pair = fanout([
    { consumer: throwing(() => 'same'), failures },
    { consumer: good, failures: new ComponentFailures({ component: 'exporter/good' }, metrics, logger) },
  ]);
  const alone = fanout([{ consumer: throwing(() => 'same'), failures }]);
  for (let i = 0; i < 3; i++) {
    pair.consume([]);
    alone.consume([]);
  }
  assert.equal(good.batches.length, 3);
  const errors = metrics.counter('runner_metrics_component_errors_total', '');
  assert.equal(errors.value({ component: 'exporter/bad' }), 6);
  assert.equal(errors.value({ component: 'exporter/good' }), 0);
  assert.equal(logger.lines.length, 1);
  assert.equal(logger.lines[0]!.error, 'Error: same');
});

test('a component failing with ever new causes logs ten of them, then says it stops logging; counting goes on', () => {
  const metrics = new SelfMetrics();
  const logger = new RecordingLogger();
  let n = 0;
  const c = fanout([{ consumer: throwing(() => `cause ${n++}`), failures: new ComponentFailures({ component: 'processor/p', pipeline: 'metrics' }, metrics, logger) }]);
  for (let i = 0; i < 50; i++) c.consume([]);
  assert.equal(metrics.counter('runner_metrics_component_errors_total', '').value({ component: 'processor/p', pipeline: 'metrics' }), 50);
  assert.equal(logger.lines.length, 11);
  assert.match(logger.lines[10]!.msg, /no longer logged/);
});

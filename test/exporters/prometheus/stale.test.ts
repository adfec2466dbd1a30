import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusExporter } from '../../../src/exporters/prometheus/index.js';
import { gauge, resourceBatch, testConfig, testContext } from './batches.js';

test('an empty snapshot for a resource (its runner went down) stops its series being served', () => {
  const exporter = new PrometheusExporter(testConfig({ include_own_metrics: false }), testContext());
  const a = resourceBatch({ backend: 'llama.cpp', model: 'a', mode: 'completion' }, [gauge('llamacpp:requests_processing', 'Busy.', [[{}, 2]])]);
  const b = resourceBatch({ backend: 'llama.cpp', model: 'b', mode: 'completion' }, [gauge('llamacpp:requests_processing', 'Busy.', [[{}, 1]])]);
  exporter.consume([a, b]);
  assert.match(exporter.render(), /model="a"/);
  exporter.consume([{ resource: a.resource, scopeMetrics: [] }]);
  const body = exporter.render();
  assert.doesNotMatch(body, /model="a"/);
  assert.match(body, /llamacpp:requests_processing\{backend="llama.cpp",model="b",mode="completion"\} 1/);
});

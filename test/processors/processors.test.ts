import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ValueType } from '@opentelemetry/api';
import { ResourceProcessor, applyAttributeActions, resourceProcessorConfigSchema } from '../../src/processors/resource/index.js';
import { FilterProcessor, filterProcessorConfigSchema } from '../../src/processors/filter/index.js';
import { AggregationTemporality, DataPointType, type Metric, type ResourceBatch } from '../../src/model/batch.js';
import { CollectingConsumer } from '../helpers/collect.js';

function gauge(name: string): Metric {
  return {
    descriptor: { name, description: '', unit: '', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: [{ startTime: [1, 0], endTime: [2, 0], attributes: {}, value: 1 }],
  };
}

function batch(attrs: Record<string, string>, ...names: string[]): ResourceBatch {
  return { resource: resourceFromAttributes(attrs), scopeMetrics: [{ scope: { name: 't' }, metrics: names.map(gauge) }] };
}

const names = (rb: ResourceBatch) => rb.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));

test('resource actions: insert, update, upsert, delete, from_attribute', () => {
  const cfg = resourceProcessorConfigSchema.parse({
    attributes: [
      { key: 'backend', value: 'llama.cpp', action: 'insert' },
      { key: 'mode', value: 'embedding', action: 'insert' },
      { key: 'model', value: 'new', action: 'update' },
      { key: 'absent', value: 'x', action: 'update' },
      { key: 'zone', value: 'eu', action: 'upsert' },
      { key: 'service.instance.id', action: 'delete' },
      { key: 'host', from_attribute: 'server.address', action: 'upsert' },
    ],
  });
  const out = applyAttributeActions(
    { mode: 'completion', model: 'old', 'service.instance.id': 'x:1', 'server.address': 'x:1' },
    cfg.attributes,
  );
  assert.deepEqual(out, { mode: 'completion', model: 'new', backend: 'llama.cpp', zone: 'eu', 'server.address': 'x:1', host: 'x:1' });
});

test('resource processor rewrites once per input resource and never mutates input', () => {
  const sink = new CollectingConsumer();
  const p = new ResourceProcessor(resourceProcessorConfigSchema.parse({ attributes: [{ key: 'backend', value: 'vllm', action: 'upsert' }] }), sink);
  const input = batch({ backend: 'x' }, 'a');
  p.consume([input]);
  p.consume([input]);
  assert.equal(input.resource.attributes['backend'], 'x');
  assert.equal(sink.batches[0]![0]!.resource.attributes['backend'], 'vllm');
  assert.equal(sink.batches[0]![0]!.resource, sink.batches[1]![0]!.resource, 'cached rewrite');
});

test('resource processor config: value or from_attribute is required', () => {
  assert.equal(resourceProcessorConfigSchema.safeParse({ attributes: [{ key: 'a', action: 'insert' }] }).success, false);
  assert.equal(resourceProcessorConfigSchema.safeParse({ attributes: [{ key: 'a', action: 'delete' }] }).success, true);
  assert.equal(resourceProcessorConfigSchema.safeParse({ attributes: [{ key: 'a', action: 'rename', value: 'x' }] }).success, false);
});

test('filter: strict include', () => {
  const sink = new CollectingConsumer();
  const p = new FilterProcessor(filterProcessorConfigSchema.parse({ metrics: { include: { match_type: 'strict', metric_names: ['llamacpp:prompt_tokens_total'] } } }), sink);
  p.consume([batch({}, 'llamacpp:prompt_tokens_total', 'llamacpp:prompt_tokens', 'other')]);
  assert.deepEqual(names(sink.batches[0]![0]!), ['llamacpp:prompt_tokens_total']);
});

test('filter: regexp include and exclude together', () => {
  const sink = new CollectingConsumer();
  const p = new FilterProcessor(
    filterProcessorConfigSchema.parse({
      metrics: { include: { match_type: 'regexp', metric_names: ['^llamacpp:'] }, exclude: { match_type: 'regexp', metric_names: ['_seconds'] } },
    }),
    sink,
  );
  p.consume([batch({}, 'llamacpp:prompt_tokens_total', 'llamacpp:prompt_seconds_total', 'vllm:x')]);
  assert.deepEqual(names(sink.batches[0]![0]!), ['llamacpp:prompt_tokens_total']);
});

test('filter: by resource attribute', () => {
  const sink = new CollectingConsumer();
  const p = new FilterProcessor(
    filterProcessorConfigSchema.parse({ metrics: { exclude: { match_type: 'strict', resource_attributes: [{ key: 'mode', value: 'embedding' }] } } }),
    sink,
  );
  p.consume([batch({ mode: 'completion' }, 'a'), batch({ mode: 'embedding' }, 'a')]);
  assert.deepEqual(names(sink.batches[0]![0]!), ['a']);
  assert.equal(sink.batches[0]![1]!.resource.attributes['mode'], 'embedding');
  assert.deepEqual(names(sink.batches[0]![1]!), [], 'every metric of the embedding runner is dropped');
});

test('filter: invalid regexp is a config error', () => {
  const r = filterProcessorConfigSchema.safeParse({ metrics: { include: { match_type: 'regexp', metric_names: ['(unclosed'] } } });
  assert.equal(r.success, false);
});

test('filter: empty config passes everything', () => {
  const sink = new CollectingConsumer();
  const p = new FilterProcessor(filterProcessorConfigSchema.parse(undefined), sink);
  p.consume([batch({}, 'a', 'b')]);
  assert.deepEqual(names(sink.batches[0]![0]!), ['a', 'b']);
});

test('filter: names and resource attributes in one rule must both match (as in the Collector)', () => {
  const sink = new CollectingConsumer();
  const p = new FilterProcessor(
    filterProcessorConfigSchema.parse({
      metrics: {
        exclude: { match_type: 'strict', metric_names: ['llamacpp:n_decode_total'], resource_attributes: [{ key: 'mode', value: 'embedding' }] },
      },
    }),
    sink,
  );
  p.consume([batch({ mode: 'completion' }, 'llamacpp:n_decode_total', 'a'), batch({ mode: 'embedding' }, 'llamacpp:n_decode_total', 'a')]);
  const [completion, embedding] = sink.batches[0]!;
  assert.deepEqual(names(completion!), ['llamacpp:n_decode_total', 'a'], 'other resources keep the metric');
  assert.deepEqual(names(embedding!), ['a'], 'only the embedding runner loses it');
});

test('filter: include by resource attribute and name together', () => {
  const sink = new CollectingConsumer();
  const p = new FilterProcessor(
    filterProcessorConfigSchema.parse({
      metrics: { include: { match_type: 'regexp', metric_names: ['^llamacpp:'], resource_attributes: [{ key: 'backend', value: '^llama' }] } },
    }),
    sink,
  );
  p.consume([batch({ backend: 'llama.cpp' }, 'llamacpp:x', 'other'), batch({ backend: 'vllm' }, 'llamacpp:x')]);
  assert.deepEqual(names(sink.batches[0]![0]!), ['llamacpp:x']);
  assert.deepEqual(names(sink.batches[0]![1]!), [], 'the vllm resource is passed on with nothing left');
});

test('resource actions on attributes named __proto__, constructor, toString', () => {
  const cfg = resourceProcessorConfigSchema.parse({
    attributes: [
      { key: '__proto__', value: 'p', action: 'upsert' },
      { key: 'constructor', value: 'c', action: 'insert' },
      { key: 'copied', from_attribute: 'toString', action: 'upsert' },
      { key: 'hasOwnProperty', value: 'h', action: 'update' },
    ],
  });
  const out = applyAttributeActions({}, cfg.attributes);
  assert.deepEqual(Object.keys(out), ['__proto__', 'constructor']);
  assert.equal(out['__proto__'], 'p');
  assert.equal(out['constructor'], 'c');
  assert.equal(Object.getPrototypeOf(out), Object.prototype, 'the prototype is untouched');
  // An own __proto__ survives the copy made for the next action list.
  assert.deepEqual(Object.keys(applyAttributeActions(out, [])), ['__proto__', 'constructor']);
});

test('filter: a resource attribute named toString or constructor matches only when the resource has it', () => {
  const sink = new CollectingConsumer();
  const p = new FilterProcessor(
    filterProcessorConfigSchema.parse({
      metrics: { include: { match_type: 'regexp', resource_attributes: [{ key: 'toString', value: '.*' }] } },
    }),
    sink,
  );
  p.consume([batch({ model: 'm' }, 'a')]);
  assert.deepEqual(names(sink.batches[0]![0]!), [], 'an inherited Object.prototype.toString is no attribute');
});

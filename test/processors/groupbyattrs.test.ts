import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ValueType } from '@opentelemetry/api';
import { GroupByAttrsProcessor, groupByAttrsProcessorConfigSchema } from '../../src/processors/groupbyattrs/index.js';
import { AttributesProcessor, attributesProcessorConfigSchema } from '../../src/processors/attributes/index.js';
import { AggregationTemporality, DataPointType, type Attributes, type Batch, type Metric, type ResourceBatch } from '../../src/model/batch.js';
import { CollectingConsumer } from '../helpers/collect.js';

function gauge(name: string, ...points: Array<[Attributes, number]>): Metric {
  return {
    descriptor: { name, description: '', unit: '', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map(([attributes, value]) => ({ startTime: [1, 0], endTime: [2, 0], attributes, value })),
  };
}

const SERVER = resourceFromAttributes({ backend: 'torchserve' });

function page(metrics: Metric[], resource = SERVER): ResourceBatch {
  return { resource, scopeMetrics: [{ scope: { name: 'prometheus' }, metrics }] };
}

/** resource attributes as JSON → metric name → [point attributes, value][] */
function view(batch: Batch): Map<string, Map<string, Array<[Attributes, number]>>> {
  const out = new Map<string, Map<string, Array<[Attributes, number]>>>();
  for (const rb of batch) {
    const byName = new Map<string, Array<[Attributes, number]>>();
    for (const sm of rb.scopeMetrics) {
      for (const m of sm.metrics) byName.set(m.descriptor.name, (m.dataPoints as Array<{ attributes: Attributes; value: number }>).map((p) => [p.attributes, p.value]));
    }
    out.set(JSON.stringify(rb.resource.attributes), byName);
  }
  return out;
}

function processors(keys: string[]) {
  const sink = new CollectingConsumer();
  const group = new GroupByAttrsProcessor(groupByAttrsProcessorConfigSchema.parse({ keys }), sink);
  return { sink, group };
}

test('groupbyattrs: one page serving three models becomes three resources plus the server\'s own', () => {
  const { sink, group } = processors(['model']);
  const a = { model: 'resnet18', Level: 'Model' };
  const b = { model: 'bert', Level: 'Model' };
  const c = { model: 'llama', Level: 'Model' };
  group.consume([page([gauge('PredictionTime', [a, 1], [b, 2], [c, 3]), gauge('MemoryUsed', [{ Level: 'Host' }, 9])])]);
  assert.deepEqual(
    view(sink.batches[0]!),
    new Map([
      ['{"backend":"torchserve","model":"resnet18"}', new Map([['PredictionTime', [[{ Level: 'Model' }, 1]]]])],
      ['{"backend":"torchserve","model":"bert"}', new Map([['PredictionTime', [[{ Level: 'Model' }, 2]]]])],
      ['{"backend":"torchserve","model":"llama"}', new Map([['PredictionTime', [[{ Level: 'Model' }, 3]]]])],
      ['{"backend":"torchserve"}', new Map([['MemoryUsed', [[{ Level: 'Host' }, 9]]]])],
    ]),
  );
});

test('groupbyattrs: the point\'s value wins over the resource\'s, and equal results share one resource', () => {
  const { sink, group } = processors(['model']);
  const resource = resourceFromAttributes({ backend: 'triton', model: 'configured' });
  group.consume([page([gauge('x', [{ model: 'm1' }, 1], [{}, 2]), gauge('y', [{ model: 'm1', gpu: '0' }, 3])], resource)]);
  const v = view(sink.batches[0]!);
  assert.deepEqual([...v.keys()].sort(), ['{"backend":"triton","model":"configured"}', '{"backend":"triton","model":"m1"}']);
  assert.deepEqual(v.get('{"backend":"triton","model":"m1"}'), new Map([['x', [[{}, 1]]], ['y', [[{ gpu: '0' }, 3]]]]));
});

test('groupbyattrs: objects are reused across scrapes (resources, attributes, unchanged metrics)', () => {
  const { sink, group } = processors(['model']);
  const attrs = { model: 'm', kind: 'k' };
  const host = gauge('host', [{}, 1]);
  group.consume([page([gauge('x', [attrs, 1]), host])]);
  group.consume([page([gauge('x', [attrs, 2]), host])]);
  const [first, second] = sink.batches;
  const find = (b: Batch, model: string | undefined) => b.find((rb) => rb.resource.attributes['model'] === model)!;
  assert.equal(find(first!, 'm').resource, find(second!, 'm').resource);
  const p = (b: Batch) => find(b, 'm').scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.attributes;
  assert.equal(p(first!), p(second!));
  assert.equal(find(second!, undefined).scopeMetrics[0]!.metrics[0], host, 'a metric with nothing to move is handed on as it is');
});

test('groupbyattrs: a model that goes away, and a target that goes down, are withdrawn at once', () => {
  const { sink, group } = processors(['model']);
  group.consume([page([gauge('x', [{ model: 'a' }, 1], [{ model: 'b' }, 2])])]);
  group.consume([page([gauge('x', [{ model: 'a' }, 1])])]);
  assert.deepEqual(
    view(sink.batches[1]!),
    new Map([
      ['{"backend":"torchserve","model":"b"}', new Map()],
      ['{"backend":"torchserve","model":"a"}', new Map([['x', [[{}, 1]]]])],
    ]),
  );
  group.consume([{ resource: SERVER, scopeMetrics: [] }]);
  assert.deepEqual(view(sink.batches[2]!), new Map([['{"backend":"torchserve","model":"a"}', new Map()]]));
  group.consume([{ resource: SERVER, scopeMetrics: [] }]);
  assert.equal(sink.batches.length, 3, 'nothing left to withdraw');
});

test('groupbyattrs: an identity change withdrawing the old resource never withdraws what the new one produces', () => {
  const { sink, group } = processors(['model']);
  const unknown = resourceFromAttributes({ backend: 'vllm', model: 'unknown' });
  const known = resourceFromAttributes({ backend: 'vllm', model: 'qwen' });
  group.consume([page([gauge('x', [{ model: 'qwen' }, 1])], unknown)]);
  // The new resource first, then the old one's empty snapshot (either order must leave qwen served).
  group.consume([page([gauge('x', [{ model: 'qwen' }, 2])], known)]);
  group.consume([{ resource: unknown, scopeMetrics: [] }]);
  assert.equal(sink.batches.length, 2, 'the old resource\'s withdrawal has nothing of its own to withdraw');
  group.consume([{ resource: known, scopeMetrics: [] }]);
  assert.deepEqual(view(sink.batches[2]!), new Map([['{"backend":"vllm","model":"qwen"}', new Map()]]));
});

test('groupbyattrs: no keys merges resources with equal attributes in one batch', () => {
  const { sink, group } = processors([]);
  group.consume([page([gauge('x', [{}, 1])]), page([gauge('y', [{}, 2])], resourceFromAttributes({ backend: 'torchserve' }))]);
  assert.equal(sink.batches[0]!.length, 1);
  assert.deepEqual(view(sink.batches[0]!).get('{"backend":"torchserve"}'), new Map([['x', [[{}, 1]]], ['y', [[{}, 2]]]]));
});

test('attributes then groupbyattrs: two differently named model labels become one runner per model', () => {
  const sink = new CollectingConsumer();
  const group = new GroupByAttrsProcessor(groupByAttrsProcessorConfigSchema.parse({ keys: ['model'] }), sink);
  const rename = new AttributesProcessor(
    attributesProcessorConfigSchema.parse({
      actions: [
        { key: 'model', from_attribute: 'ModelName', action: 'insert' },
        { key: 'ModelName', action: 'delete' },
        { key: 'model', from_attribute: 'model_name', action: 'insert' },
        { key: 'model_name', action: 'delete' },
      ],
    }),
    group,
  );
  const input = page([
    gauge('PredictionTime', [{ ModelName: 'resnet18', Level: 'Model' }, 83], [{ ModelName: 'bert', Level: 'Model' }, 12]),
    gauge('ts_inference_requests_total', [{ model_name: 'resnet18', model_version: 'default' }, 3]),
  ]);
  rename.consume([input]);
  assert.deepEqual(
    view(sink.batches[0]!),
    new Map([
      ['{"backend":"torchserve","model":"resnet18"}', new Map([['PredictionTime', [[{ Level: 'Model' }, 83]]], ['ts_inference_requests_total', [[{ model_version: 'default' }, 3]]]])],
      ['{"backend":"torchserve","model":"bert"}', new Map([['PredictionTime', [[{ Level: 'Model' }, 12]]]])],
    ]),
  );
  assert.deepEqual(input.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.attributes, { ModelName: 'resnet18', Level: 'Model' }, 'input untouched');
});

test('attributes: each attributes object is rewritten once; config needs actions', () => {
  const sink = new CollectingConsumer();
  const p = new AttributesProcessor(attributesProcessorConfigSchema.parse({ actions: [{ key: 'a', action: 'delete' }] }), sink);
  const attrs = { a: '1', b: '2' };
  p.consume([page([gauge('x', [attrs, 1])])]);
  p.consume([page([gauge('x', [attrs, 2])])]);
  const pointAttrs = (i: number) => sink.batches[i]![0]!.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.attributes;
  assert.deepEqual(pointAttrs(0), { b: '2' });
  assert.equal(pointAttrs(0), pointAttrs(1));
  assert.equal(attributesProcessorConfigSchema.safeParse({ actions: [] }).success, false);
  assert.equal(attributesProcessorConfigSchema.safeParse({ actions: [{ key: 'a', action: 'insert' }] }).success, false);
});

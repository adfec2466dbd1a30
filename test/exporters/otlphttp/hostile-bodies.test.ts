/**
 * What a hostile or broken runner sends reaches the backend intact through the
 * deflate thread: each gzip body decodes to exactly the bytes sent uncompressed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { RequestBuilder } from '../../../src/exporters/otlphttp/request-builder.js';
import { AggregationTemporality, DataPointType, type Metric, type ResourceBatch } from '../../../src/model/batch.js';

const time: [number, number] = [1_704_200_000, 0];

function gauge(name: string, points: Array<{ attributes: Record<string, string>; value: number }>): Metric {
  return {
    descriptor: { name, description: '', unit: '', valueType: 1 },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map((p) => ({ startTime: time, endTime: time, ...p })),
    prometheus: { type: 'gauge' },
  } as Metric;
}

function runner(name: string, metrics: Metric[]): ResourceBatch {
  return {
    resource: resourceFromAttributes({ 'service.name': name, backend: 'llama.cpp', model: `m/${name}`, mode: 'completion' }),
    scopeMetrics: [{ scope: { name: 'llamacpp' }, metrics }],
  };
}

const pages: Array<[string, ResourceBatch[]]> = [
  ['a 1 MB label value and a 1 MB help-less name', [runner('huge', [gauge('x'.repeat(1 << 20), [{ attributes: { blob: 'v'.repeat(1 << 20) }, value: 1 }])])]],
  [
    'label values of random bytes (no twin repeats anything)',
    [runner('noise', [gauge('noise', Array.from({ length: 3000 }, (_, i) => ({ attributes: { id: randomBytes(40).toString('latin1') }, value: i / 3 })))])],
  ],
  [
    '20,000 one-point families, unicode and NaN, Infinity, -0 values',
    [
      runner(
        'families',
        Array.from({ length: 20_000 }, (_, i) =>
          gauge(`fam_${i}_ünï`, [{ attributes: { slot: String(i % 7), text: '日本語\u0000\n"' }, value: [NaN, Infinity, -0, -Infinity, i][i % 5]! }]),
        ),
      ),
    ],
  ],
  ['a runner with no metrics beside one with many', [runner('empty', []), runner('full', [gauge('g', Array.from({ length: 5000 }, (_, i) => ({ attributes: { slot: String(i) }, value: i })))])]],
];

describe('protobuf + gzip bodies of hostile runner data', () => {
  for (const [label, resources] of pages) {
    it(label, async () => {
      const options = { encoding: 'proto', resourceToAttributes: ['backend', 'model', 'mode'], maxRequestBytes: 0, maxRequestPoints: 0 } as const;
      const failures: Error[] = [];
      const [gzipped] = await new RequestBuilder({ ...options, compression: 'gzip', onDeflateThreadFailure: (e) => failures.push(e) }).build(resources);
      const [plain] = await new RequestBuilder({ ...options, compression: 'none' }).build(resources);
      assert.deepEqual(failures, [], 'compressed by the deflate thread, not the fallback');
      assert.ok(gunzipSync(gzipped!.body).equals(plain!.body));
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFamilies, type MetricFamily } from '../../src/prometheus/families.js';
import {
  OPENMETRICS_CONTENT_TYPE,
  TEXT_CONTENT_TYPE,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  writeFamilies,
  writeLabels,
} from '../../src/prometheus/writer.js';

describe('formatValue', () => {
  it('spells special values as Prometheus does', () => {
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(-0), '-0');
  });

  it('writes integers without exponent and fractions in shortest form', () => {
    assert.equal(formatValue(4934), '4934');
    assert.equal(formatValue(1234570), '1234570');
    assert.equal(formatValue(1700000000123), '1700000000123');
    assert.equal(formatValue(0.1), '0.1');
    assert.equal(formatValue(1.758000000123456e9), '1758000000.123456');
    assert.equal(formatValue(7.689368882420941e-7), '7.689368882420941e-7');
    assert.equal(formatValue(1e21), '1e+21');
  });

  it('round-trips through the parser', () => {
    const values = [0, -0, 1, -1, 0.1, 1 / 3, Math.PI, 1e-300, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2, 1e21, 123.456e-10, NaN, Infinity, -Infinity];
    const text = values.map((v, i) => `v${i} ${formatValue(v)}\n`).join('');
    const read = parseFamilies(text).map((f) => f.samples[0]!.value);
    assert.deepEqual(read, values);
  });
});

describe('escaping', () => {
  it('escapes label values', () => {
    assert.equal(escapeLabelValue('plain'), 'plain');
    assert.equal(escapeLabelValue('a\\b"c"\nd'), 'a\\\\b\\"c\\"\\nd');
  });

  it('escapes HELP text, leaving quotes alone', () => {
    assert.equal(escapeHelp('plain "text"'), 'plain "text"');
    assert.equal(escapeHelp('a\\b\nc'), 'a\\\\b\\nc');
  });

  it('writes label sets', () => {
    assert.equal(writeLabels([]), '');
    assert.equal(writeLabels(['a', 'b', 'c', 'x"y']), '{a="b",c="x\\"y"}');
    assert.equal(writeLabels(['label.x', '1']), '{"label.x"="1"}');
  });
});

describe('writeFamilies', () => {
  const families: MetricFamily[] = [
    {
      name: 'llamacpp:prompt_tokens_total',
      type: 'counter',
      help: 'Number of prompt tokens processed.',
      samples: [{ name: 'llamacpp:prompt_tokens_total', labels: ['model', 'ai/smollm2'], value: 4934 }],
    },
    { name: 'empty', type: 'gauge', help: 'No samples yet.', samples: [] },
    {
      name: 'lat_seconds',
      type: 'histogram',
      unit: 'seconds',
      samples: [
        { name: 'lat_seconds_bucket', labels: ['le', '+Inf'], value: 3, timestamp: 1700000000123 },
        { name: 'lat_seconds_sum', labels: [], value: 0.5, timestamp: 1700000000123 },
        { name: 'lat_seconds_count', labels: [], value: 3, timestamp: 1700000000123 },
      ],
    },
    { name: 'odd', type: 'unknown', help: 'Say "hi"\\', samples: [{ name: 'odd', labels: [], value: NaN }] },
    { name: 'dotted.name', type: 'gauge', samples: [{ name: 'dotted.name', labels: ['a', 'b'], value: 1 }] },
  ];

  it('writes text format 0.0.4', () => {
    assert.equal(
      writeFamilies(families),
      [
        '# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.',
        '# TYPE llamacpp:prompt_tokens_total counter',
        'llamacpp:prompt_tokens_total{model="ai/smollm2"} 4934',
        '# HELP empty No samples yet.',
        '# TYPE empty gauge',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{le="+Inf"} 3 1700000000123',
        'lat_seconds_sum 0.5 1700000000123',
        'lat_seconds_count 3 1700000000123',
        '# HELP odd Say "hi"\\\\',
        '# TYPE odd untyped',
        'odd NaN',
        '# TYPE "dotted.name" gauge',
        '{"dotted.name",a="b"} 1',
        '',
      ].join('\n'),
    );
  });

  it('writes OpenMetrics with UNIT, seconds timestamps and # EOF', () => {
    const text = writeFamilies(families, { openMetrics: true });
    assert.match(text, /^# TYPE lat_seconds histogram\n# UNIT lat_seconds seconds\nlat_seconds_bucket\{le="\+Inf"\} 3 1700000000\.123$/m);
    assert.match(text, /^# HELP odd Say \\"hi\\"\\\\\n# TYPE odd unknown$/m);
    assert.ok(text.endsWith('\nodd NaN\n# TYPE "dotted.name" gauge\n{"dotted.name",a="b"} 1\n# EOF\n'));
  });

  it('round-trips in both formats', () => {
    assert.deepEqual(parseFamilies(writeFamilies(families, { openMetrics: true }), { openMetrics: true }), families);
    const text = parseFamilies(writeFamilies(families));
    assert.deepEqual(
      text.map((f) => f.type),
      ['counter', 'gauge', 'histogram', 'untyped', 'gauge'],
    );
    assert.deepEqual(
      text.map((f) => f.samples),
      families.map((f) => f.samples),
    );
  });

  it('exports the content types', () => {
    assert.equal(TEXT_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(OPENMETRICS_CONTENT_TYPE, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  });
});

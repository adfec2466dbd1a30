import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFamilies, type MetricFamily } from '../../src/prometheus/families.js';
import {
  OPENMETRICS_CONTENT_TYPE,
  TEXT_CONTENT_TYPE,
  contentType,
  escapeHelp,
  escapeLabelName,
  escapeLabelValue,
  escapeMetricName,
  formatValue,
  isFloatText,
  joinSeries,
  toEscapingScheme,
  writeFamilies,
  writeLabelName,
  writeLabels,
  writeMetricName,
  writeSeriesName,
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

describe('name escaping schemes (prometheus/common EscapeName examples)', () => {
  // [input, underscores, dots, values], from Prometheus' own tests and docs/instrumenting/escaping_schemes.md.
  const examples: ReadonlyArray<readonly [string, string, string, string]> = [
    ['mysystem.prod.west.cpu.load', 'mysystem_prod_west_cpu_load', 'mysystem_dot_prod_dot_west_dot_cpu_dot_load', 'U__mysystem_2e_prod_2e_west_2e_cpu_2e_load'],
    ['mysystem.prod.west.cpu.load_total', 'mysystem_prod_west_cpu_load_total', 'mysystem_dot_prod_dot_west_dot_cpu_dot_load__total', 'U__mysystem_2e_prod_2e_west_2e_cpu_2e_load__total'],
    ['http.status:sum', 'http_status:sum', 'http_dot_status:sum', 'U__http_2e_status:sum'],
    ['label with 😱', 'label_with__', 'label__with____', 'U__label_20_with_20__1f631_'],
    ['花火', '__', '____', 'U___82b1__706b_'],
    ['label with \u0100', 'label_with__', 'label__with____', 'U__label_20_with_20__100_'],
    ['metric.name/with/slashes', 'metric_name_with_slashes', 'metric_dot_name__with__slashes', 'U__metric_2e_name_2f_with_2f_slashes'],
    ['metric.name', 'metric_name', 'metric_dot_name', 'U__metric_2e_name'],
  ];

  for (const [input, underscores, dots, values] of examples) {
    it(`escapes ${JSON.stringify(input)}`, () => {
      assert.equal(escapeMetricName(input, 'underscores'), underscores);
      assert.equal(escapeMetricName(input, 'dots'), dots);
      assert.equal(escapeMetricName(input, 'values'), values);
      assert.equal(escapeMetricName(input, 'allow-utf-8'), input);
    });
  }

  it('leaves valid names alone under every scheme, as Prometheus writes them', () => {
    for (const scheme of ['allow-utf-8', 'underscores', 'dots', 'values'] as const) {
      assert.equal(escapeMetricName('no:escaping_required', scheme), 'no:escaping_required');
      assert.equal(escapeMetricName('vllm:num_requests_running', scheme), 'vllm:num_requests_running');
      assert.equal(escapeLabelName('engine_id', scheme), 'engine_id');
    }
  });

  it('escapes a leading digit, and an empty name stays empty (unwritable)', () => {
    assert.equal(escapeMetricName('1valid', 'underscores'), '_valid');
    assert.equal(escapeMetricName('1valid', 'values'), 'U___31_valid');
    assert.equal(escapeMetricName('', 'underscores'), '');
    assert.equal(escapeLabelName('', 'values'), '');
  });

  it('treats `:` as outside the label-name charset', () => {
    assert.equal(escapeLabelName('a:b', 'underscores'), 'a_b');
    assert.equal(escapeLabelName('a:b', 'dots'), 'a__b');
    assert.equal(escapeLabelName('a:b', 'values'), 'U__a_3a_b');
    assert.equal(escapeMetricName('a:b', 'underscores'), 'a:b');
  });

  it('escapes an injection attempt into one harmless name', () => {
    const name = '"} 2\ninjected 1\n#';
    assert.equal(escapeMetricName(name, 'underscores'), '___2_injected_1__');
    assert.equal(escapeMetricName(name, 'values'), 'U___22__7d__20_2_a_injected_20_1_a__23_');
    // Under allow-utf-8 the name stays one quoted token on one line.
    assert.equal(writeMetricName(name), '"\\"} 2\\ninjected 1\\n#"');
  });

  it('turns lone surrogates into U+FFFD so the body is valid UTF-8', () => {
    assert.equal(escapeMetricName('a\uD800b', 'allow-utf-8'), 'a\uFFFDb');
    assert.equal(escapeMetricName('a\uD800', 'values'), 'U__a_FFFD_');
    assert.equal(escapeLabelValue('x\uDC00y'), 'x\uFFFDy');
    assert.equal(escapeLabelValue('ok 😱'), 'ok 😱');
    assert.equal(escapeHelp('h\uD83D'), 'h\uFFFD');
  });

  it('reads scheme names as Prometheus spells them', () => {
    assert.equal(toEscapingScheme('allow-utf-8'), 'allow-utf-8');
    assert.equal(toEscapingScheme('values'), 'values');
    assert.equal(toEscapingScheme('Underscores'), undefined);
  });
});

describe('isFloatText', () => {
  it("accepts what Go's ParseFloat reads as a bound, and nothing else", () => {
    for (const ok of ['1', '1.0', '.5', '5.', '-0.25', '1e+06', '1E-3', '+Inf', 'Inf', '-inf', 'Infinity', 'NaN', 'nan']) assert.ok(isFloatText(ok), ok);
    for (const bad of ['', ' 1', '1 ', '0x10', '1_000', 'abc', '\\n', '+NaN', 'e5', '1e', '.']) assert.ok(!isFloatText(bad), bad);
  });
});

describe('writing names', () => {
  it('writes valid names bare and quotes others, escaping \\, " and newlines', () => {
    assert.equal(writeMetricName('a:b_c'), 'a:b_c');
    assert.equal(writeMetricName('a.b'), '"a.b"');
    assert.equal(writeMetricName('a\\b"c\nd'), '"a\\\\b\\"c\\nd"');
    assert.equal(writeLabelName('a:b'), '"a:b"');
    assert.equal(writeLabelName('_ok'), '_ok');
  });

  it('puts a quoted metric name inside the braces', () => {
    assert.equal(writeSeriesName('a.b', ['x', '1']), '{"a.b",x="1"}');
    assert.equal(writeSeriesName('a.b', []), '{"a.b"}');
    assert.equal(writeSeriesName('ab', ['x.y', '1']), 'ab{"x.y"="1"}');
    assert.equal(joinSeries('"a.b"', '{x="1",'), '{"a.b",x="1",');
    assert.equal(joinSeries('"a.b"', '{'), '{"a.b",');
    assert.equal(joinSeries('ab', '{'), 'ab{');
  });

  it('names the escaping in the Content-Type, as expfmt does', () => {
    assert.equal(contentType(false, 'underscores'), 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores');
    assert.equal(contentType(true, 'allow-utf-8'), 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8');
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

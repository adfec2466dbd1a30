import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpositionParser, ParseError, type ParserOptions } from '../../src/prometheus/parser.js';
import { readFixture } from '../helpers/fixtures.js';

// Runs the parser over a body and records every entry as a plain object.

export type Entry =
  | { kind: 'series'; line: number; key: string; name: string; labels: string[]; value: number; timestamp?: number }
  | { kind: 'help'; line: number; name: string; help: string }
  | { kind: 'type'; line: number; name: string; type: string }
  | { kind: 'unit'; line: number; name: string; unit: string }
  | { kind: 'comment'; line: number };

export function collect(text: string, options?: ParserOptions): Entry[] {
  const parser = new ExpositionParser(text, options);
  const out: Entry[] = [];
  for (let kind = parser.next(); kind !== 'eof'; kind = parser.next()) {
    const line = parser.line;
    switch (kind) {
      case 'series': {
        const entry: Entry = {
          kind,
          line,
          key: parser.seriesKey(),
          name: parser.metricName(),
          labels: parser.labels(),
          value: parser.value,
        };
        if (parser.timestamp !== undefined) entry.timestamp = parser.timestamp;
        out.push(entry);
        break;
      }
      case 'help':
        out.push({ kind, line, name: parser.familyName(), help: parser.helpText() });
        break;
      case 'type':
        out.push({ kind, line, name: parser.familyName(), type: parser.familyType() });
        break;
      case 'unit':
        out.push({ kind, line, name: parser.familyName(), unit: parser.unitText() });
        break;
      case 'comment':
        out.push({ kind, line });
        break;
    }
  }
  return out;
}

export function series(text: string, options?: ParserOptions): Extract<Entry, { kind: 'series' }>[] {
  return collect(text, options).filter((e): e is Extract<Entry, { kind: 'series' }> => e.kind === 'series');
}

function only(text: string, options?: ParserOptions): Extract<Entry, { kind: 'series' }> {
  const all = series(text, options);
  assert.equal(all.length, 1);
  return all[0]!;
}

describe('ExpositionParser: metadata', () => {
  it('reads HELP, TYPE and UNIT with their line numbers', () => {
    const text = '# HELP foo_seconds Time spent.\n# TYPE foo_seconds gauge\n# UNIT foo_seconds seconds\nfoo_seconds 1\n';
    assert.deepEqual(collect(text), [
      { kind: 'help', line: 1, name: 'foo_seconds', help: 'Time spent.' },
      { kind: 'type', line: 2, name: 'foo_seconds', type: 'gauge' },
      { kind: 'unit', line: 3, name: 'foo_seconds', unit: 'seconds' },
      { kind: 'series', line: 4, key: 'foo_seconds', name: 'foo_seconds', labels: [], value: 1 },
    ]);
  });

  it('unescapes HELP text', () => {
    const [help] = collect('# HELP foo Line one\\nback\\\\slash "quoted"\n');
    assert.deepEqual(help, { kind: 'help', line: 1, name: 'foo', help: 'Line one\nback\\slash "quoted"' });
  });

  it('reads an empty HELP', () => {
    assert.deepEqual(collect('# HELP foo\n# HELP bar \n').map((e) => e.kind === 'help' && e.help), ['', '']);
  });

  it('accepts every family type, and TYPE without HELP', () => {
    const types = ['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'untyped', 'unknown', 'info', 'stateset'];
    const text = types.map((t, i) => `# TYPE f${i} ${t}\n`).join('');
    assert.deepEqual(
      collect(text).map((e) => e.kind === 'type' && e.type),
      types,
    );
  });

  it('reports other comments as comments', () => {
    assert.deepEqual(collect('# just a note\n#no space\n#\n# HELPFUL hint\nfoo 1\n').map((e) => e.kind), [
      'comment',
      'comment',
      'comment',
      'comment',
      'series',
    ]);
  });

  it('reads families that have HELP and TYPE but no samples', () => {
    const text = readFixture('runners', 'torchserve.prom');
    const entries = collect(text);
    const first = entries.findIndex((e) => e.kind === 'help' && e.name === 'Requests5XX');
    assert.deepEqual(entries.slice(first, first + 3).map((e) => e.kind), ['help', 'type', 'help']);
  });
});

describe('ExpositionParser: samples', () => {
  it('reads the llama.cpp counter with a colon in its name', () => {
    const entries = series(readFixture('runners', 'llamacpp-completion.prom'));
    const prompt = entries.find((e) => e.name === 'llamacpp:prompt_tokens_total');
    assert.deepEqual(prompt, {
      kind: 'series',
      line: 4,
      key: 'llamacpp:prompt_tokens_total',
      name: 'llamacpp:prompt_tokens_total',
      labels: [],
      value: 4934,
    });
    assert.equal(entries.find((e) => e.name === 'llamacpp:n_busy_slots_per_decode')?.value, 1.08214);
  });

  it('reads the real llama-server capture', () => {
    const entries = series(readFixture('llamacpp-real', 'completion.after-traffic.metrics.prom'));
    assert.equal(entries.find((e) => e.name === 'llamacpp:prompt_tokens_total')?.value, 121);
  });

  it('gives the series key exactly as written, without value or timestamp', () => {
    const entry = only('foo_bucket{le="0.5", a = "b"}  17 1395066363000\n');
    assert.equal(entry.key, 'foo_bucket{le="0.5", a = "b"}');
    assert.equal(entry.name, 'foo_bucket');
    assert.deepEqual(entry.labels, ['le', '0.5', 'a', 'b']);
    assert.equal(entry.value, 17);
    assert.equal(entry.timestamp, 1395066363000);
  });

  it('accepts a trailing comma in label sets (TorchServe)', () => {
    const entries = series(readFixture('runners', 'torchserve-filtered.prom'));
    assert.deepEqual(entries[1], {
      kind: 'series',
      line: 7,
      key: 'ts_inference_latency_microseconds{model_name="resnet18",model_version="default",hostname="inference-host-1",}',
      name: 'ts_inference_latency_microseconds',
      labels: ['model_name', 'resnet18', 'model_version', 'default', 'hostname', 'inference-host-1'],
      value: 290371.129,
    });
    assert.deepEqual(only('foo{a="b",} 1\n').labels, ['a', 'b']);
    assert.deepEqual(only('foo{} 1\n').labels, []);
  });

  it('unescapes label values', () => {
    const entry = only('foo{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb",other="\\t"} 1\n');
    assert.deepEqual(entry.labels, ['path', 'C:\\dir', 'quote', 'say "hi"', 'nl', 'a\nb', 'other', '\\t']);
  });

  it('keeps braces, commas and # inside label values', () => {
    assert.deepEqual(only('foo{a="}{,# x"} 2\n').labels, ['a', '}{,# x']);
  });

  it('reads NaN, +Inf, -Inf, Inf and exponents', () => {
    const text = 'a NaN\nb +Inf\nc -Inf\nd Inf\ne 1.23457e+06\nf -1.5E-3\ng 1e+21\nh nan\ni -0\nj 0.1\nk 12345678901234567890\n';
    const values = series(text).map((e) => e.value);
    assert.deepEqual(values, [NaN, Infinity, -Infinity, Infinity, 1234570, -0.0015, 1e21, NaN, -0, 0.1, 12345678901234567890]);
  });

  it('reads decimals exactly', () => {
    for (const v of ['0.0371', '3.812', '1.758000000123456e+09', '7.689368882420941e-07', '0.30000000000000004', '123456.789e-300']) {
      assert.equal(only(`x ${v}\n`).value, Number(v), v);
    }
  });

  it('reads optional timestamps: integer milliseconds in text, seconds in OpenMetrics', () => {
    assert.deepEqual(
      series('a 1\nb 2 1700000000123\nc 3 -5\n').map((e) => e.timestamp),
      [undefined, 1700000000123, -5],
    );
    assert.equal(only('a 1 1700000000.123\n# EOF\n', { openMetrics: true }).timestamp, 1700000000123);
  });

  it('reads a counter without _total (TGI) and a summary', () => {
    const entries = series(readFixture('runners', 'tgi.prom'));
    assert.equal(entries.find((e) => e.name === 'tgi_request_count')?.value, 130);
    const summary = entries.filter((e) => e.name.startsWith('tgi_request_skipped_tokens'));
    assert.deepEqual(
      summary.map((e) => [e.name, e.labels, e.value]),
      [
        ['tgi_request_skipped_tokens', ['quantile', '0'], 0],
        ['tgi_request_skipped_tokens', ['quantile', '0.5'], 0],
        ['tgi_request_skipped_tokens', ['quantile', '0.9'], 0],
        ['tgi_request_skipped_tokens', ['quantile', '0.95'], 0],
        ['tgi_request_skipped_tokens', ['quantile', '0.99'], 0],
        ['tgi_request_skipped_tokens', ['quantile', '0.999'], 0],
        ['tgi_request_skipped_tokens', ['quantile', '1'], 0],
        ['tgi_request_skipped_tokens_sum', [], 0],
        ['tgi_request_skipped_tokens_count', [], 127],
      ],
    );
  });

  it('reads untyped samples', () => {
    assert.deepEqual(collect('# TYPE foo untyped\nfoo 3\nbar 4\n').map((e) => e.kind), ['type', 'series', 'series']);
  });

  it('skips blank lines and handles CRLF line endings', () => {
    const text = '# HELP foo Help text.\r\n# TYPE foo counter\r\n\r\n  \r\nfoo{a="b"} 1\r\nbar 2 1000\r\n';
    assert.deepEqual(collect(text), [
      { kind: 'help', line: 1, name: 'foo', help: 'Help text.' },
      { kind: 'type', line: 2, name: 'foo', type: 'counter' },
      { kind: 'series', line: 5, key: 'foo{a="b"}', name: 'foo', labels: ['a', 'b'], value: 1 },
      { kind: 'series', line: 6, key: 'bar', name: 'bar', labels: [], value: 2, timestamp: 1000 },
    ]);
  });

  it('reads a body without a final newline', () => {
    assert.deepEqual(series('a 1\nb 2').map((e) => e.value), [1, 2]);
  });

  it('reads metric names quoted in braces (Prometheus 3 UTF-8 names)', () => {
    const entry = only('{"name.with.dots", "label.x"="1", b="2"} 5\n');
    assert.equal(entry.name, 'name.with.dots');
    assert.equal(entry.key, '{"name.with.dots", "label.x"="1", b="2"}');
    assert.deepEqual(entry.labels, ['label.x', '1', 'b', '2']);
    assert.deepEqual(collect('# TYPE "name.with.dots" gauge\n')[0], {
      kind: 'type',
      line: 1,
      name: 'name.with.dots',
      type: 'gauge',
    });
  });

  it('reads series after a label set of any size', () => {
    const labels = Array.from({ length: 40 }, (_, i) => `l${i}="v${i}"`).join(',');
    assert.equal(only(`foo{${labels}} 1\n`).labels.length, 80);
  });

  it('stops at # EOF in text format too', () => {
    assert.deepEqual(collect('a 1\n# EOF\n').map((e) => e.kind), ['series']);
  });
});

describe('ExpositionParser: OpenMetrics', () => {
  const om = { openMetrics: true };

  it('reads _created series and skips exemplars', () => {
    const entries = series(readFixture('prometheus-textparse', 'alltypes.5mfs.om.txt'), om);
    const bucket = entries.find((e) => e.key === 'rpc_durations_histogram_seconds_bucket{le="-0.0002899999999999998"}');
    assert.deepEqual(bucket?.labels, ['le', '-0.0002899999999999998']);
    assert.equal(bucket?.value, 3);
    assert.equal(bucket?.timestamp, undefined);
    const created = entries.find((e) => e.name === 'rpc_durations_histogram_seconds_created');
    assert.equal(created?.value, 1.726839813016302e9);
  });

  it('requires # EOF at the end', () => {
    assert.throws(() => collect('a 1\n', om), { name: 'ParseError', line: 2, message: /line 2: missing "# EOF"/ });
    assert.throws(() => collect('', om), ParseError);
    assert.deepEqual(collect('# EOF\n', om), []);
  });

  it('rejects data after # EOF', () => {
    assert.throws(() => collect('a 1\n# EOF\nb 2\n', om), { name: 'ParseError', line: 3 });
    assert.throws(() => collect('a 1\n# EOF\n\nb 2\n'), { name: 'ParseError', line: 4 });
  });

  it('reads an exemplar with and without a timestamp', () => {
    const text = 'foo_bucket{le="1"} 3 # {trace_id="abc"} 0.5\nfoo_bucket{le="2"} 4 123.5 # {trace_id="d"} 1.5 1700000000.5\n# EOF\n';
    assert.deepEqual(
      series(text, om).map((e) => [e.value, e.timestamp]),
      [
        [3, undefined],
        [4, 123500],
      ],
    );
  });

  it('reads UNIT', () => {
    assert.deepEqual(collect('# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n# EOF\n', om)[1], {
      kind: 'unit',
      line: 2,
      name: 'a_seconds',
      unit: 'seconds',
    });
  });
});

describe('ExpositionParser: API', () => {
  it('keeps returning eof at the end', () => {
    const parser = new ExpositionParser('a 1\n');
    assert.equal(parser.next(), 'series');
    assert.equal(parser.next(), 'eof');
    assert.equal(parser.next(), 'eof');
  });

  it('reports a malformed line from next(), and keeps reporting it', () => {
    const parser = new ExpositionParser('a{x="1"} 1\nb{x="unterminated} 1\n');
    assert.equal(parser.next(), 'series');
    assert.throws(() => parser.next(), { name: 'ParseError', line: 2 });
    // The error is sticky: the parser does not resume mid-body.
    assert.throws(() => parser.next(), { name: 'ParseError', line: 2 });
  });

  it('leaves the inside of a name{…} label set to labels(), which reports it with the line', () => {
    const parser = new ExpositionParser('a{x="1"} 1\nb{x="1",x="2"} 2\nc 3\n');
    assert.equal(parser.next(), 'series');
    assert.equal(parser.next(), 'series');
    assert.equal(parser.seriesKey(), 'b{x="1",x="2"}');
    assert.equal(parser.metricName(), 'b');
    assert.equal(parser.value, 2);
    assert.throws(() => parser.labels(), { name: 'ParseError', line: 2, message: /^line 2: duplicate label name "x"/ });
    // Sticky too: neither labels() nor next() goes on past the invalid series.
    assert.throws(() => parser.labels(), { name: 'ParseError', line: 2 });
    assert.throws(() => parser.next(), { name: 'ParseError', line: 2 });
  });

  it('returns the same labels from repeated labels() calls', () => {
    const parser = new ExpositionParser('a{x="1",y="a\\"b"} 1\n');
    assert.equal(parser.next(), 'series');
    assert.deepEqual(parser.labels(), ['x', '1', 'y', 'a"b']);
    assert.deepEqual(parser.labels(), ['x', '1', 'y', 'a"b']);
  });
});

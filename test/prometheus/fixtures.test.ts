import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseFamilies } from '../../src/prometheus/families.js';
import { writeFamilies } from '../../src/prometheus/writer.js';
import { fixturePath, readFixture } from '../helpers/fixtures.js';

const FIXTURES = [
  ...list('runners', /\.prom$/),
  ...list('llamacpp-real', /\.prom$/),
  ...list('llamacpp-router', /\.prom$/),
  ...list('prometheus-textparse', /\.txt$/),
];

function list(dir: string, pattern: RegExp): [string, string][] {
  return readdirSync(fixturePath(dir))
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => [dir, name]);
}

describe('fixtures', () => {
  it('finds the fixtures', () => {
    assert.ok(FIXTURES.length >= 20, `${FIXTURES.length} fixtures`);
  });

  for (const [dir, name] of FIXTURES) {
    const openMetrics = name.includes('.om.');
    it(`${dir}/${name} parses and round-trips`, () => {
      const families = parseFamilies(readFixture(dir, name), { openMetrics });
      assert.ok(families.length > 0);
      const written = writeFamilies(families, { openMetrics });
      // deepStrictEqual compares numbers with Object.is: NaN equals NaN, -0 differs from 0.
      assert.deepStrictEqual(parseFamilies(written, { openMetrics }), families);
      // Writing is a fixed point after one pass.
      assert.equal(writeFamilies(parseFamilies(written, { openMetrics }), { openMetrics }), written);
    });
  }

  it('reads Prometheus\' benchmark page completely', () => {
    const families = parseFamilies(readFixture('prometheus-textparse', 'alltypes.237mfs.prom.txt'));
    assert.equal(families.length, 237);
    assert.equal(
      families.reduce((n, f) => n + f.samples.length, 0),
      1857,
    );
  });

  it('reads the OpenMetrics pages', () => {
    const histogram = parseFamilies(readFixture('prometheus-textparse', '1histogram.om.txt'), { openMetrics: true });
    assert.equal(histogram.length, 1);
    assert.equal(histogram[0]?.type, 'histogram');
    const all = parseFamilies(readFixture('prometheus-textparse', 'alltypes.5mfs.om.txt'), { openMetrics: true });
    assert.deepEqual(
      all.map((f) => [f.name, f.type]),
      [
        ['go_build_info', 'gauge'],
        ['promhttp_metric_handler_errors', 'counter'],
        ['rpc_durations_histogram_seconds', 'histogram'],
        ['rpc_durations_seconds', 'summary'],
        ['rpc_requests', 'counter'],
      ],
    );
    const errors = all[1]!;
    assert.deepEqual(
      errors.samples.map((s) => s.name),
      [
        'promhttp_metric_handler_errors_total',
        'promhttp_metric_handler_errors_created',
        'promhttp_metric_handler_errors_total',
        'promhttp_metric_handler_errors_created',
      ],
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { otlpHttpExporterFactory } from '../../../src/exporters/otlphttp/index.js';

const parse = (body: Record<string, unknown>) => otlpHttpExporterFactory.configSchema.safeParse({ endpoint: 'http://a', ...body });

/** `path: message` of each issue. */
const issuesOf = (body: Record<string, unknown>) => parse(body).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

describe('otlphttp config: durations', () => {
  it('rejects intervals and timeouts of 0', () => {
    assert.deepEqual(issuesOf({ timeout: 0, export_interval: '0s', retry_on_failure: { initial_interval: 0, max_interval: '0ms' } }).sort(), [
      'export_interval: must be greater than 0 (e.g. 5s)',
      'retry_on_failure.initial_interval: must be greater than 0 (e.g. 5s)',
      'retry_on_failure.max_interval: must be greater than 0 (e.g. 5s)',
      'timeout: must be greater than 0 (e.g. 5s)',
    ]);
  });

  it('keeps max_elapsed_time 0 meaning "retry forever"', () => {
    const c = parse({ retry_on_failure: { max_elapsed_time: 0 } });
    assert.equal(c.data?.retry_on_failure.max_elapsed_time, 0);
  });

  it('needs a unit on any other number', () => {
    assert.deepEqual(issuesOf({ export_interval: 15, shutdown_timeout: 10 }), [
      'export_interval: duration 15 has no unit: add a unit, e.g. 5s',
      'shutdown_timeout: duration 10 has no unit: add a unit, e.g. 5s',
    ]);
  });
});

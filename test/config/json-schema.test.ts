import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildJsonSchema, formatJsonSchema } from '../../src/config/json-schema.js';
import { fakeRegistry } from './fake-registry.js';

type Schema = Record<string, any>;

describe('buildJsonSchema', () => {
  const schema = buildJsonSchema(fakeRegistry) as Schema;

  it('describes the whole file, strictly', () => {
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties), ['receivers', 'processors', 'exporters', 'extensions', 'service']);
    assert.deepEqual(schema.required, ['service']);
  });

  it('matches component ids by type with patternProperties', () => {
    const receivers = schema.properties.receivers;
    assert.deepEqual(Object.keys(receivers.patternProperties), ['^hostmetrics(/.+)?$', '^prometheus(/.+)?$']);
    assert.equal(receivers.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties.exporters.patternProperties), ['^otlphttp(/.+)?$', '^prometheus(/.+)?$']);
    assert.deepEqual(Object.keys(schema.properties.extensions.patternProperties), ['^health_check(/.+)?$']);
  });

  it('takes each body from the factory schema, input side', () => {
    const prometheus = schema.properties.receivers.patternProperties['^prometheus(/.+)?$'];
    assert.equal(prometheus.$schema, undefined);
    assert.equal(prometheus.type, 'object');
    assert.equal(prometheus.additionalProperties, false);
    assert.deepEqual(prometheus.required, ['targets']);
    assert.equal(prometheus.properties.targets.items.properties.url.type, 'string');
    // A duration is text with a unit; only 0 may be a bare number.
    assert.deepEqual(prometheus.properties.scrape_interval.type, ['string', 'number']);
    assert.match(prometheus.properties.scrape_interval.description, /0 needs no unit/);
  });

  it('allows an empty body only where the factory accepts one', () => {
    const filter = schema.properties.processors.patternProperties['^filter(/.+)?$'];
    assert.deepEqual(filter.anyOf[0], { type: 'null' });
    assert.equal(filter.anyOf[1].properties.include.type, 'array');
    assert.equal(schema.properties.receivers.patternProperties['^prometheus(/.+)?$'].anyOf, undefined);
  });

  it('checks pipeline references against the registered types', () => {
    const service = schema.properties.service;
    assert.deepEqual(service.required, ['pipelines']);
    const pipeline = service.properties.pipelines.patternProperties['^metrics(/.+)?$'];
    assert.deepEqual(pipeline.required, ['receivers', 'exporters']);
    assert.equal(pipeline.properties.receivers.items.pattern, '^(hostmetrics|prometheus)(/.+)?$');
    assert.equal(pipeline.properties.receivers.minItems, 1);
    assert.equal(pipeline.properties.processors.items.pattern, '^(filter|resource)(/.+)?$');
    assert.equal(pipeline.properties.processors.minItems, undefined);
    assert.equal(service.properties.extensions.items.pattern, '^health_check(/.+)?$');
    assert.deepEqual(service.properties.telemetry.properties.logs.properties.level.enum, ['debug', 'info', 'warn', 'error']);
  });

  it('formats with two-space indent and a trailing newline', () => {
    const text = formatJsonSchema({ a: [1] });
    assert.equal(text, '{\n  "a": [\n    1\n  ]\n}\n');
  });
});

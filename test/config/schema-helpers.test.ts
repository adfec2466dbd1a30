import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duration, positiveDuration } from '../../src/config/schema-helpers.js';

const messageOf = (result: { success: boolean; error?: { issues: { message: string }[] } }) => result.error?.issues[0]?.message;

describe('duration()', () => {
  it('parses units to milliseconds', () => {
    assert.equal(duration().parse('250ms'), 250);
    assert.equal(duration().parse('1m30s'), 90_000);
    assert.equal(duration().parse(' 5s '), 5000);
  });

  it('takes 0 without a unit, as a number or as text', () => {
    assert.equal(duration().parse(0), 0);
    assert.equal(duration().parse('0'), 0);
    assert.equal(duration().parse('0s'), 0);
  });

  it('rejects a bare number other than 0 instead of reading it as milliseconds', () => {
    for (const value of [5, 2500, 0.5, '5', '15']) {
      const result = duration().safeParse(value);
      assert.equal(result.success, false, String(value));
      assert.equal(messageOf(result), `duration ${value} has no unit: add a unit, e.g. 5s`);
    }
  });

  it('rejects text that is not a duration', () => {
    assert.equal(messageOf(duration().safeParse('soon')), 'invalid duration "soon" (expected e.g. 500ms, 5s, 1m, 1h30m)');
    assert.equal(duration().safeParse(-5).success, false);
    assert.equal(duration().safeParse('').success, false);
  });
});

describe('positiveDuration()', () => {
  it('rejects 0 and keeps defaults working', () => {
    assert.equal(messageOf(positiveDuration().safeParse(0)), 'must be greater than 0 (e.g. 5s)');
    assert.equal(messageOf(positiveDuration().safeParse('0s')), 'must be greater than 0 (e.g. 5s)');
    assert.equal(positiveDuration().parse('1ms'), 1);
    assert.equal(positiveDuration().default(15_000).parse(undefined), 15_000);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestedNames } from '../../../src/exporters/prometheus/negotiation.js';

test('an empty name[]= counts as no filter; non-empty names are kept', () => {
  assert.equal(requestedNames(new URLSearchParams('name[]=')), undefined);
  assert.deepEqual([...requestedNames(new URLSearchParams('name[]=&name[]=up'))!], ['up']);
});

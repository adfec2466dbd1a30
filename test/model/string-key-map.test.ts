import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StringKeyMap } from '../../src/model/string-key-map.js';

describe('StringKeyMap', () => {
  // Longer than V8 hashes by content (16383): these keys differ only in their last characters.
  const long = (i: number): string => 'k'.repeat(20_000) + String(i).padStart(4, '0');

  it('behaves as a Map for short and long keys alike', () => {
    const map = new StringKeyMap<number>();
    map.set('a', 1).set(long(1), 2).set(long(2), 3);
    assert.equal(map.size, 3);
    assert.equal(map.get('a'), 1);
    assert.equal(map.get(long(1)), 2);
    assert.equal(map.get(long(2)), 3);
    assert.equal(map.get(long(3)), undefined);
    assert.equal(map.has(long(2)), true);
    map.set(long(1), 20);
    assert.equal(map.size, 3);
    assert.equal(map.get(long(1)), 20);
    assert.deepEqual([...map].map(([k, v]) => [k.length, v]), [[1, 1], [20_004, 20], [20_004, 3]]);
    assert.deepEqual([...map.values()], [1, 20, 3]);
    assert.equal([...map][1]![0], long(1), 'iteration gives the key itself');
  });

  it('allows deleting while iterating, as Map does', () => {
    const map = new StringKeyMap<number>();
    for (let i = 0; i < 10; i++) map.set(i % 2 ? long(i) : `s${i}`, i);
    for (const [key, value] of map) if (value % 3 === 0) map.delete(key);
    assert.deepEqual([...map.values()].sort((a, b) => a - b), [1, 2, 4, 5, 7, 8]);
    map.clear();
    assert.equal(map.size, 0);
  });
});

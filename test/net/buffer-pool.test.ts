import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferPool } from '../../src/net/buffer-pool.js';

describe('BufferPool', () => {
  it('lends a given-back buffer again, the smallest that fits', () => {
    const pool = new BufferPool(1024 * 1024, 1024);
    const small = pool.take(1000);
    const large = pool.take(5000);
    assert.equal(small.length, 1024, 'sizes are rounded up to a power of two, from the smallest size');
    assert.equal(large.length, 8192);
    pool.give(large);
    pool.give(small);
    assert.equal(pool.take(900), small, 'the smallest free buffer that holds 900 bytes');
    assert.equal(pool.take(900), large, 'then the next one: a lent buffer is not lent twice');
    assert.equal(pool.heldBytes, 0);
    const made = pool.take(900);
    assert.ok(made !== small && made !== large && made.length === 1024, 'with none free, a new one is made');
  });

  it('makes a new buffer when none free is large enough', () => {
    const pool = new BufferPool(1024 * 1024, 1024);
    const small = pool.take(1024);
    pool.give(small);
    const big = pool.take(3000);
    assert.notEqual(big, small);
    assert.ok(big.length >= 3000);
    assert.equal(pool.heldBytes, 1024, 'the small one stays free');
  });

  it('keeps no more than its bound free, and nothing below its smallest size', () => {
    const pool = new BufferPool(4096, 1024);
    const buffers = [pool.take(2048), pool.take(2048), pool.take(2048)];
    buffers.forEach((b) => pool.give(b));
    assert.equal(pool.heldBytes, 4096, 'the third is left to the GC');
    pool.give(Buffer.alloc(100));
    assert.equal(pool.heldBytes, 4096, 'a buffer smaller than the smallest size is not kept');
  });
});

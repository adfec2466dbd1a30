/** Huffman code lengths stay within deflate's limits and always make a complete, prefix-free code. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeLengths, reversedCodes } from '../../src/compress/huffman.js';

/** Sum of 2^-length over the used symbols: exactly 1 for a complete code. */
function kraft(lengths: Uint8Array): number {
  let sum = 0;
  for (const len of lengths) if (len > 0) sum += 2 ** -len;
  return sum;
}

function lengthsOf(freqs: number[], maxBits: number): Uint8Array {
  const lengths = new Uint8Array(freqs.length);
  codeLengths(Uint32Array.from(freqs), freqs.length, maxBits, lengths);
  return lengths;
}

describe('Huffman codes', () => {
  it('Fibonacci frequencies, whose optimal code is 29 bits deep, are held to 15 bits and stay complete', () => {
    const fib = [1, 1];
    while (fib.length < 30) fib.push(fib.at(-1)! + fib.at(-2)!);
    const lengths = lengthsOf(fib, 15);
    assert.ok(Math.max(...lengths) <= 15);
    assert.equal(kraft(lengths), 1);
    // The code length alphabet's limit, 7 bits, too.
    assert.ok(Math.max(...lengthsOf(fib.slice(0, 19), 7)) <= 7);
  });

  it('a single used symbol gets a partner, so decoders see a complete code', () => {
    assert.deepEqual([...lengthsOf([0, 0, 5, 0], 15)], [1, 0, 1, 0]);
    assert.deepEqual([...lengthsOf([0, 0, 0], 15)], [1, 1, 0]);
  });

  it('frequent symbols get codes no longer than rare ones, and the codes are prefix-free', () => {
    const freqs = [50, 1, 0, 7, 7, 20, 3, 0, 100, 2];
    const lengths = lengthsOf(freqs, 15);
    assert.equal(kraft(lengths), 1);
    for (let a = 0; a < freqs.length; a++)
      for (let b = 0; b < freqs.length; b++) if (freqs[a]! > freqs[b]! && freqs[b]! > 0) assert.ok(lengths[a]! <= lengths[b]!, `${a} vs ${b}`);
    const codes = new Uint16Array(freqs.length);
    reversedCodes(lengths, freqs.length, codes);
    const words = [...lengths].flatMap((len, s) => (len ? [[...Array(len)].map((_, i) => (codes[s]! >> i) & 1).join('')] : []));
    for (const a of words) for (const b of words) if (a !== b) assert.ok(!b.startsWith(a), `${a} is a prefix of ${b}`);
  });
});

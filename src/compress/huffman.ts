/**
 * Length-limited canonical Huffman codes, as deflate (RFC 1951 §3.2.2) wants
 * them: code lengths from symbol frequencies, then codes from lengths, bit
 * reversed because deflate packs Huffman codes starting from their first bit.
 */

/**
 * Writes into `lengths` the code length of each of the first `n` symbols: 0 for a
 * symbol that never occurs, at most `maxBits` for the others. At least two
 * symbols get a code, so that the code is complete (decoders reject some
 * incomplete codes); a single used symbol gets a partner of length 1.
 */
export function codeLengths(freqs: Uint32Array, n: number, maxBits: number, lengths: Uint8Array): void {
  lengths.fill(0, 0, n);
  const symbols: number[] = [];
  for (let s = 0; s < n; s++) if (freqs[s]! > 0) symbols.push(s);
  if (symbols.length < 2) {
    const used = symbols[0] ?? 0;
    lengths[used] = 1;
    lengths[used === 0 ? 1 : 0] = 1;
    return;
  }
  // Halving the frequencies flattens the tree; a few rounds bring any block within the limit.
  for (let shift = 0; ; shift++) {
    if (buildLengths(freqs, symbols, shift, lengths) <= maxBits) return;
  }
}

/** Huffman code lengths of `symbols` with frequencies `freqs >> shift` (at least 1); returns the longest. */
function buildLengths(freqs: Uint32Array, symbols: readonly number[], shift: number, lengths: Uint8Array): number {
  const m = symbols.length;
  const weight = (s: number) => Math.max(1, freqs[s]! >>> shift);
  const leaves = [...symbols].sort((a, b) => weight(a) - weight(b) || a - b);
  // Nodes 0..m-1 are the sorted leaves, m..2m-2 the merged nodes in the order made
  // (which is also ascending weight): the two-queue construction, no heap needed.
  const weights = new Float64Array(2 * m - 1);
  const parent = new Int32Array(2 * m - 1);
  for (let i = 0; i < m; i++) weights[i] = weight(leaves[i]!);
  let leaf = 0;
  let merged = m;
  let next = m;
  const lightest = () => (leaf < m && (merged === next || weights[leaf]! <= weights[merged]!) ? leaf++ : merged++);
  for (; next < 2 * m - 1; next++) {
    const a = lightest();
    const b = lightest();
    weights[next] = weights[a]! + weights[b]!;
    parent[a] = next;
    parent[b] = next;
  }
  const depth = new Uint8Array(2 * m - 1);
  let longest = 0;
  for (let node = 2 * m - 3; node >= 0; node--) {
    depth[node] = depth[parent[node]!]! + 1;
    if (node < m) {
      lengths[leaves[node]!] = depth[node]!;
      if (depth[node]! > longest) longest = depth[node]!;
    }
  }
  return longest;
}

/** Canonical codes (RFC 1951 §3.2.2) for `lengths`, each stored bit reversed, ready to be packed. */
export function reversedCodes(lengths: Uint8Array, n: number, codes: Uint16Array): void {
  const count = new Uint16Array(16);
  for (let s = 0; s < n; s++) count[lengths[s]!]!++;
  count[0] = 0;
  const next = new Uint16Array(16);
  let code = 0;
  for (let bits = 1; bits < 16; bits++) {
    code = (code + count[bits - 1]!) << 1;
    next[bits] = code;
  }
  for (let s = 0; s < n; s++) {
    const len = lengths[s]!;
    if (len === 0) continue;
    codes[s] = reverse(next[len]!++, len);
  }
}

function reverse(code: number, bits: number): number {
  let r = 0;
  for (let i = 0; i < bits; i++) {
    r = (r << 1) | (code & 1);
    code >>>= 1;
  }
  return r;
}

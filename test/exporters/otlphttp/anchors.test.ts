/** ProtoEncoder's anchors name, for every data point, where its attributes start, as the bytes end up. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodedBody } from '../../compress/records.js';

/** Tags of NumberDataPoint.attributes (field 7) and HistogramDataPoint.attributes (field 9), length-delimited. */
const ATTRIBUTE_TAGS = new Set([(7 << 3) | 2, (9 << 3) | 2]);

describe('ProtoEncoder anchors', () => {
  it('one per point, at its attributes, the same bytes under the same key, even where longer messages moved them', () => {
    // 30 points per family: families of several KB and histogram points over 127 bytes, whose lengths take
    // more than the one byte reserved for them, so the bytes after them move when they close.
    const body = encodedBody(3, 20, 30);
    assert.equal(body.anchors.length / 2, body.points);
    const firstAt = new Map<number, number>();
    for (let i = 0; i < body.anchors.length; i += 2) {
      const [offset, key] = [body.anchors[i]!, body.anchors[i + 1]!];
      assert.ok(ATTRIBUTE_TAGS.has(body.bytes[offset]!), `anchor ${i / 2} at ${offset} points at byte ${body.bytes[offset]}, not an attributes tag`);
      const first = firstAt.get(key);
      if (first === undefined) firstAt.set(key, offset);
      else assert.deepEqual(body.bytes.subarray(offset, offset + 40), body.bytes.subarray(first, first + 40), `series key ${key}`);
    }
    // Keys tell series apart: 3 runners × 30 label sets × 2 attribute fields (number and histogram points).
    assert.equal(firstAt.size, 3 * 30 * 2);
  });
});

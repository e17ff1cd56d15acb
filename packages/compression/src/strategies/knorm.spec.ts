import { keptPositions, noStats } from '../__fixtures__/helpers';
import { createFullHead, type KVCache } from '../kv-cache';
import { KnormStrategy } from './knorm';

function cacheWithKeys(rows: number[][]): KVCache {
  const dKey = rows[0].length;
  const keys = Float32Array.from(rows.flat()); // [len, dKey]
  const values = new Float32Array(rows.length); // [len, 1]
  return { layers: [{ heads: [createFullHead(keys, values, rows.length, dKey, 1)] }], seenTokens: rows.length, itemIds: new Int32Array(rows.length) };
}

describe('KnormStrategy', () => {
  it('keeps the keys of smallest L2 norm', () => {
    // Norms: |(3, 4)| = 5, |(1, 0)| = 1, |(0, 2)| = 2, |(1, 1)| = √2 ≈ 1.41.
    // Ratio 0.5 keeps 2: tokens 1 (norm 1) and 3 (norm 1.41).
    const cache = cacheWithKeys([[3, 4], [1, 0], [0, 2], [1, 1]]);
    expect(keptPositions(new KnormStrategy({ compressionRatio: 0.5 }).compress(cache, noStats))).toEqual([[[1, 3]]]);
  });

  it('breaks equal norms toward the lower index', () => {
    // Norms 2, 1, 1, 1: ratio 0.5 keeps tokens 1 and 2.
    const cache = cacheWithKeys([[2, 0], [1, 0], [0, 1], [0, -1]]);
    expect(keptPositions(new KnormStrategy({ compressionRatio: 0.5 }).compress(cache, noStats))).toEqual([[[1, 2]]]);
  });

  it('scores by minus the norm', () => {
    const cache = cacheWithKeys([[3, 4], [0, 2]]);
    expect(Array.from(new KnormStrategy({ compressionRatio: 0.5 }).score(cache)[0])).toEqual([-5, -2]);
  });
});

import { cacheBytes, headLength } from '../kv-cache';
import { createRandomCache, createSyntheticStats } from './random-cache';

describe('createRandomCache', () => {
  it('builds the requested shape', () => {
    const cache = createRandomCache({ layers: 3, kvHeads: 2, len: 7, dKey: 5, dValue: 4, seed: 1, withTimestamps: true });
    expect(cache.layers).toHaveLength(3);
    expect(cache.layers[2].heads).toHaveLength(2);
    expect(headLength(cache.layers[0].heads[1])).toBe(7);
    // 6 heads · 7 tokens · ((5 + 4) · 4 B + 8 B timestamp).
    expect(cacheBytes(cache)).toBe(6 * 7 * (36 + 8));
    expect(Array.from(cache.itemIds)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('repeats for a seed', () => {
    const a = createRandomCache({ layers: 1, kvHeads: 1, len: 5, dKey: 3, dValue: 3, seed: 9 });
    const b = createRandomCache({ layers: 1, kvHeads: 1, len: 5, dKey: 3, dValue: 3, seed: 9 });
    expect(Array.from(a.layers[0].heads[0].keys.decode())).toEqual(Array.from(b.layers[0].heads[0].keys.decode()));
  });
});

describe('createSyntheticStats', () => {
  const cache = createRandomCache({ layers: 2, kvHeads: 2, len: 6, dKey: 2, dValue: 2, seed: 1 });
  const stats = createSyntheticStats(cache, { windowSize: 3, seed: 2 });

  it('makes causal window rows that sum to 1', () => {
    expect(stats.windowSize).toBe(3);
    for (const layer of stats.window) {
      for (let h = 0; h < 2; h++) {
        for (let row = 0; row < 3; row++) {
          const query = 3 + row; // the window contains queries 3, 4, 5
          const weights = Array.from(layer.subarray((h * 3 + row) * 6, (h * 3 + row + 1) * 6));
          expect(weights.slice(query + 1).every((weight) => weight === 0)).toBe(true);
          expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        }
      }
    }
  });

  it('accumulates to the number of queries', () => {
    stats.accumulated.forEach((layer, l) => {
      // Every query distributes weight 1, so the column sums of a head add up to len = 6.
      expect(Array.from(layer.subarray(0, 6)).reduce((a, b) => a + b, 0)).toBeCloseTo(6, 4);
      // The last key is seen only by the last query, which is the last window row (row 2 of head 0).
      expect(layer[5]).toBeCloseTo(stats.window[l][2 * 6 + 5], 6);
    });
  });

  it('caps the window at the history length', () => {
    expect(createSyntheticStats(cache, { windowSize: 50, seed: 3 }).windowSize).toBe(6);
  });
});

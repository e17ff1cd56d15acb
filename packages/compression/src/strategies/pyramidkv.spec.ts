import { headLengths } from '../__fixtures__/helpers';
import { cacheBytes, headPositions } from '../kv-cache';
import { silentLogger } from '../logger';
import { createRandomCache, createSyntheticStats } from '../testing/random-cache';
import { pyramidBudgets, PyramidKVStrategy } from './pyramidkv';
import { SnapKVStrategy } from './snapkv';

function isNonIncreasing(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || value <= values[i - 1]);
}

describe('pyramidBudgets', () => {
  it('gives one layer the average', () => {
    expect(pyramidBudgets([200], [16], 20)).toEqual([16]);
  });

  it('spreads four layers at beta 2', () => {
    // Average 16: last 16 / 2 = 8, first 2 · 16 − 8 = 24, step 16 / 3.
    // Ideal 24, 18.67, 13.33, 8 → floors 24, 18, 13, 8 (63) + 1 to the largest remainder (18.67).
    expect(pyramidBudgets([200, 200, 200, 200], [16, 16, 16, 16], 2)).toEqual([24, 19, 13, 8]);
  });

  it('spreads four layers at beta 20', () => {
    // Last 16 / 20 = 0.8, first 31.2: ideal 31.2, 21.07, 10.93, 0.8 → floors 31, 21, 10, 0 (62)
    // + 1 to remainders 0.93 and 0.8.
    expect(pyramidBudgets([200, 200, 200, 200], [16, 16, 16, 16], 20)).toEqual([31, 21, 11, 1]);
  });

  it('keeps the total when raising layers to 1', () => {
    // Average 2, beta 20: ideal 3.9, 2.63, 1.37, 0.1 → 4, 3, 1, 0 by largest remainder (8);
    // raising the last layer to 1 makes 9, so the largest budget gives one back: 3, 3, 1, 1.
    expect(pyramidBudgets([50, 50, 50, 50], [2, 2, 2, 2], 20)).toEqual([3, 3, 1, 1]);
    expect(pyramidBudgets([50, 50, 50, 50], [1, 1, 1, 1], 20)).toEqual([1, 1, 1, 1]);
  });

  it('caps budgets at a short history', () => {
    // 10 items at ratio 0.2 give 8 per layer, 32 in all. At beta 20 the ideal budgets are
    // 15.6, 10.53, 5.47, 0.4, rounded to 16, 11, 5, 0. Raising the last to 1 makes 33, so the
    // first gives one back (15, 11, 5, 1). Capping at 10 gives 10, 10, 5, 1.
    expect(pyramidBudgets([10, 10, 10, 10], [8, 8, 8, 8], 20)).toEqual([10, 10, 5, 1]);
  });

  it('holds its guarantees across depths and slopes', () => {
    for (let layers = 1; layers <= 12; layers++) {
      for (const average of [1, 2, 3, 7, 16, 50]) {
        for (const beta of [1, 1.5, 2, 5, 20, 100]) {
          const budgets = pyramidBudgets(Array(layers).fill(1000), Array(layers).fill(average), beta);
          expect(budgets.every((budget) => budget >= 1 && Number.isInteger(budget))).toBe(true);
          expect(isNonIncreasing(budgets)).toBe(true);
          expect(budgets.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(layers * average);
          // Without a raise to 1 the total is kept exactly; a raise happens only below 1.
          if (average / beta >= 1) {
            expect(budgets.reduce((a, b) => a + b, 0)).toBe(layers * average);
          }
        }
      }
    }
  });

  it('gives beta 1 equal budgets', () => {
    expect(pyramidBudgets([9, 9, 9], [5, 5, 5], 1)).toEqual([5, 5, 5]);
  });

  it('rejects beta below 1', () => {
    expect(() => pyramidBudgets([9, 9], [5, 5], 0.5)).toThrow(RangeError);
    expect(() => new PyramidKVStrategy({ compressionRatio: 0.5, beta: 0 })).toThrow(RangeError);
  });
});

describe('PyramidKVStrategy', () => {
  it('keeps fewer tokens in deeper layers', () => {
    const cache = createRandomCache({ layers: 4, kvHeads: 2, len: 40, dKey: 3, dValue: 3, seed: 1 });
    const stats = createSyntheticStats(cache, { windowSize: 4, seed: 2 });
    const compressed = new PyramidKVStrategy({ compressionRatio: 0.6, beta: 2, window: 4 }).compress(cache, { stats, logger: silentLogger });
    // 16 per layer (⌊40 · 0.4⌋); beta 2 → 24, 19, 13, 8 as in the pyramidBudgets example.
    expect(headLengths(compressed)).toEqual([[24, 24], [19, 19], [13, 13], [8, 8]]);
  });

  it('charges bytes for the rows it keeps', () => {
    const cache = createRandomCache({ layers: 4, kvHeads: 1, len: 10, dKey: 3, dValue: 2, seed: 3 });
    const stats = createSyntheticStats(cache, { windowSize: 2, seed: 4 });
    const compressed = new PyramidKVStrategy({ compressionRatio: 0.2, window: 2 }).compress(cache, { stats, logger: silentLogger });
    expect(headLengths(compressed)).toEqual([[10], [10], [5], [1]]);
    // Each kept row has 3 + 2 float32 numbers, and explicit positions add 4 B per row.
    let expected = 0;
    for (const layer of compressed.layers) {
      const head = layer.heads[0];
      expected += head.keys.rows * 5 * 4 + (head.positions === null ? 0 : 4 * head.positions.length);
    }
    expect(cacheBytes(compressed)).toBe(expected);
    expect(compressed.layers[0]).toBe(cache.layers[0]); // a layer within its budget is untouched
  });

  it('keeps SnapKV’s choice within each layer', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 30, dKey: 3, dValue: 3, seed: 5 });
    const stats = createSyntheticStats(cache, { windowSize: 3, seed: 6 });
    const context = { stats, logger: silentLogger };
    const pyramid = new PyramidKVStrategy({ compressionRatio: 0.5, window: 3 });
    const snapkv = new SnapKVStrategy({ compressionRatio: 0.5, window: 3 });
    // Same scores: each layer's kept set is the top of SnapKV's ranking at that layer's budget.
    const scores = snapkv.score(cache, context, [15, 15]);
    const pyramidScores = pyramid.score(cache, context, [15, 15]);
    expect(pyramidScores.map((layer) => Array.from(layer))).toEqual(scores.map((layer) => Array.from(layer)));
    const compressed = pyramid.compress(cache, context);
    const budgets = compressed.layers.map((layer) => layer.heads[0].keys.rows);
    expect(budgets[0]).toBeGreaterThan(budgets[1]);
    expect(budgets[0] + budgets[1]).toBe(30);
    for (let l = 0; l < 2; l++) {
      const kept = Array.from(headPositions(compressed.layers[l].heads[0]));
      const minimumKept = Math.min(...kept.map((position) => scores[l][position]));
      const maximumDropped = Math.max(-Infinity, ...Array.from(scores[l]).filter((_, position) => !kept.includes(position)));
      expect(minimumKept).toBeGreaterThanOrEqual(maximumDropped);
    }
  });
});

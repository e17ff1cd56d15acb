import { noStats } from '../__fixtures__/helpers';
import { cacheBytes, createFullHead, type HeadCache, type KVCache } from '../kv-cache';
import { silentLogger } from '../logger';
import { missingAttentionStats } from '../messages';
import type { AttentionStats, CompressionContext } from '../strategy';
import { CaMMergeStrategy } from './cam-merge';

// One layer, one head, 5 tokens: keys of width 2, values of width 1.
const keys = Float32Array.of(1, 0, 0, 1, 1, 0.1, 0, 2, 1, 1); // [len, dKey]
const values = Float32Array.of(10, 20, 30, 40, 50); // [len, dValue]

function cacheOf(head: HeadCache): KVCache {
  return { layers: [{ heads: [head] }], seenTokens: 5, itemIds: new Int32Array(5) };
}

function contextOf(accumulated: number[]): CompressionContext {
  const stats: AttentionStats = { accumulated: [Float32Array.from(accumulated)], window: [new Float32Array(5)], windowSize: 1 };
  return { stats, logger: silentLogger };
}

describe('CaMMergeStrategy', () => {
  const head = createFullHead(keys.slice(), values.slice(), 5, 2, 1, Float64Array.of(100, 200, 300, 400, 500));

  it('folds evicted values into the most similar kept key', () => {
    // Budget ⌊5 · 0.4⌋ = 2: row 4 (newest) and row 0 (attention 0.4) are kept.
    // cos(row 1 = [0, 1], row 0) = 0 and with row 4 = 1/√2: row 1 goes to row 4.
    // cos(row 2 = [1, 0.1], row 0) = 1/√1.01 ≈ 0.995 and with row 4 = 1.1/√2.02 ≈ 0.774: row 2 goes to row 0.
    // cos(row 3 = [0, 2], row 0) = 0 and with row 4 = 1/√2: row 3 goes to row 4.
    // Entry of row 0: (0.4 · 10 + 0.2 · 30) / (0.4 + 0.2) = 10 / 0.6 ≈ 16.667, weight 2.
    // Entry of row 4: (0.1 · 20 + 0.3 · 40 + 0 · 50) / (0.1 + 0.3 + 0) = 14 / 0.4 = 35, weight 3.
    const merged = new CaMMergeStrategy({ compressionRatio: 0.6 }).compress(cacheOf(head), contextOf([0.4, 0.1, 0.2, 0.3, 0]));
    const out = merged.layers[0].heads[0];
    expect(Array.from(out.positions ?? [])).toEqual([0, 4]);
    expect(Array.from(out.keys.decode())).toEqual([1, 0, 1, 1]);
    const mergedValues = out.values.decode();
    expect(mergedValues[0]).toBeCloseTo(10 / 0.6, 4);
    expect(mergedValues[1]).toBeCloseTo(14 / 0.4, 4);
    expect(Array.from(out.weights ?? [])).toEqual([2, 3]);
    expect(Array.from(out.timestamps ?? [])).toEqual([100, 500]);
  });

  it('charges rows, positions, timestamps and weights', () => {
    // 2 entries: keys 2 · 2 · 4 B + values 2 · 1 · 4 B + positions 2 · 4 B + timestamps 2 · 8 B + weights 2 · 4 B = 56 B.
    const merged = new CaMMergeStrategy({ compressionRatio: 0.6 }).compress(cacheOf(head), contextOf([0.4, 0.1, 0.2, 0.3, 0]));
    expect(cacheBytes(merged)).toBe(16 + 8 + 8 + 16 + 8);
  });

  it('averages with equal weights when a slot received no attention', () => {
    // All attention 0: the newest row 4 and, by the tie rule, row 0 are kept; the assignment is as above.
    // Entry of row 0: (10 + 30) / 2 = 20. Entry of row 4: (20 + 40 + 50) / 3 = 36.667.
    const merged = new CaMMergeStrategy({ compressionRatio: 0.6 }).compress(cacheOf(head), contextOf([0, 0, 0, 0, 0]));
    const mergedValues = merged.layers[0].heads[0].values.decode();
    expect(mergedValues[0]).toBeCloseTo(20, 5);
    expect(mergedValues[1]).toBeCloseTo(110 / 3, 4);
  });

  it('adds the weights of entries merged before', () => {
    // Row 0 already stands for 3 tokens: its entry now stands for 3 + 1 = 4, and the total is 3 + 4 · 1 = 7.
    const weighted: HeadCache = { ...head, weights: Float32Array.of(3, 1, 1, 1, 1) };
    const merged = new CaMMergeStrategy({ compressionRatio: 0.6 }).compress(cacheOf(weighted), contextOf([0.4, 0.1, 0.2, 0.3, 0]));
    expect(Array.from(merged.layers[0].heads[0].weights ?? [])).toEqual([4, 3]);
  });

  it('rejects a cache without attention statistics', () => {
    expect(() => new CaMMergeStrategy({ compressionRatio: 0.6 }).compress(cacheOf(head), noStats)).toThrow(
      new TypeError(missingAttentionStats('CaMMergeStrategy.compress', 'accumulated attention (stats.accumulated)')),
    );
  });
});

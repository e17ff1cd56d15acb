import { appendRandomTokens, keptPositions, snapshotCache } from '../__fixtures__/helpers';
import { cacheBytes, headLength, headPositions, type KVCache } from '../kv-cache';
import { silentLogger } from '../logger';
import { unequalHeadsForAdaptiveSplit } from '../messages';
import { Float32Storage } from '../storage/float32-storage';
import type { CompressionContext } from '../strategy';
import { createRandomCache, createSyntheticStats } from '../testing/random-cache';
import { H2OStrategy } from './h2o';
import { allocateHeadTokens, HeadAdaptiveStrategy } from './head-adaptive';
import { createStrategy } from './index';
import { ScoreBasedStrategy } from './score-based-strategy';
import { SnapKVStrategy } from './snapkv';

/** Scores each token by a fixed table `[layers][kvHeads · len]`, with nothing protected. */
class FixedScoreStrategy extends ScoreBasedStrategy {
  readonly id = 'fixed-score';

  constructor(
    compressionRatio: number,
    private readonly table: readonly Float32Array[],
  ) {
    super(compressionRatio);
  }

  score(): Float32Array[] {
    return this.table.map((layer) => layer.slice());
  }
}

/** Builds a one-layer cache with `kvHeads` heads of `len` tokens and widths dKey = dValue = 2. */
function smallCache(kvHeads: number, len: number): KVCache {
  return createRandomCache({ layers: 1, kvHeads, len, dKey: 2, dValue: 2, seed: 3 });
}

describe('HeadAdaptiveStrategy', () => {
  describe.each([0.2, 0.5, 0.8])('with one KV head at ratio %f', (ratio) => {
    const cache = createRandomCache({ layers: 3, kvHeads: 1, len: 29, dKey: 4, dValue: 3, seed: 5, withTimestamps: true });
    const context: CompressionContext = { stats: createSyntheticStats(cache, { windowSize: 6, seed: 6 }), logger: silentLogger };

    it('equals SnapKV exactly', () => {
      const base = createStrategy('snapkv', { compressionRatio: ratio, window: 4 }).compress(cache, context);
      const ada = createStrategy('ada-snapkv', { compressionRatio: ratio, window: 4 }).compress(cache, context);
      expect(keptPositions(ada)).toEqual(keptPositions(base));
      expect(snapshotCache(ada)).toEqual(snapshotCache(base));
      expect(cacheBytes(ada)).toBe(cacheBytes(base));
    });

    it('equals H2O exactly', () => {
      const base = createStrategy('h2o', { compressionRatio: ratio }).compress(cache, context);
      const ada = createStrategy('ada-h2o', { compressionRatio: ratio }).compress(cache, context);
      expect(snapshotCache(ada)).toEqual(snapshotCache(base));
      expect(cacheBytes(ada)).toBe(cacheBytes(base));
    });
  });

  it('moves the budget to the head with larger scores', () => {
    // Head 1's scores (10 … 80) are all above head 0's (0.1 … 0.8). Ratio 0.5 of 8 tokens
    // gives B = 4 per head, 8 in total; alpha 0.5 gives a floor of ⌊0.5 · 4⌋ = 2 per head.
    // Head 0 keeps its floor, its 2 best tokens [6, 7]; head 1 keeps its floor [6, 7] plus
    // the 8 − 2 · 2 = 4 best remaining tokens of both heads, all its own: [2, 3, 4, 5].
    const scores = Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 10, 20, 30, 40, 50, 60, 70, 80);
    const strategy = new HeadAdaptiveStrategy({ id: 'ada-fixed', base: new FixedScoreStrategy(0.5, [scores]), alpha: 0.5 });
    const compressed = strategy.compress(smallCache(2, 8), { stats: null, logger: silentLogger });
    expect(keptPositions(compressed)).toEqual([[[6, 7], [2, 3, 4, 5, 6, 7]]]);
    // Both heads are contiguous runs, so no positions are stored: (2 + 6) rows · (2 + 2) · 4 B.
    expect(cacheBytes(compressed)).toBe((2 + 6) * (2 + 2) * 4);
  });

  it('respects the floor of every head', () => {
    // Head 0's best tokens are scattered: [0, 3] of scores 0.9 and 0.8. With alpha 0.5 and
    // B = 4 it keeps exactly 2 rows, whose positions are stored (2 · 4 B).
    const scores = Float32Array.of(0.9, 0.1, 0.2, 0.8, 0.3, 0.1, 0.2, 0.1, 10, 20, 30, 40, 50, 60, 70, 80);
    const strategy = new HeadAdaptiveStrategy({ id: 'ada-fixed', base: new FixedScoreStrategy(0.5, [scores]), alpha: 0.5 });
    const compressed = strategy.compress(smallCache(2, 8), { stats: null, logger: silentLogger });
    expect(keptPositions(compressed)).toEqual([[[0, 3], [2, 3, 4, 5, 6, 7]]]);
    expect(cacheBytes(compressed)).toBe((2 + 6) * (2 + 2) * 4 + 2 * 4);
  });

  it('keeps at least one token per head at alpha 0', () => {
    // B = 2, floor max(1, ⌊0 · 2⌋) = 1: head 0 keeps its best token, head 1 the other 3.
    const scores = Float32Array.of(1, 2, 3, 4, 10, 20, 30, 40);
    const strategy = new HeadAdaptiveStrategy({ id: 'ada-fixed', base: new FixedScoreStrategy(0.5, [scores]), alpha: 0 });
    const compressed = strategy.compress(smallCache(2, 4), { stats: null, logger: silentLogger });
    expect(keptPositions(compressed)).toEqual([[[3], [1, 2, 3]]]);
  });

  it('breaks joint ties toward the lower head, then the lower index', () => {
    // All scores equal: each head keeps its floor (index 0), then the 2 joint tokens go to head 0.
    const kept = allocateHeadTokens(new Float32Array(8).fill(1), 2, 4, 2, { alpha: 0 });
    expect(kept.map((indices) => Array.from(indices))).toEqual([[0, 1, 2], [0]]);
  });

  it('keeps the reserved newest tokens of every head', () => {
    // Reserved 2 of B = 3: each head keeps [2, 3]; head 0's floor is max(1, 2, 0) = 2, so the
    // joint 2 · (3 − 2) = 2 tokens go to head 1's best remaining, [0, 1].
    const scores = Float32Array.of(5, 5, 0, 0, 9, 8, 0, 0);
    const kept = allocateHeadTokens(scores, 2, 4, 3, { alpha: 0.2, reserved: 2 });
    expect(kept.map((indices) => Array.from(indices))).toEqual([[2, 3], [0, 1, 2, 3]]);
  });

  it('keeps the recent window of H2O in every head', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 3, len: 20, dKey: 3, dValue: 3, seed: 9 });
    const context: CompressionContext = { stats: createSyntheticStats(cache, { windowSize: 4, seed: 10 }), logger: silentLogger };
    // Ratio 0.5: B = 10 per head; the recent window is ⌊10 · 0.5⌋ = 5 tokens, 15 … 19.
    const compressed = createStrategy('ada-h2o', { compressionRatio: 0.5 }).compress(cache, context);
    for (const layer of compressed.layers) {
      const total = layer.heads.reduce((sum, head) => sum + headLength(head), 0);
      expect(total).toBe(3 * 10);
      for (const head of layer.heads) {
        expect(Array.from(headPositions(head)).slice(-5)).toEqual([15, 16, 17, 18, 19]);
      }
    }
  });

  it('compresses to an absolute budget per layer', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 2, len: 20, dKey: 3, dValue: 3, seed: 11 });
    const context: CompressionContext = { stats: createSyntheticStats(cache, { windowSize: 4, seed: 12 }), logger: silentLogger };
    const strategy = new HeadAdaptiveStrategy({ id: 'ada-snapkv', base: new SnapKVStrategy({ compressionRatio: 0.5, window: 4 }) });
    const compressed = strategy.compressToTokens(cache, context, 6);
    expect(compressed.layers.map((layer) => layer.heads.reduce((sum, head) => sum + headLength(head), 0))).toEqual([12, 12]);
  });

  it('returns the input unchanged at ratio 0', () => {
    const cache = smallCache(2, 8);
    expect(createStrategy('ada-h2o', { compressionRatio: 0 }).compress(cache, { stats: null, logger: silentLogger })).toBe(cache);
  });

  it('rejects heads of different lengths', () => {
    const strategy = new HeadAdaptiveStrategy({ id: 'ada-h2o', base: new H2OStrategy({ compressionRatio: 0.5 }) });
    const cache = smallCache(2, 6);
    const uneven: KVCache = {
      ...cache,
      layers: [{ heads: [cache.layers[0].heads[0], { ...cache.layers[0].heads[1], keys: new Float32Storage(new Float32Array(8), 4, 2), values: new Float32Storage(new Float32Array(8), 4, 2) }] }],
    };
    expect(() => strategy.compressToTokens(uneven, { stats: null, logger: silentLogger }, 2)).toThrow(new RangeError(unequalHeadsForAdaptiveSplit('HeadAdaptiveStrategy.compressToTokens', 0, [6, 4])));
  });

  it('streams with one KV head within the budget', () => {
    let cache = createRandomCache({ layers: 2, kvHeads: 1, len: 4, dKey: 3, dValue: 3, seed: 13 });
    const strategy = createStrategy('ada-h2o', { compressionRatio: 0.5 }) as HeadAdaptiveStrategy;
    for (let chunk = 0; chunk < 10; chunk++) {
      cache = appendRandomTokens(cache, 4, 20 + chunk);
      cache = strategy.compressToTokens(cache, { stats: createSyntheticStats(cache, { windowSize: 4, seed: chunk }), logger: silentLogger }, 6);
      expect(cache.layers.map((layer) => headLength(layer.heads[0]))).toEqual([6, 6]);
    }
  });

  it('reports the base parameters and alpha', () => {
    expect(createStrategy('ada-h2o', { compressionRatio: 0.5 }).params).toEqual({ compressionRatio: 0.5, recentFraction: 0.5, alpha: 0.2 });
  });

  it('rejects alpha outside [0, 1]', () => {
    expect(() => createStrategy('ada-snapkv', { compressionRatio: 0.5, alpha: 1.5 })).toThrow(RangeError);
  });
});

import { keptPositions, noStats } from '../__fixtures__/helpers';
import { invalidShape, missingAttentionStats } from '../messages';
import { silentLogger } from '../logger';
import type { AttentionStats } from '../strategy';
import { createRandomCache } from '../testing/random-cache';
import { H2OStrategy } from './h2o';

function accumulatedStats(rows: number[][]): AttentionStats {
  return { accumulated: rows.map((row) => Float32Array.from(row)), window: rows.map(() => new Float32Array(0)), windowSize: 0 };
}

describe('H2OStrategy', () => {
  it('keeps heavy hitters and the recent window', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 8, dKey: 2, dValue: 2, seed: 1 });
    // Budget ⌊8 · 0.5⌋ = 4; recent ⌊4 · 0.5⌋ = 2 → positions 6, 7.
    // Heavy hitters among the rest by attention 5, 1, 4, 0.5, 3, 0.2: positions 0 and 2.
    const stats = accumulatedStats([[5, 1, 4, 0.5, 3, 0.2, 0.1, 0.3]]);
    expect(keptPositions(new H2OStrategy({ compressionRatio: 0.5 }).compress(cache, { stats, logger: silentLogger }))).toEqual([[[0, 2, 6, 7]]]);
  });

  it('protects nothing when the recent window floors to 0', () => {
    // Budget ⌊5 · 0.8⌋ = 4; recent ⌊4 · 0.1⌋ = 0, an empty window (not all 5 tokens).
    // Attention 1, 2, 3, 4, 0 keeps 0..3 and drops the newest token.
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 5, dKey: 2, dValue: 2, seed: 2 });
    const stats = accumulatedStats([[1, 2, 3, 4, 0]]);
    const compressed = new H2OStrategy({ compressionRatio: 0.2, recentFraction: 0.1 }).compress(cache, { stats, logger: silentLogger });
    expect(keptPositions(compressed)).toEqual([[[0, 1, 2, 3]]]);
  });

  it('keeps only recent tokens with recentFraction 1', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 6, dKey: 2, dValue: 2, seed: 3 });
    const stats = accumulatedStats([[9, 9, 9, 0, 0, 0]]);
    expect(keptPositions(new H2OStrategy({ compressionRatio: 0.5, recentFraction: 1 }).compress(cache, { stats, logger: silentLogger }))).toEqual([[[3, 4, 5]]]);
  });

  it('chooses heavy hitters per head', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 2, len: 4, dKey: 2, dValue: 2, seed: 4 });
    // Budget 2, recent ⌊2 · 0.5⌋ = 1 (position 3); one heavy hitter per head.
    const stats = accumulatedStats([[3, 1, 2, 0, 1, 3, 2, 0]]);
    expect(keptPositions(new H2OStrategy({ compressionRatio: 0.5 }).compress(cache, { stats, logger: silentLogger }))).toEqual([[[0, 3], [1, 3]]]);
  });

  it('requires accumulated attention', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 4, dKey: 2, dValue: 2, seed: 5 });
    const strategy = new H2OStrategy({ compressionRatio: 0.5 });
    expect(() => strategy.compress(cache, noStats)).toThrow(new TypeError(missingAttentionStats('H2OStrategy.score', 'accumulated attention (stats.accumulated)')));
    expect(() => strategy.compress(cache, { stats: accumulatedStats([[1, 2, 3]]), logger: silentLogger })).toThrow(
      new RangeError(invalidShape('H2OStrategy.score', 'stats.accumulated[0]', [1, 4], 3)),
    );
  });

  it('rejects recentFraction outside [0, 1]', () => {
    expect(() => new H2OStrategy({ compressionRatio: 0.5, recentFraction: 1.5 })).toThrow(RangeError);
    expect(new H2OStrategy({ compressionRatio: 0.5 }).params).toEqual({ compressionRatio: 0.5, recentFraction: 0.5 });
  });
});

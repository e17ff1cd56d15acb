import { maxAbsDifference, noStats } from '../__fixtures__/helpers';
import { appendToHead, cacheBytes, type KVCache } from '../kv-cache';
import { invalidArgument } from '../messages';
import { ConcatStorage } from '../storage/concat-storage';
import { LowRankStorage, lowRankStorageBytes } from '../storage/low-rank-storage';
import { createRandomCache } from '../testing/random-cache';
import { createStrategy } from './index';
import { SvdStrategy, symmetricEigen, truncatedSvd } from './svd';

/** Frobenius norm of the difference of two arrays. */
function frobeniusDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    sum += (a[i] - b[i]) ** 2;
  }
  return Math.sqrt(sum);
}

describe('SvdStrategy', () => {
  it('finds the eigenvalues of a 2 × 2 matrix', () => {
    // [[2, 1], [1, 2]] has eigenvalues 3 (vector [1, 1]/√2) and 1 (vector [1, −1]/√2, sign
    // fixed so that its largest component, the first by the tie rule, is positive).
    const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    expect(vectors[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[2]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[1]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[3]).toBeCloseTo(-Math.SQRT1_2, 12);
  });

  it('factors a rank-1 block exactly at rank 1', () => {
    // X = u vᵀ with u = [1, 2, 3], v = [2, 0, 1]: one singular value ‖u‖ · ‖v‖ = √14 · √5 = √70.
    const u = [1, 2, 3];
    const v = [2, 0, 1];
    const data = Float32Array.from({ length: 9 }, (_, i) => u[Math.floor(i / 3)] * v[i % 3]);
    const { left, right, singularValues } = truncatedSvd(data, 3, 3, 1);
    expect(singularValues[0]).toBeCloseTo(Math.sqrt(70), 5);
    expect(maxAbsDifference(new LowRankStorage(left, right, 3, 3, 1).decode(), data)).toBeLessThan(1e-5);
  });

  it('reconstructs the exact matrix at full rank', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 30, dKey: 6, dValue: 6, seed: 41 });
    const data = cache.layers[0].heads[0].keys.decode(); // [30, 6]
    const { left, right } = truncatedSvd(data, 30, 6, 6);
    expect(maxAbsDifference(new LowRankStorage(left, right, 30, 6, 6).decode(), data)).toBeLessThan(1e-5);
  });

  it('loses exactly the dropped singular values', () => {
    // Eckart–Young: ‖X − X_r‖_F² = Σ_{k > r} σ_k², and the error falls as the rank grows.
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 30, dKey: 6, dValue: 6, seed: 42 });
    const data = cache.layers[0].heads[0].values.decode(); // [30, 6]
    const all = truncatedSvd(data, 30, 6, 6).singularValues;
    let previous = Infinity;
    for (let rank = 1; rank <= 6; rank++) {
      const { left, right } = truncatedSvd(data, 30, 6, rank);
      const error = frobeniusDistance(new LowRankStorage(left, right, 30, 6, rank).decode(), data);
      const dropped = Math.sqrt(Array.from(all.subarray(rank)).reduce((sum, sigma) => sum + sigma * sigma, 0));
      expect(Math.abs(error - dropped)).toBeLessThan(1e-4);
      expect(error).toBeLessThanOrEqual(previous + 1e-6);
      previous = error;
    }
  });

  it('charges both factors', () => {
    // 200 tokens × 64 channels at rank 16: 4 · 16 · (200 + 64) = 16,896 B per block; 2 layers · (K, V).
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 200, dKey: 64, dValue: 64, seed: 43 });
    const compressed = new SvdStrategy().compress(cache);
    expect(lowRankStorageBytes(200, 64, 16)).toBe(16896);
    expect(cacheBytes(compressed)).toBe(2 * 2 * 16896);
    expect(compressed.layers[0].heads[0].keys).toBeInstanceOf(LowRankStorage);
  });

  it('derives the rank from the width and the ratio', () => {
    // Default ⌊64 / 4⌋ = 16; ratio 0.75: round(64 · 0.25) = 16; ratio 0.9: round(6.4) = 6; ratio 0.99: max(1, round(0.64)) = 1.
    expect(new SvdStrategy().rankFor(64)).toBe(16);
    expect(new SvdStrategy({ compressionRatio: 0.75 }).rankFor(64)).toBe(16);
    expect(new SvdStrategy({ compressionRatio: 0.9 }).rankFor(64)).toBe(6);
    expect(new SvdStrategy({ compressionRatio: 0.99 }).rankFor(64)).toBe(1);
    expect(new SvdStrategy({ rank: 5 }).rankFor(64)).toBe(5);
    expect(new SvdStrategy().rankFor(3)).toBe(1);
  });

  it('keeps a block in float32 when the factors would be larger', () => {
    // 4 tokens × 8 channels at rank 6: 4 · 6 · (4 + 8) = 288 B ≥ 4 · 4 · 8 = 128 B, so float32 stays.
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 4, dKey: 8, dValue: 8, seed: 44 });
    const compressed = new SvdStrategy({ rank: 6 }).compress(cache, noStats);
    expect(compressed.layers[0].heads[0].keys).toBe(cache.layers[0].heads[0].keys);
  });

  it('factors only the rows appended since the last call', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 40, dKey: 8, dValue: 8, seed: 45 });
    const strategy = new SvdStrategy({ rank: 2 });
    const first = strategy.compress(cache, noStats);
    const head = first.layers[0].heads[0];
    const grownHead = appendToHead(head, new Float32Array(8 * 8).fill(0.5), new Float32Array(8 * 8).fill(0.25), 8, 40);
    const grown: KVCache = { ...first, layers: [{ heads: [grownHead] }], seenTokens: 48 };
    const second = strategy.compress(grown, noStats).layers[0].heads[0];
    const parts = (second.keys as ConcatStorage).parts;
    expect(parts[0]).toBe(head.keys);
    expect(parts[1]).toBeInstanceOf(LowRankStorage);
    expect(parts[1].rows).toBe(8);
    // 8 rows of width 8 at rank 2: 4 · 2 · 16 = 128 B < 256 B in float32.
    expect(cacheBytes({ ...grown, layers: [{ heads: [second] }] })).toBe(2 * (lowRankStorageBytes(40, 8, 2) + lowRankStorageBytes(8, 8, 2)));
  });

  it('rejects a rank and a ratio together', () => {
    expect(() => new SvdStrategy({ rank: 4, compressionRatio: 0.5 })).toThrow(
      new RangeError(invalidArgument('SvdStrategy', 'options', 'at most one of rank and compressionRatio', 'rank 4 and compressionRatio 0.5')),
    );
    expect(() => new SvdStrategy({ rank: 0 })).toThrow(RangeError);
    expect(() => createStrategy('svd', { rank: 4, compressionRatio: 0.5 })).toThrow(RangeError);
  });

  it('stores a low-rank block as both factors', () => {
    const storage = new LowRankStorage(Float32Array.of(1, 2), Float32Array.of(3, 4, 5), 2, 3, 1);
    // [1, 2]ᵀ · [3, 4, 5] = [[3, 4, 5], [6, 8, 10]].
    expect(Array.from(storage.decode())).toEqual([3, 4, 5, 6, 8, 10]);
    expect(storage.buffers()).toHaveLength(2);
    expect(() => new LowRankStorage(Float32Array.of(1), Float32Array.of(3, 4, 5), 2, 3, 1)).toThrow(RangeError);
  });
});

import { appendRandomTokens, maxAbsDifference, noStats } from '../__fixtures__/helpers';
import { cacheBytes, createFullHead, type KVCache } from '../kv-cache';
import { invalidArgument, notCalibrated } from '../messages';
import { ConcatStorage } from '../storage/concat-storage';
import { LowRankStorage } from '../storage/low-rank-storage';
import { SharedBasisStorage, sharedBasisStorageBytes } from '../storage/shared-basis-storage';
import { createRandomCache } from '../testing/random-cache';
import { createStrategy } from './index';
import { SharedBasisStrategy, fitSharedBasis } from './shared-basis';
import { truncatedSvd } from './svd';

/** Builds a one-layer, one-head cache from keys and values `[len, d]`. */
function cacheOf(keys: Float32Array, values: Float32Array, len: number, d: number): KVCache {
  return { layers: [{ heads: [createFullHead(keys, values, len, d, d)] }], seenTokens: len, itemIds: new Int32Array(len) };
}

/** Rows `a · u + b · v` for two fixed directions of width 4, so the data spans a 2-D subspace. */
function planeRows(coefficients: readonly (readonly [number, number])[]): Float32Array {
  const u = [1, 2, 0, -1];
  const v = [0, 1, 3, 1];
  return Float32Array.from(coefficients.flatMap(([a, b]) => u.map((x, c) => a * x + b * v[c])));
}

describe('SharedBasisStrategy', () => {
  it('reconstructs data of a 2-D subspace exactly at rank 2', () => {
    // Two calibration users and one new user, all in span{u, v}: the basis spans the plane,
    // so projecting onto it loses nothing.
    const first = planeRows([[1, 0], [0, 1], [2, 1]]);
    const second = planeRows([[-1, 3], [0.5, 0.5]]);
    const fresh = planeRows([[3, -2], [1, 1], [0, 4], [-2, 0.5]]);
    const strategy = new SharedBasisStrategy({ rank: 2 });
    const summary = strategy.calibrate([cacheOf(first, first, 3, 4), cacheOf(second, second, 2, 4)], noStats);
    // Basis: 2 blocks · [2, 4] float32 = 2 · 2 · 4 · 4 B.
    expect(summary).toEqual({ users: 2, sharedBytes: 2 * 2 * 4 * 4 });

    const compressed = strategy.compress(cacheOf(fresh, fresh, 4, 4), noStats);
    const head = compressed.layers[0].heads[0];
    expect(head.keys).toBeInstanceOf(SharedBasisStorage);
    expect(maxAbsDifference(head.keys.decode(), fresh)).toBeLessThan(1e-5);
    expect(maxAbsDifference(head.values.decode(), fresh)).toBeLessThan(1e-5);
    // Per user only the coefficients: 2 blocks · 4 rows · rank 2 · 4 B.
    expect(cacheBytes(compressed)).toBe(2 * 4 * 2 * 4);
  });

  it('equals per-user SVD on the calibration user itself', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 2, len: 30, dKey: 6, dValue: 5, seed: 31 });
    const strategy = new SharedBasisStrategy({ rank: 3 });
    strategy.calibrate([cache], noStats);
    const compressed = strategy.compress(cache, noStats);
    compressed.layers.forEach((layer, l) => {
      layer.heads.forEach((head, h) => {
        for (const [stored, source] of [[head.keys, cache.layers[l].heads[h].keys], [head.values, cache.layers[l].heads[h].values]] as const) {
          const data = source.decode();
          const { left, right } = truncatedSvd(data, source.rows, source.cols, 3);
          expect(maxAbsDifference(stored.decode(), new LowRankStorage(left, right, source.rows, source.cols, 3).decode())).toBeLessThan(1e-4);
        }
      });
    });
  });

  it('fits orthonormal basis rows with a positive largest component', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 25, dKey: 5, dValue: 5, seed: 32 });
    const basis = fitSharedBasis([cache.layers[0].heads[0].keys], 5, 3); // [3, 5]
    for (let a = 0; a < 3; a++) {
      let largest = 0;
      for (let c = 0; c < 5; c++) {
        largest = Math.abs(basis[a * 5 + c]) > Math.abs(largest) ? basis[a * 5 + c] : largest;
      }
      expect(largest).toBeGreaterThan(0);
      for (let b = 0; b < 3; b++) {
        let dot = 0;
        for (let c = 0; c < 5; c++) {
          dot += basis[a * 5 + c] * basis[b * 5 + c];
        }
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 5);
      }
    }
  });

  it('counts only the coefficients as per-user bytes', () => {
    // T = 200, d = 64, rank 16: 4 · 200 · 16 = 12,800 B per block, the basis 4 · 16 · 64 = 4,096 B once.
    expect(sharedBasisStorageBytes(200, 16)).toBe(12_800);
    const storage = new SharedBasisStorage(new Float32Array(200 * 16), new Float32Array(16 * 64), 200, 64, 16);
    expect(storage.buffers().reduce((sum, buffer) => sum + buffer.byteLength, 0)).toBe(12_800);
  });

  it('takes the rank from the compression ratio', () => {
    // Width 8 at ratio 0.75: rank max(1, round(8 · 0.25)) = 2.
    expect(new SharedBasisStrategy({ compressionRatio: 0.75 }).rankFor(8)).toBe(2);
    expect(new SharedBasisStrategy().rankFor(8)).toBe(2);
    expect(new SharedBasisStrategy({ rank: 20 }).rankFor(8)).toBe(8);
  });

  it('projects rows appended after a compression on the next call', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 10, dKey: 4, dValue: 4, seed: 33 });
    const strategy = new SharedBasisStrategy({ rank: 2 });
    strategy.calibrate([cache], noStats);
    const grown = appendRandomTokens(strategy.compress(cache, noStats), 3, 34);
    const again = strategy.compress(grown, noStats);
    const keys = again.layers[0].heads[0].keys;
    expect(keys).toBeInstanceOf(ConcatStorage);
    expect(keys.rows).toBe(13);
    // 13 rows of 2 coefficients per block, two blocks.
    expect(cacheBytes(again)).toBe(2 * 13 * 2 * 4);
  });

  it('keeps float32 when the rank is the full width', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 10, dKey: 4, dValue: 4, seed: 35 });
    const strategy = new SharedBasisStrategy({ rank: 4 });
    strategy.calibrate([cache], noStats);
    expect(cacheBytes(strategy.compress(cache, noStats))).toBe(cacheBytes(cache));
  });

  it('rejects compress before calibrate', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 4, dKey: 4, dValue: 4, seed: 36 });
    expect(() => createStrategy('shared-basis', { rank: 2 }).compress(cache, noStats)).toThrow(new Error(notCalibrated('SharedBasisStrategy.compress', 'shared-basis')));
  });

  it('rejects caches of another layout', () => {
    const strategy = new SharedBasisStrategy({ rank: 2 });
    expect(() => strategy.calibrate([], noStats)).toThrow(new RangeError(invalidArgument('SharedBasisStrategy.calibrate', 'caches', 'at least one cache', 'an empty list')));
    strategy.calibrate([createRandomCache({ layers: 1, kvHeads: 1, len: 4, dKey: 4, dValue: 4, seed: 37 })], noStats);
    expect(() => strategy.compress(createRandomCache({ layers: 1, kvHeads: 1, len: 4, dKey: 5, dValue: 4, seed: 38 }), noStats)).toThrow(RangeError);
    expect(() => strategy.compress(createRandomCache({ layers: 2, kvHeads: 1, len: 4, dKey: 4, dValue: 4, seed: 39 }), noStats)).toThrow(RangeError);
  });

  it('is registered as a calibrated low-rank method', () => {
    const strategy = createStrategy('shared-basis', { compressionRatio: 0.5 });
    expect(strategy.calibrate).toBeDefined();
    expect(strategy.params).toEqual({ compressionRatio: 0.5 });
  });
});

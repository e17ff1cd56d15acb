import { cacheBytes, createFullHead, type HeadCache, type KVCache } from '../kv-cache';
import { noStats } from '../__fixtures__/helpers';
import { invalidArgument } from '../messages';
import { createSeededRandom } from '../prng';
import { clusterKeys, KMeansStrategy } from './kmeans';

// One layer, one head, 4 tokens with keys and values of width 1: two tight pairs of keys.
function cacheOf(head: HeadCache): KVCache {
  return { layers: [{ heads: [head] }], seenTokens: 4, itemIds: new Int32Array(4) };
}
const head = createFullHead(Float32Array.of(0, 0.1, 10, 10.2), Float32Array.of(1, 3, 5, 7), 4, 1, 1, Float64Array.of(11, 12, 13, 14));

describe('KMeansStrategy', () => {
  it('merges each pair of close keys into one entry', () => {
    // Budget ⌊4 · 0.5⌋ = 2 clusters: {row 0, row 1} and {row 2, row 3}.
    // Keys (0 + 0.1) / 2 = 0.05 and (10 + 10.2) / 2 = 10.1; values (1 + 3) / 2 = 2 and (5 + 7) / 2 = 6.
    // Each entry takes its newest member's position (1 and 3) and timestamp (12 and 14).
    const out = new KMeansStrategy({ compressionRatio: 0.5 }).compress(cacheOf(head), noStats).layers[0].heads[0];
    const mergedKeys = out.keys.decode();
    expect(mergedKeys[0]).toBeCloseTo(0.05, 6);
    expect(mergedKeys[1]).toBeCloseTo(10.1, 5);
    expect(Array.from(out.values.decode())).toEqual([2, 6]);
    expect(Array.from(out.positions ?? [])).toEqual([1, 3]);
    expect(Array.from(out.timestamps ?? [])).toEqual([12, 14]);
    expect(Array.from(out.weights ?? [])).toEqual([2, 2]);
  });

  it('charges rows, positions, timestamps and weights', () => {
    // 2 entries: keys 2 · 4 B + values 2 · 4 B + positions 2 · 4 B + timestamps 2 · 8 B + weights 2 · 4 B = 48 B.
    expect(cacheBytes(new KMeansStrategy({ compressionRatio: 0.5 }).compress(cacheOf(head), noStats))).toBe(8 + 8 + 8 + 16 + 8);
  });

  it('weights the means by earlier merge weights', () => {
    // Row 0 stands for 3 tokens: key (3 · 0 + 0.1) / 4 = 0.025, value (3 · 1 + 3) / 4 = 1.5, weight 4.
    const weighted: HeadCache = { ...head, weights: Float32Array.of(3, 1, 1, 1) };
    const out = new KMeansStrategy({ compressionRatio: 0.5 }).compress(cacheOf(weighted), noStats).layers[0].heads[0];
    expect(out.keys.decode()[0]).toBeCloseTo(0.025, 6);
    expect(out.values.decode()[0]).toBeCloseTo(1.5, 6);
    expect(Array.from(out.weights ?? [])).toEqual([4, 2]);
  });

  it('keeps every cluster non-empty when keys coincide', () => {
    // 5 equal keys into 3 clusters: every cluster has a member and the sizes sum to 5.
    const assignment = clusterKeys(new Float32Array(5).fill(2), new Float32Array(5).fill(1), 1, 3, 4, createSeededRandom(0));
    const sizes = [0, 1, 2].map((cluster) => Array.from(assignment).filter((value) => value === cluster).length);
    expect(sizes.every((size) => size >= 1)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('gives the same clusters for the same seed', () => {
    const points = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.7) * 3);
    const weights = new Float32Array(20).fill(1);
    const first = clusterKeys(points, weights, 2, 6, 10, createSeededRandom(5));
    const second = clusterKeys(points, weights, 2, 6, 10, createSeededRandom(5));
    expect(Array.from(first)).toEqual(Array.from(second));
  });

  it('rejects invalid options', () => {
    expect(() => new KMeansStrategy({ compressionRatio: 0.5, iterations: 0 })).toThrow(new RangeError(invalidArgument('KMeansStrategy', 'iterations', 'an integer ≥ 1', '0')));
    expect(() => new KMeansStrategy({ compressionRatio: 0.5, seed: -1 })).toThrow(RangeError);
    expect(new KMeansStrategy({ compressionRatio: 0.5 }).params).toEqual({ compressionRatio: 0.5, seed: 0, iterations: 10 });
  });
});

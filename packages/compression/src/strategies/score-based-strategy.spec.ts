import { keptPositions, noStats, snapshotCache } from '../__fixtures__/helpers';
import { cacheBytes, createFullHead, headPositions, type KVCache } from '../kv-cache';
import { invalidScore, invalidShape, unequalHeadLengths } from '../messages';
import { createRandomCache } from '../testing/random-cache';
import { layerLengths, protectTokens, ScoreBasedStrategy } from './score-based-strategy';

/** Returns fixed scores, `[kvHeads, len]` per layer. */
class FixedScoreStrategy extends ScoreBasedStrategy {
  readonly id = 'fixed';
  calls = 0;

  constructor(
    compressionRatio: number,
    private readonly fixed: (cache: KVCache) => Float32Array[],
  ) {
    super(compressionRatio);
  }

  score(cache: KVCache): Float32Array[] {
    this.calls += 1;
    return this.fixed(cache);
  }
}

function oneHeadCache(len: number): KVCache {
  const keys = Float32Array.from({ length: len * 2 }, (_, i) => i); // [len, 2]
  const values = Float32Array.from({ length: len }, (_, i) => 100 + i); // [len, 1]
  const timestamps = Float64Array.from({ length: len }, (_, i) => 1000 + i); // [len]
  return { layers: [{ heads: [createFullHead(keys, values, len, 2, 1, timestamps)] }], seenTokens: len, itemIds: Int32Array.from({ length: len }, (_, i) => i + 1) };
}

describe('ScoreBasedStrategy', () => {
  it('returns the input cache at ratio 0', () => {
    const cache = oneHeadCache(5);
    const strategy = new FixedScoreStrategy(0, () => [new Float32Array(5)]);
    expect(strategy.compress(cache, noStats)).toBe(cache);
    expect(strategy.calls).toBe(0);
  });

  it('keeps the top-scored tokens in position order', () => {
    const cache = oneHeadCache(6);
    // Scores 0.1 0.9 0.3 0.8 0.2 0.7; ratio 0.5 keeps ⌊6 · 0.5⌋ = 3 tokens: 1, 3, 5.
    const strategy = new FixedScoreStrategy(0.5, () => [new Float32Array([0.1, 0.9, 0.3, 0.8, 0.2, 0.7])]);
    const head = strategy.compress(cache, noStats).layers[0].heads[0];
    expect(Array.from(headPositions(head))).toEqual([1, 3, 5]);
    expect(Array.from(head.keys.decode())).toEqual([2, 3, 6, 7, 10, 11]);
    expect(Array.from(head.values.decode())).toEqual([101, 103, 105]);
    expect(Array.from(head.timestamps ?? [])).toEqual([1001, 1003, 1005]);
  });

  it('breaks score ties toward the lower index', () => {
    const cache = oneHeadCache(6);
    const strategy = new FixedScoreStrategy(0.5, () => [new Float32Array([1, 2, 2, 2, 2, 1])]);
    expect(keptPositions(strategy.compress(cache, noStats))).toEqual([[[1, 2, 3]]]);
  });

  it('chooses tokens per head', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 2, len: 4, dKey: 2, dValue: 2, seed: 1 });
    // Head 0 prefers the first tokens, head 1 the last; ratio 0.5 keeps 2 each.
    const strategy = new FixedScoreStrategy(0.5, () => [new Float32Array([4, 3, 2, 1, 1, 2, 3, 4])]);
    expect(keptPositions(strategy.compress(cache, noStats))).toEqual([[[0, 1], [2, 3]]]);
  });

  it('never empties a non-empty head', () => {
    const cache = oneHeadCache(2);
    const strategy = new FixedScoreStrategy(0.9, () => [new Float32Array([0.5, 0.7])]);
    // ⌊2 · 0.1⌋ = 0, raised to 1: the higher score, token 1.
    expect(keptPositions(strategy.compress(cache, noStats))).toEqual([[[1]]]);
  });

  it('leaves a cache that fits its budget untouched', () => {
    const cache = oneHeadCache(1);
    const strategy = new FixedScoreStrategy(0.5, () => [new Float32Array(1)]);
    expect(strategy.compress(cache, noStats)).toBe(cache);
    expect(strategy.calls).toBe(0);
  });

  it('compresses to an absolute token budget', () => {
    const cache = oneHeadCache(6);
    const strategy = new FixedScoreStrategy(0.1, () => [new Float32Array([6, 5, 4, 3, 2, 1])]);
    expect(keptPositions(strategy.compressToTokens(cache, noStats, 2))).toEqual([[[0, 1]]]);
    expect(strategy.compressToTokens(cache, noStats, 6)).toBe(cache);
    expect(() => strategy.compressToTokens(cache, noStats, 0)).toThrow(RangeError);
  });

  it('charges explicit positions only for non-contiguous tokens', () => {
    const cache = oneHeadCache(6); // 6 tokens · (2 + 1) numbers · 4 B = 72 B
    expect(cacheBytes(cache)).toBe(72 + 6 * 8); // plus 8-byte timestamps
    const scattered = new FixedScoreStrategy(0.5, () => [new Float32Array([1, 0, 1, 0, 1, 0])]).compress(cache, noStats);
    // 3 tokens: 3 · 3 · 4 = 36 B of keys and values, 3 · 8 = 24 B of timestamps, 3 · 4 = 12 B of positions.
    expect(cacheBytes(scattered)).toBe(36 + 24 + 12);
    const contiguous = new FixedScoreStrategy(0.5, () => [new Float32Array([0, 0, 1, 1, 1, 0])]).compress(cache, noStats);
    expect(contiguous.layers[0].heads[0].positions).toBeNull();
    expect(cacheBytes(contiguous)).toBe(36 + 24);
  });

  it('does not mutate its input', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 2, len: 9, dKey: 3, dValue: 2, seed: 4, withTimestamps: true });
    const before = snapshotCache(cache);
    const strategy = new FixedScoreStrategy(0.6, (c) => c.layers.map(() => Float32Array.from({ length: 18 }, (_, i) => (i * 7) % 5)));
    strategy.compress(cache, noStats);
    expect(snapshotCache(cache)).toEqual(before);
  });

  it('rejects NaN scores', () => {
    const strategy = new FixedScoreStrategy(0.5, () => [new Float32Array([0, Number.NaN, 1, 2])]);
    expect(() => strategy.compress(oneHeadCache(4), noStats)).toThrow(new RangeError(invalidScore('FixedScoreStrategy.compress', 0, 0, 1, Number.NaN)));
  });

  it('rejects scores of the wrong shape', () => {
    const strategy = new FixedScoreStrategy(0.5, () => [new Float32Array(3)]);
    expect(() => strategy.compress(oneHeadCache(4), noStats)).toThrow(new RangeError(invalidShape('FixedScoreStrategy.compress', 'scores[0]', [1, 4], 3)));
  });

  it('rejects heads of unequal length in a layer', () => {
    const cache: KVCache = {
      layers: [{ heads: [oneHeadCache(3).layers[0].heads[0], oneHeadCache(4).layers[0].heads[0]] }],
      seenTokens: 4,
      itemIds: new Int32Array(4),
    };
    expect(() => layerLengths('test', cache)).toThrow(new RangeError(unequalHeadLengths('test', 0, [3, 4])));
  });

  it('rejects ratios outside [0, 1)', () => {
    expect(() => new FixedScoreStrategy(1, () => [])).toThrow(RangeError);
    expect(() => new FixedScoreStrategy(-0.5, () => [])).toThrow(RangeError);
  });
});

describe('protectTokens', () => {
  it('raises protected tokens above the rest in priority order', () => {
    const row = new Float32Array([5, 1, 3, 2]);
    protectTokens(row, [3, 1]);
    // Base = max 5 + 1 = 6, step 1: token 3 gets 6 + 2, token 1 gets 6 + 1.
    expect(Array.from(row)).toEqual([5, 7, 3, 8]);
  });

  it('keeps raised scores distinct at large magnitudes', () => {
    const row = new Float32Array([3e9, 0, 0]);
    protectTokens(row, [1, 2]);
    expect(row[1]).toBeGreaterThan(row[2]);
    expect(row[2]).toBeGreaterThan(row[0]);
  });
});


import { keptPositions, noStats } from '../__fixtures__/helpers';
import { cacheBytes } from '../kv-cache';
import { createRandomCache } from '../testing/random-cache';
import { WindowStrategy } from './window';

describe('WindowStrategy', () => {
  it('keeps the most recent tokens', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 2, len: 6, dKey: 4, dValue: 3, seed: 1 });
    // ⌊6 · (1 − 0.5)⌋ = 3: positions 3, 4, 5 in every head.
    const compressed = new WindowStrategy({ compressionRatio: 0.5 }).compress(cache, noStats);
    expect(keptPositions(compressed)).toEqual([
      [[3, 4, 5], [3, 4, 5]],
      [[3, 4, 5], [3, 4, 5]],
    ]);
  });

  it('stores positions implicitly at no byte cost', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 10, dKey: 4, dValue: 3, seed: 2 });
    const head = new WindowStrategy({ compressionRatio: 0.7 }).compress(cache, noStats).layers[0].heads[0];
    expect(head.positions).toBeNull();
    expect(head.positionStart).toBe(7); // ⌊10 · 0.3⌋ = 3 tokens: 7, 8, 9
    // 2 layers · 3 tokens · (4 + 3) numbers · 4 B, nothing else.
    expect(cacheBytes(new WindowStrategy({ compressionRatio: 0.7 }).compress(cache, noStats))).toBe(2 * 3 * 7 * 4);
  });

  it('keeps the newest token of a short history', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 2, dKey: 2, dValue: 2, seed: 3 });
    expect(keptPositions(new WindowStrategy({ compressionRatio: 0.9 }).compress(cache, noStats))).toEqual([[[1]]]);
  });

  it('records its ratio', () => {
    expect(new WindowStrategy({ compressionRatio: 0.25 }).params).toEqual({ compressionRatio: 0.25 });
  });
});

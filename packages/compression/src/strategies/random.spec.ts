import { keptPositions, naiveTopK, noStats } from '../__fixtures__/helpers';
import { createSeededRandom } from '../prng';
import { createRandomCache } from '../testing/random-cache';
import { RandomStrategy } from './random';

describe('RandomStrategy', () => {
  const cache = createRandomCache({ layers: 2, kvHeads: 2, len: 40, dKey: 2, dValue: 2, seed: 1 });

  it('keeps the same tokens for the same seed', () => {
    const first = new RandomStrategy({ compressionRatio: 0.5, seed: 11 }).compress(cache, noStats);
    const second = new RandomStrategy({ compressionRatio: 0.5, seed: 11 }).compress(cache, noStats);
    expect(keptPositions(first)).toEqual(keptPositions(second));
  });

  it('keeps other tokens for another seed', () => {
    const first = new RandomStrategy({ compressionRatio: 0.5, seed: 11 }).compress(cache, noStats);
    const second = new RandomStrategy({ compressionRatio: 0.5, seed: 12 }).compress(cache, noStats);
    expect(keptPositions(first)).not.toEqual(keptPositions(second));
  });

  it('keeps the top draws of the seeded generator', () => {
    // Independent route: draw the same sequence, layer by layer and head by head, and select.
    const random = createSeededRandom(7);
    const expected = cache.layers.map((layer) =>
      layer.heads.map(() => {
        const draws = Array.from({ length: 40 }, () => Math.fround(random()));
        return naiveTopK(draws, 10); // ⌊40 · 0.25⌋
      }),
    );
    expect(keptPositions(new RandomStrategy({ compressionRatio: 0.75, seed: 7 }).compress(cache, noStats))).toEqual(expected);
  });

  it('uses seed 0 by default and records it', () => {
    expect(new RandomStrategy({ compressionRatio: 0.5 }).params).toEqual({ compressionRatio: 0.5, seed: 0 });
  });

  it('rejects invalid seeds', () => {
    expect(() => new RandomStrategy({ compressionRatio: 0.5, seed: -3 })).toThrow(RangeError);
    expect(() => new RandomStrategy({ compressionRatio: 0.5, seed: 0.5 })).toThrow(RangeError);
  });
});

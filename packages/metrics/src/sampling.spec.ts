import { expectThrows } from './__fixtures__/reference';
import { invalidArgument, notEnoughNegatives } from './messages';
import { rankAmongCandidates, rankOfTarget } from './rank';
import { sampleNegatives } from './sampling';
import { topK } from './top-k';

/** Checks the sampling rules: distinct, in 1..nItems, never the target or an excluded id. */
function expectValidNegatives(negatives: Int32Array, nItems: number, target: number, exclude: readonly number[]): void {
  expect(new Set(negatives).size).toBe(negatives.length);
  for (const item of negatives) {
    expect(item).toBeGreaterThanOrEqual(1);
    expect(item).toBeLessThanOrEqual(nItems);
    expect(item).not.toBe(target);
    expect(exclude).not.toContain(item);
  }
}

describe('sampleNegatives', () => {
  it('draws distinct negatives, never the target, padding or history', () => {
    const history = [3, 8, 8, 0, 15];
    for (let seed = 0; seed < 20; seed += 1) {
      // 100 of 999 eligible items: the rejection path.
      const negatives = sampleNegatives(1000, 500, 100, history, seed);
      expect(negatives).toHaveLength(100);
      expectValidNegatives(negatives, 1000, 500, history);
    }
  });

  it('can draw every eligible item (shuffle path)', () => {
    // 20 items minus the target 4 minus the distinct excluded 1, 2, 3 leaves 16 eligible.
    const exclude = [1, 2, 3, 3];
    const negatives = sampleNegatives(20, 4, 16, exclude, 5);
    expectValidNegatives(negatives, 20, 4, exclude);
    expect(Array.from(negatives).sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    // 12 of 16 also takes the shuffle path.
    expectValidNegatives(sampleNegatives(20, 4, 12, exclude, 6), 20, 4, exclude);
  });

  it('is deterministic for a seed', () => {
    const first = sampleNegatives(3706, 42, 100, [1, 2, 3], 7);
    const again = sampleNegatives(3706, 42, 100, [1, 2, 3], 7);
    const other = sampleNegatives(3706, 42, 100, [1, 2, 3], 8);
    expect(Array.from(again)).toEqual(Array.from(first));
    expect(Array.from(other)).not.toEqual(Array.from(first));
  });

  it('draws each eligible item about equally often', () => {
    // 2,000 draws of 2 from the 4 eligible items {1, 2, 4, 5} (target 3): each is drawn
    // 2,000 · 2 / 4 = 1,000 times in expectation, with a standard deviation near 22.
    const counts = new Map<number, number>();
    for (let seed = 0; seed < 2000; seed += 1) {
      for (const item of sampleNegatives(5, 3, 2, null, seed)) {
        counts.set(item, (counts.get(item) ?? 0) + 1);
      }
    }
    expect([...counts.keys()].sort()).toEqual([1, 2, 4, 5]);
    for (const count of counts.values()) {
      expect(Math.abs(count - 1000)).toBeLessThan(120);
    }
  });

  it('ranks higher among sampled negatives than in full ranking', () => {
    // 1,000 items; the target 500 has 49 items strictly above it, so its full rank is 50.
    const scores = new Float64Array(1001).fill(0.1);
    for (let i = 0; i < 49; i += 1) {
      scores[10 + 20 * i] = 0.9;
    }
    scores[500] = 0.5;
    const negatives = sampleNegatives(1000, 500, 100, null, 3);
    const higher = Array.from(negatives).filter((item) => scores[item] > 0.5).length;
    // Sampled rank = 1 + (negatives above the target), about 1 + 100 · 49/999 ≈ 6, not 50.
    expect(rankAmongCandidates(scores, 500, negatives)).toBe(1 + higher);
    expect(rankOfTarget(scores, 500)).toBe(50);
  });

  it('leaves no flags behind', () => {
    sampleNegatives(10, 1, 3, [2, 3], 1);
    expect(() => sampleNegatives(10, 1, 50, [2, 3], 1)).toThrow(RangeError);
    // Stale flags would hide items from topK.
    expect(Array.from(topK(new Float64Array(11).fill(1), 10))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('rejects more negatives than eligible items', () => {
    // 10 items minus the target minus {2, 3}: 7 eligible.
    expectThrows(() => sampleNegatives(10, 1, 8, [2, 3, 1], 0), RangeError, notEnoughNegatives('sampleNegatives', 8, 7));
  });

  it('rejects invalid arguments', () => {
    expectThrows(() => sampleNegatives(0, 1, 1, null, 0), RangeError, invalidArgument('sampleNegatives', 'nItems', 'a positive integer', 0));
    expectThrows(() => sampleNegatives(10, 11, 1, null, 0), RangeError, invalidArgument('sampleNegatives', 'target', 'an integer in [1, 10]', 11));
    expectThrows(() => sampleNegatives(10, 1, 0, null, 0), RangeError, invalidArgument('sampleNegatives', 'count', 'a positive integer', 0));
    expectThrows(() => sampleNegatives(10, 1, 1, null, -1), RangeError, invalidArgument('sampleNegatives', 'seed', 'an integer in [0, 4294967295]', -1));
    expectThrows(() => sampleNegatives(10, 1, 1, [11], 0), RangeError, invalidArgument('sampleNegatives', 'exclude[0]', 'an integer in [0, 10]', 11));
  });
});

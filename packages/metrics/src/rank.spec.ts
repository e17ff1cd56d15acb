import { expectThrows, randomItemPermutation, randomTiedScores, referenceRank } from './__fixtures__/reference';
import { duplicateItem, invalidArgument } from './messages';
import { SeededRandom } from './random';
import { rankAmongCandidates, rankOfTarget } from './rank';
import { topK } from './top-k';

/** Builds `[nItems + 1]` scores with every item at `fill` and padding 0 at `padding`. */
function catalogue(nItems: number, fill: number, padding = 0): Float64Array {
  const scores = new Float64Array(nItems + 1).fill(fill);
  scores[0] = padding;
  return scores;
}

describe('rankOfTarget', () => {
  it('counts items strictly above the target (full ranking, 1,000 items)', () => {
    // 49 items at 0.9 (ids 10, 30, …, 970) above the target 500 at 0.5; the other 950
    // items at 0.1 are below it.
    const scores = catalogue(1000, 0.1);
    for (let i = 0; i < 49; i += 1) {
      scores[10 + 20 * i] = 0.9;
    }
    scores[500] = 0.5;

    // rank = 1 + 49 higher + 0 ties / 2 = 50
    expect(rankOfTarget(scores, 500)).toBe(50);
  });

  it('never gives a constant model rank 1', () => {
    // 100 items all 0.5, target 42: rank = 1 + 0 + 99 / 2 = 50.5 (pessimistic policy: 100).
    expect(rankOfTarget(catalogue(100, 0.5), 42)).toBe(50.5);
  });

  it('adds half of the tied items', () => {
    // Target 0.7 with three other items at 0.7 and five at 0.9: rank = 1 + 5 + 3 / 2 = 7.5.
    const scores = catalogue(20, 0.1);
    scores[4] = 0.7;
    scores.set([0.7, 0.7, 0.7], 10);
    scores.set([0.9, 0.9, 0.9, 0.9, 0.9], 15);
    expect(rankOfTarget(scores, 4)).toBe(7.5);
  });

  it('gives rank 2 for every assignment of ids to the scores', () => {
    // Items 9, 3 and 7 share the scores 0.2, 0.9 and 0.5 in all 6 ways; every other item is
    // at -Infinity. The item scored 0.5 is the target and only 0.9 beats it: rank 1 + 1 = 2.
    const ids = [9, 3, 7];
    const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for (const order of orders) {
      const scores = catalogue(9, -Infinity);
      const [low, high, middle] = order.map((index) => ids[index]);
      scores[low] = 0.2;
      scores[high] = 0.9;
      scores[middle] = 0.5;
      expect(rankOfTarget(scores, middle)).toBe(2);
    }
  });

  it('never ranks padding, even when it scores highest', () => {
    // Raw ids {0, 17, 42} map to items 1..3; padding row 0 has the highest score.
    const scores = new Float64Array([100, 0.3, 0.2, 0.1]);
    expect(rankOfTarget(scores, 1)).toBe(1);
    // The lowest-scored item has the worst possible rank, nItems = 3, not 4.
    expect(rankOfTarget(scores, 3)).toBe(3);
  });

  it('never masks the target when excluding the history', () => {
    // History [5, 7, 5, 9], target 7 (a repeat); scores 7 > 5 > 9 > every other item.
    const scores = catalogue(20, 0.1);
    scores[7] = 0.9;
    scores[5] = 0.8;
    scores[9] = 0.7;
    const history = [5, 7, 5, 9];
    expect(rankOfTarget(scores, 7)).toBe(1);
    expect(rankOfTarget(scores, 7, { exclude: history })).toBe(1);
    expect(rankOfTarget(scores, 7, { exclude: null })).toBe(1);

    // With 5 above 7 instead, exclusion removes 5 from the ranking: rank 2 becomes 1.
    scores[5] = 0.95;
    expect(rankOfTarget(scores, 7)).toBe(2);
    expect(rankOfTarget(scores, 7, { exclude: history })).toBe(1);
  });

  it('removes excluded items above and tied with the target', () => {
    // Items 5 (0.9) and 6 (0.9) above the target 7 (0.5); items 8, 9, 10 tie with it.
    const scores = catalogue(12, 0.1);
    scores[5] = 0.9;
    scores[6] = 0.9;
    scores[7] = 0.5;
    scores.set([0.5, 0.5, 0.5], 8);
    // Without exclusion: 1 + 2 + 3 / 2 = 4.5.
    expect(rankOfTarget(scores, 7)).toBe(4.5);
    // Excluding 5, 8 (each listed twice) and padding 0: 1 + 1 + 2 / 2 = 3.
    expect(rankOfTarget(scores, 7, { exclude: [5, 8, 0, 5, 8] })).toBe(3);
    // Excluding items below the target changes nothing.
    expect(rankOfTarget(scores, 7, { exclude: new Int32Array([1, 2, 11]) })).toBe(4.5);
  });

  it('leaves no exclusion behind for the next call', () => {
    const scores = catalogue(6, 0.5);
    // Excluding 1..5 leaves the target alone: rank 1.
    expect(rankOfTarget(scores, 6, { exclude: [1, 2, 3, 4, 5] })).toBe(1);
    // The next call without exclusion counts all six tied items: 1 + 5 / 2 = 3.5.
    expect(rankOfTarget(scores, 6)).toBe(3.5);
  });

  it('leaves no exclusion behind after an invalid id', () => {
    const scores = catalogue(6, 0.5);
    expect(() => rankOfTarget(scores, 6, { exclude: [1, 2, 99] })).toThrow(RangeError);
    // Items 1 and 2 were flagged before id 99 failed; stale flags would hide them from topK.
    expect(Array.from(topK(scores, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rankOfTarget(scores, 6, { exclude: [3] })).toBe(1 + 4 / 2);
  });

  it('ranks float32 scores the same way', () => {
    const scores = new Float32Array([5, 0.1, 0.7, 0.7, 0.3]);
    // Target 3 ties with item 2 and nothing is higher: 1 + 0 + 1 / 2 = 1.5.
    expect(rankOfTarget(scores, 3)).toBe(1.5);
  });

  it('stays finite when every score is -Infinity', () => {
    // A model that masked everything: all 8 items tie, rank = 1 + 7 / 2 = 4.5.
    const scores = catalogue(8, -Infinity, -Infinity);
    expect(rankOfTarget(scores, 8)).toBe(4.5);
  });

  it('matches a sort-based reference on random tied scores', () => {
    const random = new SeededRandom(11);
    for (let trial = 0; trial < 200; trial += 1) {
      const nItems = 1 + random.nextInt(60);
      const scores = randomTiedScores(nItems, 1 + random.nextInt(6), random);
      const target = 1 + random.nextInt(nItems);
      const exclude = Array.from({ length: random.nextInt(10) }, () => random.nextInt(nItems + 1));
      expect(rankOfTarget(scores, target, { exclude })).toBe(referenceRank(scores, target, exclude));
    }
  });

  it('does not depend on item ids (permutation property)', () => {
    // Relabel items by a permutation π and move every score, the target and the exclusion
    // with it: the rank must not change.
    const random = new SeededRandom(12);
    for (let trial = 0; trial < 200; trial += 1) {
      const nItems = 2 + random.nextInt(80);
      const scores = randomTiedScores(nItems, 1 + random.nextInt(5), random);
      const target = 1 + random.nextInt(nItems);
      const exclude = Array.from({ length: random.nextInt(12) }, () => 1 + random.nextInt(nItems));
      const permutation = randomItemPermutation(nItems, random);
      const permuted = new Float64Array(nItems + 1);
      for (let item = 0; item <= nItems; item += 1) {
        permuted[permutation[item]] = scores[item];
      }
      const permutedExclude = exclude.map((item) => permutation[item]);
      expect(rankOfTarget(permuted, permutation[target], { exclude: permutedExclude })).toBe(rankOfTarget(scores, target, { exclude }));
    }
  });

  it('rejects NaN scores', () => {
    const scores = catalogue(5, 0.5);
    scores[2] = NaN;
    scores[4] = NaN;
    expectThrows(() => rankOfTarget(scores, 1), RangeError, invalidArgument('rankOfTarget', 'scores', 'no NaN entries', '2 NaN entries'));
    expectThrows(() => rankOfTarget(scores, 2), RangeError, invalidArgument('rankOfTarget', "scores[2] (the target's score)", 'a number (not NaN)', NaN));
  });

  it('rejects a target outside 1..nItems', () => {
    const scores = catalogue(5, 0.5);
    for (const target of [0, 6, -1, 2.5]) {
      expectThrows(() => rankOfTarget(scores, target), RangeError, invalidArgument('rankOfTarget', 'target', 'an integer in [1, 5]', target));
    }
    expectThrows(() => rankOfTarget(scores, '3' as unknown as number), TypeError, invalidArgument('rankOfTarget', 'target', 'an integer in [1, 5]', '3'));
  });

  it('rejects scores that are not a float typed array', () => {
    const expected = 'a Float32Array or Float64Array indexed by item id ([nItems + 1], entry 0 is padding)';
    expectThrows(() => rankOfTarget([0, 1, 2] as unknown as Float64Array, 1), TypeError, invalidArgument('rankOfTarget', 'scores', expected, [0, 1, 2]));
    expectThrows(() => rankOfTarget(new Float64Array(1), 1), RangeError, invalidArgument('rankOfTarget', 'scores.length', 'at least 2 (padding entry 0 and one item)', 1));
  });

  it('rejects excluded ids outside 0..nItems', () => {
    const scores = catalogue(5, 0.5);
    expectThrows(() => rankOfTarget(scores, 1, { exclude: [2, 6] }), RangeError, invalidArgument('rankOfTarget', 'options.exclude[1]', 'an integer in [0, 5]', 6));
    expectThrows(() => rankOfTarget(scores, 1, { exclude: 3 as unknown as number[] }), TypeError, invalidArgument('rankOfTarget', 'options.exclude', 'an array or typed array of numbers', 3));
  });
});

describe('rankAmongCandidates', () => {
  it('gives rank 2 in every order of the candidate list', () => {
    // Candidates [9, 3, 7] scored {9: 0.2, 3: 0.9, 7: 0.5}, target 7: only item 3 is higher.
    const scores = new Float64Array(10);
    scores[9] = 0.2;
    scores[3] = 0.9;
    scores[7] = 0.5;
    const orders = [[9, 3, 7], [9, 7, 3], [3, 9, 7], [3, 7, 9], [7, 9, 3], [7, 3, 9]];
    for (const candidates of orders) {
      expect(rankAmongCandidates(scores, 7, candidates)).toBe(2);
    }
    // The target need not be listed.
    expect(rankAmongCandidates(scores, 7, [9, 3])).toBe(2);
  });

  it('ignores items that are not candidates', () => {
    // Item 1 scores highest but is not a candidate; item 2 ties with the target 4.
    const scores = new Float64Array([0, 0.99, 0.5, 0.1, 0.5]);
    // rank = 1 + 0 higher + 1 tie / 2 = 1.5
    expect(rankAmongCandidates(scores, 4, [2, 3])).toBe(1.5);
  });

  it('uses the same tie policy as full ranking', () => {
    const random = new SeededRandom(13);
    for (let trial = 0; trial < 100; trial += 1) {
      const nItems = 2 + random.nextInt(40);
      const scores = randomTiedScores(nItems, 1 + random.nextInt(4), random);
      const target = 1 + random.nextInt(nItems);
      // With every item as a candidate the two ranks must agree.
      const everyItem = Array.from({ length: nItems }, (_, i) => i + 1);
      expect(rankAmongCandidates(scores, target, everyItem)).toBe(rankOfTarget(scores, target));
    }
  });

  it('rejects padding, duplicates and NaN scores', () => {
    const scores = new Float64Array([0, 0.1, 0.2, NaN]);
    expectThrows(() => rankAmongCandidates(scores, 1, [0, 2]), RangeError, invalidArgument('rankAmongCandidates', 'candidates[0]', 'an integer in [1, 3]', 0));
    expectThrows(() => rankAmongCandidates(scores, 1, [2, 2]), RangeError, duplicateItem('rankAmongCandidates', 'candidates', 2));
    expectThrows(() => rankAmongCandidates(scores, 1, [2, 3]), RangeError, invalidArgument('rankAmongCandidates', 'scores[3] (candidates[1])', 'a number (not NaN)', NaN));
    // The failed calls left no marks: item 2 is accepted again.
    expect(rankAmongCandidates(scores, 1, [2])).toBe(2);
  });
});

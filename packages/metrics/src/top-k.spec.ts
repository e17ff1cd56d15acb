import { expectThrows, randomTiedScores, referenceTopK } from './__fixtures__/reference';
import { invalidArgument } from './messages';
import { SeededRandom } from './random';
import { topK } from './top-k';

describe('topK', () => {
  it('returns ids by decreasing score', () => {
    const scores = new Float64Array([0, 0.3, 0.9, 0.1, 0.7]);
    expect(Array.from(topK(scores, 3))).toEqual([2, 4, 1]);
  });

  it('breaks ties by the lower item id', () => {
    // Items 2, 5 and 7 tie at 0.8 above everything else; item 4 is best at 0.9.
    const scores = new Float32Array([0, 0.1, 0.8, 0.1, 0.9, 0.8, 0.1, 0.8]);
    expect(Array.from(topK(scores, 3))).toEqual([4, 2, 5]);
    expect(Array.from(topK(scores, 4))).toEqual([4, 2, 5, 7]);
    // All tied: the k lowest ids, in order.
    expect(Array.from(topK(new Float64Array(11).fill(0.5), 4))).toEqual([1, 2, 3, 4]);
  });

  it('never returns padding, even when it scores highest', () => {
    // Items 1..3 with padding row 0 scored highest.
    const scores = new Float64Array([100, 0.3, 0.2, 0.1]);
    expect(Array.from(topK(scores, 2))).toEqual([1, 2]);
    // Asking for more than the catalogue returns the 3 items, not 4.
    expect(Array.from(topK(scores, 10))).toEqual([1, 2, 3]);
  });

  it('never returns excluded history items', () => {
    // History [5, 7, 5, 9], target 7; scores 7 > 5 > 9 > every other item.
    const scores = new Float64Array(13).fill(0.1);
    scores[7] = 0.9;
    scores[5] = 0.8;
    scores[9] = 0.7;
    const history = [5, 7, 5, 9];
    expect(Array.from(topK(scores, 3))).toEqual([7, 5, 9]);
    // Excluding the whole history hides 7 too, unless 7 is named as the target.
    expect(Array.from(topK(scores, 3, { exclude: history }))).toEqual([1, 2, 3]);
    expect(Array.from(topK(scores, 3, { exclude: history, target: 7 }))).toEqual([7, 1, 2]);
    // The flags are cleared afterwards: nothing is excluded in the next call.
    expect(Array.from(topK(scores, 3))).toEqual([7, 5, 9]);
  });

  it('returns fewer items when exclusion leaves fewer than k', () => {
    const scores = new Float64Array([0, 0.5, 0.4, 0.3]);
    expect(Array.from(topK(scores, 5, { exclude: [1, 3] }))).toEqual([2]);
  });

  it('orders -Infinity scores last', () => {
    const scores = new Float64Array([0, -Infinity, 0.2, Infinity, -Infinity]);
    expect(Array.from(topK(scores, 4))).toEqual([3, 2, 1, 4]);
  });

  it('matches a full sort on random tied scores', () => {
    const random = new SeededRandom(21);
    for (let trial = 0; trial < 200; trial += 1) {
      const nItems = 1 + random.nextInt(80);
      const scores = randomTiedScores(nItems, 1 + random.nextInt(6), random);
      const k = 1 + random.nextInt(nItems + 5);
      const exclude = Array.from({ length: random.nextInt(8) }, () => 1 + random.nextInt(nItems));
      expect(Array.from(topK(scores, k, { exclude }))).toEqual(referenceTopK(scores, k, exclude));
    }
  });

  it('rejects an invalid k, target or score', () => {
    const scores = new Float64Array([0, 0.5, NaN]);
    for (const k of [0, 1.5, -3]) {
      expectThrows(() => topK(scores, k), RangeError, invalidArgument('topK', 'k', 'a positive integer', k));
    }
    expectThrows(() => topK(scores, 1, { target: 3 }), RangeError, invalidArgument('topK', 'options.target', 'an integer in [1, 2]', 3));
    expectThrows(() => topK(scores, 1), RangeError, invalidArgument('topK', 'scores[2]', 'a number (not NaN)', NaN));
    // An excluded NaN is rejected too, as a sign of a broken model.
    expectThrows(() => topK(scores, 1, { exclude: [2] }), RangeError, invalidArgument('topK', 'scores[2]', 'a number (not NaN)', NaN));
    // The failed call cleared its flags: item 2 is not excluded afterwards.
    scores[2] = 0.9;
    expect(Array.from(topK(scores, 2))).toEqual([2, 1]);
  });
});

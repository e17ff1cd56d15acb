import { naiveTopK } from './__fixtures__/helpers';
import { createSeededRandom } from './prng';
import { selectTopK } from './top-k';

describe('selectTopK', () => {
  it('returns the highest scores in index order', () => {
    expect(Array.from(selectTopK(new Float32Array([0.1, 0.9, 0.3, 0.7]), 0, 4, 2))).toEqual([1, 3]);
  });

  it('breaks ties toward the lower index', () => {
    expect(Array.from(selectTopK([0.5, 0.5, 0.5, 0.5], 0, 4, 2))).toEqual([0, 1]);
    expect(Array.from(selectTopK([0.2, 0.5, 0.1, 0.5, 0.5], 0, 5, 2))).toEqual([1, 3]);
  });

  it('orders infinite scores like others', () => {
    expect(Array.from(selectTopK([Infinity, 1, Infinity, -Infinity], 0, 4, 2))).toEqual([0, 2]);
    expect(Array.from(selectTopK([-Infinity, -Infinity, 0], 0, 3, 2))).toEqual([0, 2]);
  });

  it('reads the row at an offset', () => {
    const scores = new Float32Array([9, 9, 9, 0.1, 0.3, 0.2]); // two rows of 3
    expect(Array.from(selectTopK(scores, 3, 3, 1))).toEqual([1]);
  });

  it('agrees with a linear-scan selection', () => {
    const random = createSeededRandom(5);
    for (let trial = 0; trial < 200; trial++) {
      const len = 1 + Math.floor(random() * 40);
      // Coarse values make ties frequent.
      const row = Float32Array.from({ length: len }, () => Math.floor(random() * 5));
      const k = Math.floor(random() * (len + 1));
      expect(Array.from(selectTopK(row, 0, len, k))).toEqual(naiveTopK(row, k));
    }
  });

  it('rejects k outside [0, len]', () => {
    expect(() => selectTopK([1, 2], 0, 2, 3)).toThrow(RangeError);
    expect(() => selectTopK([1, 2], 0, 2, -1)).toThrow(RangeError);
    expect(() => selectTopK([1, 2], 1, 2, 1)).toThrow(RangeError);
  });
});

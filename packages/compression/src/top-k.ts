import { invalidArgument, formatValue } from './messages';

/**
 * Selects the `k` highest scores of one row and returns their indices in ascending order.
 * Ties go to the lower index, so the result never depends on the sort implementation.
 * Infinite scores are ordered like any other; NaN scores must be rejected before the call.
 *
 * @param scores - row-major buffer that contains the row.
 * @param offset - index in `scores` of the row's first entry.
 * @param len - number of entries in the row.
 * @param k - number of indices to keep, an integer in [0, len].
 * @returns `[k]` ascending indices into the row.
 * @throws RangeError when `k` is outside [0, len] or the row does not fit in `scores`.
 * @example
 * selectTopK(new Float32Array([0.1, 0.5, 0.5, 0.2]), 0, 4, 2); // Int32Array [1, 2]
 */
export function selectTopK(scores: ArrayLike<number>, offset: number, len: number, k: number): Int32Array {
  if (!Number.isInteger(k) || k < 0 || k > len) {
    throw new RangeError(invalidArgument('selectTopK', 'k', `an integer in [0, ${len}]`, formatValue(k)));
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + len > scores.length) {
    throw new RangeError(invalidArgument('selectTopK', 'offset', `an integer in [0, ${scores.length - len}]`, formatValue(offset)));
  }

  // Order every index by descending score, then ascending index.
  const order: number[] = new Array<number>(len); // [len]
  for (let i = 0; i < len; i++) {
    order[i] = i;
  }
  order.sort((a, b) => {
    const scoreA = scores[offset + a];
    const scoreB = scores[offset + b];
    if (scoreA !== scoreB) {
      return scoreA > scoreB ? -1 : 1;
    }
    return a - b;
  });

  // Keep the first k and sort them by index.
  const kept = Int32Array.from(order.slice(0, k)); // [k]
  kept.sort();
  return kept;
}

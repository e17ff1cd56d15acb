import { clearItemMarks, markItems } from './item-mask';
import { invalidArgument } from './messages';
import { ItemScores, requireItemId, requireItemScores, requirePositiveInteger } from './validation';

/** Options of {@link topK}. */
export interface TopKOptions {
  /**
   * Item ids never returned, typically the user's history. Repeats and padding id 0 are
   * allowed. Default value: `null` (no item is excluded).
   */
  exclude?: ArrayLike<number> | null;
  /**
   * Item id that stays eligible even when listed in `exclude`, as the held-out target does
   * in {@link rankOfTarget}. Default value: none.
   */
  target?: number | null;
}

/**
 * Top-K retrieval: returns the `k` highest-scored item ids, best first.
 *
 * Ties are broken by the lower item id, on every backend and in every call, so two runs
 * with equal scores return identical lists. Padding id 0 is never returned, and excluded
 * items are never returned. Selection keeps a min-heap of the best `k` seen so far in one
 * pass, O(nItems · log k), without sorting the catalogue.
 *
 * @param scores model scores indexed by item id, `[nItems + 1]`, where entry 0 is padding.
 *   ±Infinity is allowed. NaN is rejected for every item, excluded ones included, as in
 *   {@link rankOfTarget}.
 * @param k number of items to return, a positive integer. When fewer than `k` items are
 *   eligible, all of them are returned.
 * @param options see {@link TopKOptions}.
 * @returns item ids, `[min(k, eligible items)]`, by decreasing score and then increasing id.
 * @throws TypeError when `scores` is not a Float32Array or Float64Array, or `k` or an id is
 *   not a number.
 * @throws RangeError when `k` is not a positive integer, an excluded id is not an integer
 *   in 0..nItems, `options.target` is not in 1..nItems, or a score is NaN.
 * @example
 * // Items 1..4 scored 0.5, 0.9, 0.5, 0.1 with item 2 excluded: 1 and 3 tie, 1 comes first.
 * topK(new Float64Array([9, 0.5, 0.9, 0.5, 0.1]), 2, { exclude: [2] }); // Int32Array [1, 3]
 */
export function topK(scores: ItemScores, k: number, options?: TopKOptions): Int32Array {
  const where = 'topK';

  // Validate the arguments.
  const nItems = requireItemScores(where, 'scores', scores);
  requirePositiveInteger(where, 'k', k);
  const target = options?.target ?? null;
  if (target !== null) {
    requireItemId(where, 'options.target', target, nItems);
  }
  const exclude = options?.exclude ?? null;
  const flags = exclude === null ? null : markItems(where, 'options.exclude', exclude, nItems, { minId: 0, keep: target ?? -1, rejectDuplicates: false }).flags;

  // Select the best k eligible items in one pass. The heap root is the worst kept item.
  const capacity = Math.min(k, nItems);
  const heapItems = new Int32Array(capacity); // [capacity]
  const heapScores = new Float64Array(capacity); // [capacity]
  let size = 0;
  try {
    for (let item = 1; item <= nItems; item += 1) {
      const score = scores[item];
      if (Number.isNaN(score)) {
        throw new RangeError(invalidArgument(where, `scores[${item}]`, 'a number (not NaN)', score));
      }
      if (flags !== null && flags[item] === 1) {
        continue;
      }
      if (size < capacity) {
        heapItems[size] = item;
        heapScores[size] = score;
        size += 1;
        siftUp(heapItems, heapScores, size - 1);
      } else if (score > heapScores[0]) {
        // Items arrive in increasing id order, so an equal score never displaces the root.
        heapItems[0] = item;
        heapScores[0] = score;
        siftDown(heapItems, heapScores, size, 0);
      }
    }
  } finally {
    if (exclude !== null) {
      clearItemMarks(exclude);
    }
  }

  // Pop the worst item repeatedly, filling the result from the back.
  const result = new Int32Array(size); // [min(k, eligible items)]
  for (let end = size; end > 0; end -= 1) {
    result[end - 1] = heapItems[0];
    heapItems[0] = heapItems[end - 1];
    heapScores[0] = heapScores[end - 1];
    siftDown(heapItems, heapScores, end - 1, 0);
  }
  return result;
}

/** Returns whether entry `a` ranks below entry `b`: a lower score, or an equal score and a higher id. */
function ranksBelow(items: Int32Array, scores: Float64Array, a: number, b: number): boolean {
  return scores[a] < scores[b] || (scores[a] === scores[b] && items[a] > items[b]);
}

/** Swaps heap entries `a` and `b`. */
function swap(items: Int32Array, scores: Float64Array, a: number, b: number): void {
  const item = items[a];
  items[a] = items[b];
  items[b] = item;
  const score = scores[a];
  scores[a] = scores[b];
  scores[b] = score;
}

/** Restores the min-heap order (worst entry at the root) upwards from `index`. */
function siftUp(items: Int32Array, scores: Float64Array, index: number): void {
  let child = index;
  while (child > 0) {
    const parent = (child - 1) >> 1;
    if (!ranksBelow(items, scores, child, parent)) {
      return;
    }
    swap(items, scores, child, parent);
    child = parent;
  }
}

/** Restores the min-heap order downwards from `index` within the first `size` entries. */
function siftDown(items: Int32Array, scores: Float64Array, size: number, index: number): void {
  let parent = index;
  for (;;) {
    const left = 2 * parent + 1;
    const right = left + 1;
    let worst = parent;
    if (left < size && ranksBelow(items, scores, left, worst)) {
      worst = left;
    }
    if (right < size && ranksBelow(items, scores, right, worst)) {
      worst = right;
    }
    if (worst === parent) {
      return;
    }
    swap(items, scores, parent, worst);
    parent = worst;
  }
}

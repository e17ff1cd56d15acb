import { clearItemMarks, markItems } from './item-mask';
import { notEnoughNegatives } from './messages';
import { SeededRandom } from './random';
import { requireItemId, requirePositiveInteger, requireSeed } from './validation';

/**
 * Sampled ranking: draws `count` negative item ids uniformly without replacement, for
 * {@link rankAmongCandidates}.
 *
 * A negative is never the target, never padding id 0, never an excluded item and never a
 * duplicate, because sampling with replacement repeats items and inflates NDCG. Metrics
 * computed against sampled negatives (100 is a common count) are far higher than
 * full-ranking metrics, so report them as sampled.
 *
 * When at most half of the eligible items are requested, ids are drawn from 1..nItems and
 * rejected if ineligible or already drawn. Otherwise the eligible ids are listed and a
 * partial Fisher–Yates shuffle picks `count` of them. Both paths are deterministic for a
 * seed.
 *
 * @param nItems catalogue size (item ids 1..nItems), a positive integer.
 * @param target held-out item id in 1..nItems, never drawn.
 * @param count number of negatives, a positive integer no larger than the number of
 *   eligible items.
 * @param exclude item ids never drawn (for example the user's history), or `null`. Repeats
 *   and padding id 0 are allowed.
 * @param seed unsigned 32-bit integer seed.
 * @returns distinct item ids in draw order, `[count]`.
 * @throws TypeError when an argument is not a number or `exclude` is not an array.
 * @throws RangeError when an argument is out of range, or fewer than `count` items are
 *   eligible.
 * @example
 * const negatives = sampleNegatives(3706, 42, 100, history, 7);
 * const rank = rankAmongCandidates(scores, 42, negatives);
 */
export function sampleNegatives(nItems: number, target: number, count: number, exclude: ArrayLike<number> | null, seed: number): Int32Array {
  const where = 'sampleNegatives';

  // Validate the arguments and flag the excluded items.
  requirePositiveInteger(where, 'nItems', nItems);
  requireItemId(where, 'target', target, nItems);
  requirePositiveInteger(where, 'count', count);
  requireSeed(where, 'seed', seed);
  const excluded = exclude ?? [];
  const { flags, distinct } = markItems(where, 'exclude', excluded, nItems, { minId: 0, keep: target, rejectDuplicates: false });

  const negatives = new Int32Array(count); // [count]
  try {
    // Count the eligible items: the catalogue minus the target and the distinct excluded ids.
    const eligible = nItems - 1 - distinct;
    if (count > eligible) {
      throw new RangeError(notEnoughNegatives(where, count, eligible));
    }

    // Draw, by rejection when eligible items are plentiful, else by a partial shuffle.
    const random = new SeededRandom(seed);
    if (2 * count <= eligible) {
      drawByRejection(random, nItems, target, flags, negatives);
    } else {
      drawByShuffle(random, nItems, target, flags, eligible, negatives);
    }
  } finally {
    clearItemMarks(excluded);
    clearItemMarks(negatives);
  }
  return negatives;
}

/** Fills `out` with distinct ids in 1..nItems that are neither the target nor flagged, and flags each drawn id. */
function drawByRejection(random: SeededRandom, nItems: number, target: number, flags: Uint8Array, out: Int32Array): void {
  let drawn = 0;
  while (drawn < out.length) {
    const item = 1 + random.nextInt(nItems);
    if (item === target || flags[item] === 1) {
      continue;
    }
    flags[item] = 1;
    out[drawn] = item;
    drawn += 1;
  }
}

/** Fills `out` with the first ids of a partial Fisher–Yates shuffle of the eligible ids. */
function drawByShuffle(random: SeededRandom, nItems: number, target: number, flags: Uint8Array, eligible: number, out: Int32Array): void {
  // List the eligible ids in increasing order.
  const pool = new Int32Array(eligible); // [eligible]
  let size = 0;
  for (let item = 1; item <= nItems; item += 1) {
    if (item !== target && flags[item] === 0) {
      pool[size] = item;
      size += 1;
    }
  }

  // Swap a uniformly chosen remaining id into each output position.
  for (let i = 0; i < out.length; i += 1) {
    const j = i + random.nextInt(eligible - i);
    const item = pool[j];
    pool[j] = pool[i];
    pool[i] = item;
    out[i] = item;
  }
}

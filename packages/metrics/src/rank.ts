import { clearItemMarks, markItems } from './item-mask';
import { invalidArgument } from './messages';
import { ItemScores, requireItemId, requireItemScores } from './validation';

/** Options of {@link rankOfTarget}. */
export interface RankOptions {
  /**
   * Item ids left out of the ranking, typically the user's history. Repeats and padding id
   * 0 are allowed and ignored. The target is never excluded, even when listed, because the
   * held-out item is often a repeat of a history item.
   * Default value: `null` (every item 1..nItems is ranked).
   */
  exclude?: ArrayLike<number> | null;
}

/**
 * Full ranking: computes the 1-based rank of `target` among all items 1..nItems under the
 * random tie-breaking policy.
 *
 * rank = 1 + (number of ranked items scored strictly higher than the target)
 *          + (number of other ranked items scored equal to the target) / 2,
 *
 * which is the expected rank when ties are broken uniformly at random. A constant model
 * therefore gets rank (nItems + 1) / 2, never 1. Padding entry 0 is never ranked, whatever
 * its score, so the worst rank is nItems minus the number of excluded items.
 *
 * The scan is one pass over the scores with no sort and no allocation. Excluded items are
 * not masked in a copy: their contribution to the two counts is subtracted afterwards, each
 * distinct id once, using a shared flag buffer.
 *
 * @param scores model scores indexed by item id, `[nItems + 1]`, where entry 0 is padding.
 *   ±Infinity is allowed (for example items that a model masked), NaN is rejected.
 * @param target held-out item id in 1..nItems.
 * @param options see {@link RankOptions}.
 * @returns the rank: an integer or an integer plus 0.5, at least 1.
 * @throws TypeError when `scores` is not a Float32Array or Float64Array, or when `target`
 *   or an excluded id is not a number.
 * @throws RangeError when `target` or an excluded id is not an integer in its range
 *   (1..nItems for the target, 0..nItems for excluded ids), or when any score is NaN.
 * @example
 * // Items 1..4 scored 0.9, 0.5, 0.9, 0.1. Target 3 ties with item 1: rank = 1 + 0 + 1/2.
 * rankOfTarget(new Float64Array([0, 0.9, 0.5, 0.9, 0.1]), 3); // 1.5
 */
export function rankOfTarget(scores: ItemScores, target: number, options?: RankOptions): number {
  const where = 'rankOfTarget';

  // Validate the arguments.
  const nItems = requireItemScores(where, 'scores', scores);
  requireItemId(where, 'target', target, nItems);
  const targetScore = scores[target];
  if (Number.isNaN(targetScore)) {
    throw new RangeError(invalidArgument(where, `scores[${target}] (the target's score)`, 'a number (not NaN)', targetScore));
  }

  // Count items 1..nItems scored above, equal to (the target included) or neither (NaN).
  let higher = 0;
  let equal = 0;
  let notANumber = 0;
  for (let item = 1; item <= nItems; item += 1) {
    const score = scores[item];
    if (score > targetScore) {
      higher += 1;
    } else if (score === targetScore) {
      equal += 1;
    } else if (!(score < targetScore)) {
      notANumber += 1;
    }
  }
  if (notANumber > 0) {
    throw new RangeError(invalidArgument(where, 'scores', 'no NaN entries', `${notANumber} NaN entries`));
  }

  // Subtract each distinct excluded item once. Clearing its flag on the first visit makes
  // repeats skip, and leaves the shared buffer clean.
  const exclude = options?.exclude;
  if (exclude !== undefined && exclude !== null) {
    const { flags } = markItems(where, 'options.exclude', exclude, nItems, { minId: 0, keep: target, rejectDuplicates: false });
    for (let i = 0; i < exclude.length; i += 1) {
      const item = exclude[i];
      if (flags[item] === 1) {
        flags[item] = 0;
        const score = scores[item];
        if (score > targetScore) {
          higher -= 1;
        } else if (score === targetScore) {
          equal -= 1;
        }
      }
    }
  }

  // Expected rank under random tie-breaking. `equal` counts the target itself once.
  return 1 + higher + (equal - 1) / 2;
}

/**
 * Sampled ranking: computes the rank of `target` among itself and `candidates` only, with
 * the same tie policy as {@link rankOfTarget}.
 *
 * rank = 1 + (candidates scored strictly higher) + (candidates scored equal) / 2.
 *
 * Metrics from this rank are sampled metrics, which are much higher than full-ranking
 * metrics for the same model (with 100 negatives, any target that beats them all has rank
 * 1). Label them as sampled wherever they are reported, for example with a
 * `RankingAccumulator` whose protocol is `{ mode: 'sampled', negatives }`. The result does
 * not depend on the order of `candidates`.
 *
 * @param scores model scores indexed by item id, `[nItems + 1]`, where entry 0 is padding.
 * @param target held-out item id in 1..nItems.
 * @param candidates distinct item ids in 1..nItems competing with the target, usually from
 *   {@link sampleNegatives}, `[k]`. The target may be listed and is then not counted against
 *   itself.
 * @returns the rank, an integer or an integer plus 0.5, in [1, number of candidates + 1].
 * @throws TypeError when `scores` is not a Float32Array or Float64Array, or an id is not a
 *   number.
 * @throws RangeError when `target` or a candidate is not an integer in 1..nItems (padding 0
 *   is never a candidate), a candidate repeats, or a compared score is NaN.
 * @example
 * // Candidates 9, 3, 7 scored 0.2, 0.9, 0.5. Target 7 is beaten only by item 3: rank 2.
 * const scores = new Float64Array(10);
 * scores[9] = 0.2; scores[3] = 0.9; scores[7] = 0.5;
 * rankAmongCandidates(scores, 7, [9, 3, 7]); // 2
 */
export function rankAmongCandidates(scores: ItemScores, target: number, candidates: ArrayLike<number>): number {
  const where = 'rankAmongCandidates';

  // Validate the arguments. The flags reject repeated candidates.
  const nItems = requireItemScores(where, 'scores', scores);
  requireItemId(where, 'target', target, nItems);
  const targetScore = scores[target];
  if (Number.isNaN(targetScore)) {
    throw new RangeError(invalidArgument(where, `scores[${target}] (the target's score)`, 'a number (not NaN)', targetScore));
  }
  markItems(where, 'candidates', candidates, nItems, { minId: 1, keep: -1, rejectDuplicates: true });
  clearItemMarks(candidates);

  // Count the candidates other than the target scored above or equal to the target.
  let higher = 0;
  let equal = 0;
  for (let i = 0; i < candidates.length; i += 1) {
    const item = candidates[i];
    if (item === target) {
      continue;
    }
    const score = scores[item];
    if (score > targetScore) {
      higher += 1;
    } else if (score === targetScore) {
      equal += 1;
    } else if (!(score < targetScore)) {
      throw new RangeError(invalidArgument(where, `scores[${item}] (candidates[${i}])`, 'a number (not NaN)', score));
    }
  }

  // Expected rank under random tie-breaking.
  return 1 + higher + equal / 2;
}

// Slow, obviously correct references and small helpers for the tests of this package.

import { SeededRandom } from '../random';

/**
 * Computes the expected rank under random tie-breaking by sorting. The eligible items are
 * sorted by decreasing score. The target's rank is the middle of the block of items that
 * share its score: 1 + (first + last) / 2, with 0-based positions.
 */
export function referenceRank(scores: ArrayLike<number>, target: number, exclude: readonly number[] = []): number {
  const eligible: number[] = [];
  for (let item = 1; item < scores.length; item += 1) {
    if (item === target || !exclude.includes(item)) {
      eligible.push(item);
    }
  }
  eligible.sort((a, b) => byDecreasingScore(scores, a, b));
  const first = eligible.findIndex((item) => scores[item] === scores[target]);
  let last = first;
  while (last + 1 < eligible.length && scores[eligible[last + 1]] === scores[target]) {
    last += 1;
  }
  return 1 + (first + last) / 2;
}

/** Returns the eligible items sorted by decreasing score and then increasing id, cut to k. */
export function referenceTopK(scores: ArrayLike<number>, k: number, exclude: readonly number[] = []): number[] {
  const eligible: number[] = [];
  for (let item = 1; item < scores.length; item += 1) {
    if (!exclude.includes(item)) {
      eligible.push(item);
    }
  }
  eligible.sort((a, b) => byDecreasingScore(scores, a, b));
  return eligible.slice(0, k);
}

/** Orders items by decreasing score, then increasing id, without subtracting scores (safe for ±Infinity). */
function byDecreasingScore(scores: ArrayLike<number>, a: number, b: number): number {
  if (scores[b] > scores[a]) {
    return 1;
  }
  if (scores[b] < scores[a]) {
    return -1;
  }
  return a - b;
}

/** Returns a seeded random permutation of 1..n as an array indexed by item id, entry 0 fixed at 0. */
export function randomItemPermutation(n: number, random: SeededRandom): Int32Array {
  const permutation = Int32Array.from({ length: n + 1 }, (_, i) => i); // [n + 1]
  for (let i = n; i > 1; i -= 1) {
    const j = 1 + random.nextInt(i);
    const swap = permutation[i];
    permutation[i] = permutation[j];
    permutation[j] = swap;
  }
  return permutation;
}

/** Returns scores for items 1..n drawn from `levels` distinct values, so that ties are common. */
export function randomTiedScores(n: number, levels: number, random: SeededRandom): Float64Array {
  const scores = new Float64Array(n + 1); // [n + 1]
  scores[0] = 1e9; // padding scored highest, to check that it is never ranked
  for (let item = 1; item <= n; item += 1) {
    scores[item] = random.nextInt(levels) / levels;
  }
  return scores;
}

/** Runs `action` and checks that it throws exactly `type` with exactly `message`. */
export function expectThrows(action: () => unknown, type: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, message: string): void {
  let caught: unknown = undefined;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(type);
  expect((caught as Error).message).toBe(message);
}

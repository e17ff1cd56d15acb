import { SeededRandom } from './random';
import { requireFiniteSample, requirePositiveInteger, requireSameLength, requireSeed } from './validation';

/** Outcome of a paired significance test of a against b. */
export interface PairedTestResult {
  /** Mean of a − b over the pairs (float64). */
  meanDifference: number;
  /** Two-sided p-value, in (0, 1]. */
  pValue: number;
  /** Number of pairs (users). */
  n: number;
  /** Description of the test for result files, for example `sign-flip permutation test, exact (8 sign patterns)`. */
  method: string;
  /** Whether every sign pattern was enumerated (exact) or a random subset was drawn. */
  exact: boolean;
  /** Number of sign patterns evaluated: 2^n when exact, else the number of resamples. */
  resamples: number;
  /** Seed of the sign draws, recorded even when the test is exact and draws nothing. */
  seed: number;
}

/** Options of {@link pairedTest}. */
export interface PairedTestOptions {
  /** Unsigned 32-bit seed of the random sign patterns. Default value: 0. */
  seed?: number;
  /**
   * Number of random sign patterns. When 2^n is no larger (and n ≤ 20), all 2^n patterns
   * are enumerated instead and the test is exact. Default value: 10000. @minimum 1
   */
  resamples?: number;
}

/** Largest n for which the exact test enumerates all 2^n sign patterns. */
const MAX_EXACT_PAIRS = 20;

/**
 * Paired test: two-sided sign-flip permutation test of whether a and b have the same mean
 * over the same users.
 *
 * Under the null hypothesis each difference dᵢ = aᵢ − bᵢ is symmetric about 0, so flipping
 * its sign is as likely as keeping it. The statistic is |Σ dᵢ|, and the p-value is the share
 * of sign patterns s ∈ {−1, +1}ⁿ with |Σ sᵢ dᵢ| ≥ |Σ dᵢ|. When 2^n ≤ `resamples` every
 * pattern is enumerated (exact test). Otherwise B = `resamples` seeded random patterns are
 * drawn and p = (1 + count) / (B + 1), which counts the observed pattern so that p is never
 * 0. The test assumes no distribution for the differences, which suits bounded metrics
 * such as HR and NDCG. Sums that differ only by rounding count as equal, within
 * 2 · n · ε · Σ|dᵢ| where ε is the float64 machine epsilon.
 *
 * All differences zero gives p = 1.
 *
 * @param a per-user values of the method, finite, `[users]` with users ≥ 1.
 * @param b per-user values of the baseline (for example `full`), same users in the same
 *   order, `[users]`.
 * @param options see {@link PairedTestOptions}.
 * @throws TypeError when `a` or `b` is not an array or an entry or option is not a number.
 * @throws RangeError when `a` or `b` is empty, contains a non-finite value or the lengths
 *   differ, `resamples` is not a positive integer, or `seed` is not an unsigned 32-bit
 *   integer.
 * @example
 * // Differences 1, 2, 3: of the 8 sign patterns only + + + and − − − reach |sum| ≥ 6.
 * pairedTest([1, 2, 3], [0, 0, 0]).pValue; // 2 / 8 = 0.25
 */
export function pairedTest(a: ArrayLike<number>, b: ArrayLike<number>, options?: PairedTestOptions): PairedTestResult {
  const where = 'pairedTest';

  // Validate the arguments.
  const valuesA = requireFiniteSample(where, 'a', a); // [n]
  const valuesB = requireFiniteSample(where, 'b', b); // [n]
  requireSameLength(where, 'a', valuesA, 'b', valuesB);
  const resamples = options?.resamples ?? 10000;
  requirePositiveInteger(where, 'options.resamples', resamples);
  const seed = options?.seed ?? 0;
  requireSeed(where, 'options.seed', seed);

  // Differences, their observed sum and the rounding tolerance of a re-signed sum.
  const n = valuesA.length;
  const differences = new Float64Array(n); // [n]
  let observed = 0;
  let absoluteSum = 0;
  for (let i = 0; i < n; i += 1) {
    differences[i] = valuesA[i] - valuesB[i];
    observed += differences[i];
    absoluteSum += Math.abs(differences[i]);
  }
  const threshold = Math.abs(observed) - 2 * n * Number.EPSILON * absoluteSum;
  const meanDifference = observed / n;

  // Exact enumeration when all 2^n patterns fit in the resample budget.
  if (n <= MAX_EXACT_PAIRS && 2 ** n <= resamples) {
    const patterns = 2 ** n;
    const extreme = countExtremePatterns(differences, threshold);
    return {
      meanDifference,
      pValue: extreme / patterns,
      n,
      method: `sign-flip permutation test, exact (${patterns} sign patterns)`,
      exact: true,
      resamples: patterns,
      seed,
    };
  }

  // Monte Carlo: random sign patterns, 32 signs from each random word.
  const random = new SeededRandom(seed);
  let extreme = 0;
  for (let r = 0; r < resamples; r += 1) {
    let sum = 0;
    let bits = 0;
    for (let i = 0; i < n; i += 1) {
      if ((i & 31) === 0) {
        bits = random.nextUint32();
      }
      // Branch-free sign: bit 0 gives +1, bit 1 gives −1.
      sum += differences[i] * (1 - 2 * (bits & 1));
      bits >>>= 1;
    }
    if (Math.abs(sum) >= threshold) {
      extreme += 1;
    }
  }
  return {
    meanDifference,
    pValue: (1 + extreme) / (1 + resamples),
    n,
    method: `sign-flip permutation test, Monte Carlo (${resamples} random sign patterns, seed ${seed})`,
    exact: false,
    resamples,
    seed,
  };
}

/** Counts the sign patterns s ∈ {−1, +1}ⁿ with |Σ sᵢ dᵢ| ≥ threshold, n ≤ 20. */
function countExtremePatterns(differences: Float64Array, threshold: number): number {
  const n = differences.length;
  let extreme = 0;
  for (let pattern = 0; pattern < 2 ** n; pattern += 1) {
    let sum = 0;
    for (let i = 0; i < n; i += 1) {
      sum += (pattern >>> i) & 1 ? -differences[i] : differences[i];
    }
    if (Math.abs(sum) >= threshold) {
      extreme += 1;
    }
  }
  return extreme;
}

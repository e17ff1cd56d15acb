import { invalidArgument } from './messages';
import { nearestRank } from './latency';
import { SeededRandom } from './random';
import { requireFiniteSample, requirePositiveInteger, requireSeed } from './validation';

/** A confidence interval for a mean, with the settings that reproduce it. */
export interface ConfidenceInterval {
  /** Sample mean (float64). */
  mean: number;
  /** Lower and upper bounds of the interval. */
  low: number;
  high: number;
  /** Nominal coverage, for example 0.95. */
  confidence: number;
  /** Number of bootstrap resamples. */
  resamples: number;
  /** Seed of the resampling generator. */
  seed: number;
}

/** Options of {@link bootstrapMeanCI}. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples. Default value: 1000. @minimum 1 */
  resamples?: number;
  /** Nominal coverage, strictly between 0 and 1. Default value: 0.95. */
  confidence?: number;
  /** Unsigned 32-bit seed of the resampling. Default value: 0. */
  seed?: number;
}

/**
 * Confidence interval: percentile bootstrap interval of the mean of per-user values.
 *
 * Each of B resamples draws n values with replacement (seeded, so a seed reproduces the
 * interval exactly) and takes their float64 mean. With α = 1 − confidence and the B means
 * sorted as m(1) ≤ … ≤ m(B), the bounds are the order statistics low = m(j) and
 * high = m(B + 1 − j), where j = ⌈α/2 · B⌉ (at least 1). For B = 1000 and 95 % that is the
 * 25th smallest and the 25th largest resampled mean.
 *
 * @param values per-user metric values, finite, `[users]` with users ≥ 1. A single value
 *   gives the interval [value, value].
 * @param options see {@link BootstrapOptions}.
 * @throws TypeError when `values` is not an array or an entry or option is not a number.
 * @throws RangeError when `values` is empty or not finite, `resamples` is not a positive
 *   integer, `confidence` is outside (0, 1), or `seed` is not an unsigned 32-bit integer.
 * @example
 * const ci = bootstrapMeanCI(accumulator.values('ndcg@10'), { seed: 1 });
 * // { mean, low, high, confidence: 0.95, resamples: 1000, seed: 1 }
 */
export function bootstrapMeanCI(values: ArrayLike<number>, options?: BootstrapOptions): ConfidenceInterval {
  const where = 'bootstrapMeanCI';

  // Validate the arguments.
  const sample = requireFiniteSample(where, 'values', values); // [n]
  const resamples = options?.resamples ?? 1000;
  requirePositiveInteger(where, 'options.resamples', resamples);
  const confidence = options?.confidence ?? 0.95;
  if (typeof confidence !== 'number') {
    throw new TypeError(invalidArgument(where, 'options.confidence', 'a number strictly between 0 and 1', confidence));
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(invalidArgument(where, 'options.confidence', 'a number strictly between 0 and 1', confidence));
  }
  const seed = options?.seed ?? 0;
  requireSeed(where, 'options.seed', seed);

  // Sample mean.
  const n = sample.length;
  let total = 0;
  for (let i = 0; i < n; i += 1) {
    total += sample[i];
  }
  const mean = total / n;

  // Means of B resamples drawn with replacement.
  const random = new SeededRandom(seed);
  const indices = new Uint32Array(n); // [n], one resample's draws
  const means = new Float64Array(resamples); // [resamples]
  for (let b = 0; b < resamples; b += 1) {
    random.fillInts(indices, n);
    let sum = 0;
    for (let i = 0; i < n; i += 1) {
      sum += sample[indices[i]];
    }
    means[b] = sum / n;
  }

  // Symmetric order statistics of the sorted resampled means.
  means.sort();
  const j = nearestRank(resamples, (100 * (1 - confidence)) / 2);
  return { mean, low: means[j - 1], high: means[resamples - j], confidence, resamples, seed };
}

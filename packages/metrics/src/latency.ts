import { emptyInput, invalidArgument, noSteadyStateSamples } from './messages';
import { requireArrayLike, requireInteger } from './validation';

/** Latency statistics of one phase, in milliseconds. */
export interface LatencySummary {
  /** Number of steady-state samples (after warm-up) behind the statistics below. */
  count: number;
  /**
   * The very first sample, reported apart because it includes one-time costs such as
   * kernel compilation. `summarizeLatency` always sets it. The type allows `null` for a
   * summary of a phase that never ran.
   */
  firstMs: number | null;
  /** Mean of the steady-state samples. */
  meanMs: number;
  /** Nearest-rank percentiles of the steady-state samples. */
  p50: number;
  p95: number;
  p99: number;
  /** Largest steady-state sample. */
  maxMs: number;
}

/** Options of {@link summarizeLatency}. */
export interface LatencyOptions {
  /**
   * Number of leading samples left out of the statistics (warm-up calls).
   * Default value: 1 (the first call, which includes compilation).
   * @minimum 0
   */
  warmup?: number;
}

/**
 * Latency: summarises per-call timings after warm-up.
 *
 * The first `warmup` samples are left out, and the very first one is reported apart as
 * `firstMs` whatever `warmup` is. Percentiles use the nearest-rank method: the p-th
 * percentile of n sorted samples x(1) ≤ … ≤ x(n) is x(⌈p/100 · n⌉), the smallest sample
 * such that at least p % of the samples are at or below it. It is always an observed time,
 * and with 20 samples p95 = x(19) and p99 = x(20), the maximum. The mean is a float64 sum
 * divided by the count.
 *
 * @param samplesMs wall-clock times of successive calls in milliseconds, each measured
 *   until the call's output was available, `[calls]`.
 * @param options see {@link LatencyOptions}.
 * @throws TypeError when `samplesMs` is not an array or a sample is not a number.
 * @throws RangeError when a sample is negative or not finite, `warmup` is not a
 *   non-negative integer, or no sample remains after warm-up.
 * @example
 * summarizeLatency([120, 10, 12, 11, 13], { warmup: 1 });
 * // { count: 4, firstMs: 120, meanMs: 11.5, p50: 11, p95: 13, p99: 13, maxMs: 13 }
 */
export function summarizeLatency(samplesMs: ArrayLike<number>, options?: LatencyOptions): LatencySummary {
  const where = 'summarizeLatency';

  // Validate the arguments.
  requireArrayLike(where, 'samplesMs', samplesMs);
  for (let i = 0; i < samplesMs.length; i += 1) {
    requireDuration(where, `samplesMs[${i}]`, samplesMs[i]);
  }
  const warmup = options?.warmup ?? 1;
  requireInteger(where, 'options.warmup', warmup, 0, Number.MAX_SAFE_INTEGER);
  if (samplesMs.length <= warmup) {
    throw new RangeError(noSteadyStateSamples(where, samplesMs.length, warmup));
  }

  // Sort the steady-state samples.
  const steady = Float64Array.from({ length: samplesMs.length - warmup }, (_, i) => samplesMs[warmup + i]); // [count]
  steady.sort();

  // Mean in float64 and nearest-rank percentiles.
  let sum = 0;
  for (let i = 0; i < steady.length; i += 1) {
    sum += steady[i];
  }
  return {
    count: steady.length,
    firstMs: samplesMs[0],
    meanMs: sum / steady.length,
    p50: percentileOfSorted(steady, 50),
    p95: percentileOfSorted(steady, 95),
    p99: percentileOfSorted(steady, 99),
    maxMs: steady[steady.length - 1],
  };
}

/**
 * Computes the nearest-rank percentile of `values`: x(⌈p/100 · n⌉) of the sorted values,
 * and x(1) for p = 0.
 *
 * @param values numbers in any order, not NaN, `[n]` with n ≥ 1.
 * @param p percentile in [0, 100].
 * @throws TypeError when `values` is not an array or an entry or `p` is not a number.
 * @throws RangeError when `values` is empty or contains NaN, or `p` is outside [0, 100].
 * @example
 * percentile([15, 20, 35, 40, 50], 40); // 20, because ⌈0.4 · 5⌉ = 2
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  const where = 'percentile';
  requireArrayLike(where, 'values', values);
  if (values.length === 0) {
    throw new RangeError(emptyInput(where, 'values', 'pass at least one value'));
  }
  const sorted = new Float64Array(values.length); // [n]
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (typeof value !== 'number') {
      throw new TypeError(invalidArgument(where, `values[${i}]`, 'a number', value));
    }
    if (Number.isNaN(value)) {
      throw new RangeError(invalidArgument(where, `values[${i}]`, 'a number (not NaN)', value));
    }
    sorted[i] = value;
  }
  if (typeof p !== 'number') {
    throw new TypeError(invalidArgument(where, 'p', 'a percentile in [0, 100]', p));
  }
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(invalidArgument(where, 'p', 'a percentile in [0, 100]', p));
  }
  sorted.sort();
  return percentileOfSorted(sorted, p);
}

/** Returns the nearest-rank percentile of values sorted in increasing order, `[n]` with n ≥ 1. */
export function percentileOfSorted(sorted: Float64Array, p: number): number {
  return sorted[nearestRank(sorted.length, p) - 1];
}

/** Returns the 1-based nearest rank ⌈p/100 · n⌉ of the p-th percentile of n ≥ 1 values, clamped to [1, n]. */
export function nearestRank(n: number, p: number): number {
  // p · n / 100 can land a rounding error above an integer (2.2 · 1500 / 100 gives
  // 33.00000000000001), and ⌈·⌉ would then skip a rank, so a position within 1e-9 of an
  // integer counts as that integer.
  const position = (p * n) / 100;
  const nearest = Math.round(position);
  const rank = Math.abs(position - nearest) <= 1e-9 * Math.max(1, position) ? nearest : Math.ceil(position);
  return Math.min(Math.max(rank, 1), n);
}

/** Checks that `value` is a finite, non-negative duration. */
function requireDuration(where: string, argument: string, value: unknown): void {
  if (typeof value !== 'number') {
    throw new TypeError(invalidArgument(where, argument, 'a duration in milliseconds (a number)', value));
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(invalidArgument(where, argument, 'a finite, non-negative duration in milliseconds', value));
  }
}

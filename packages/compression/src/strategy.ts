import type { KVCache } from './kv-cache';
import type { Logger } from './logger';

/**
 * Attention statistics that the model records while prefilling a history, for strategies
 * that score tokens by the attention they receive. One entry per layer.
 *
 * For softmax attention (SASRec) the weights are the softmax probabilities. For HSTU's
 * point-wise attention the weights are |SiLU(q·k + rab)| / N, because its raw weights can be
 * negative and are never renormalised.
 */
export interface AttentionStats {
  /** Per layer, attention received by each cached key summed over all history queries, `[kvHeads, len]`. */
  readonly accumulated: readonly Float32Array[];
  /** Per layer, attention of the last `windowSize` queries onto every cached key, `[kvHeads, windowSize, len]`. */
  readonly window: readonly Float32Array[];
  /** Number of queries in the observation window (min(requested window, len)). */
  readonly windowSize: number;
}

/** Inputs of a strategy besides the cache. It never gets the request, the target or the candidates. */
export interface CompressionContext {
  /** Statistics from prefill; `null` when the caller did not record them. */
  readonly stats: AttentionStats | null;
  readonly logger: Logger;
}

/** Parameter values of a strategy as recorded in results. */
export type StrategyParams = Readonly<Record<string, number | string | boolean>>;

/**
 * A training-free KV-cache compression method, applied to one user's cache after prefill
 * (one-shot protocol) or after every chunk (streaming protocol). Implementations return a
 * new cache and never mutate the input.
 */
export interface CompressionStrategy {
  /** Registry id, for example `window` or `streaming-llm`. */
  readonly id: string;
  /** Resolved parameters, recorded beside each result. */
  readonly params: StrategyParams;
  compress(cache: KVCache, context: CompressionContext): KVCache;
  /**
   * Fits state shared by all users (such as a low-rank basis) on the caches of calibration
   * users, before the first `compress`. Only methods whose `MethodInfo.calibration` is true
   * implement it. Calling it again replaces the previous state.
   *
   * @param caches - full float32 caches of the calibration users, all of one model.
   * @returns the number of calibration caches and the bytes of the shared state.
   */
  calibrate?(caches: readonly KVCache[], context: CompressionContext): CalibrationSummary;
}

/** Result of a calibration, recorded once per run and never charged to a user's cache. */
export interface CalibrationSummary {
  /** Number of calibration caches used. */
  readonly users: number;
  /** Bytes of the state shared by all users (stored once, not per user). */
  readonly sharedBytes: number;
}

/** Returns whether a strategy must be calibrated on training caches before it compresses. */
export function needsCalibration(strategy: CompressionStrategy): strategy is CompressionStrategy & Required<Pick<CompressionStrategy, 'calibrate'>> {
  return typeof strategy.calibrate === 'function';
}

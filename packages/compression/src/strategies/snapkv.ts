import type { KVCache } from '../kv-cache';
import { invalidArgument, formatValue, shortObservationWindowWarning, windowExceedsBudgetWarning } from '../messages';
import type { CompressionContext, StrategyParams } from '../strategy';
import { checkInteger, checkOneOf } from '../validation';
import { readWindowAttention, requireStats } from './attention-stats';
import { layerLengths, protectTokens, ScoreBasedStrategy } from './score-based-strategy';

/** Pooling of SnapKV's vote along positions. */
export type SnapKVPooling = 'avg' | 'max';

/** Accepted values of {@link SnapKVPooling}. */
export const SNAPKV_POOLINGS: readonly SnapKVPooling[] = ['avg', 'max'];

/** Options of {@link SnapKVStrategy}. */
export interface SnapKVOptions {
  /**
   * Fraction of the history's tokens removed; voted tokens and the window together keep
   * `max(1, ⌊len · (1 − r)⌋)`.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
  /**
   * Observation window: the number of newest history tokens whose queries vote. The model
   * must record at least this many window queries at prefill (`AttentionStats.windowSize`).
   * @defaultValue 16
   * @minimum 1
   */
  window?: number;
  /**
   * Width of the pooling along positions, an odd integer.
   * @defaultValue 5
   * @minimum 1
   */
  kernelSize?: number;
  /**
   * Pooling of the votes along positions: `avg` (zero padding counted, as PyTorch's
   * `avg_pool1d` does by default) or `max`.
   * @defaultValue "avg"
   */
  pooling?: SnapKVPooling;
}

/** Resolved settings shared by SnapKV and PyramidKV. */
export interface ObservationWindowSettings {
  readonly window: number;
  readonly kernelSize: number;
  readonly pooling: SnapKVPooling;
}

/**
 * SnapKV: keeps the tokens that the queries of an observation window (the newest tokens)
 * attend to most, after pooling the votes along positions, plus the window itself.
 *
 * The attention pattern of the last few queries already shows which earlier tokens the
 * next query will read. SnapKV sums the window queries' attention onto each earlier key and
 * smooths the sums with a pooling of width `kernelSize`, so that neighbours of an important
 * token survive with it. It keeps the top-scored keys of each KV head. The window tokens are
 * always kept, the newest first when the budget cannot fit them all.
 *
 * Deviation from paper: the reference implementation kept in the PyramidKV repository
 * defaults to a window of 64 queries with average pooling of width 5, sized for prompts of
 * thousands of tokens. Recommendation histories here contain at most a few hundred items,
 * so the default window is 16 (the models' default observation window). The kept count
 * includes the window, as in kvpress, rather than a capacity added on top of it.
 *
 * Limitations: when the budget is smaller than the window, only the newest `budget` window
 * tokens are kept (a sliding window); a warning is logged once per instance. When the
 * statistics hold fewer window queries than `window`, the available ones vote and a warning
 * is logged once.
 *
 * @see Li, Huang, Yang, Venkitesh, Locatelli, Ye, Cai, Lewis, Chen, "SnapKV: LLM Knows What
 * You Are Looking for Before Generation", NeurIPS 2024, arXiv 2404.14469.
 * @param options - {@link SnapKVOptions}; `window` defaults to 16, `kernelSize` to 5,
 * `pooling` to `avg`.
 * @throws RangeError when the ratio is outside [0, 1), `window` is not an integer ≥ 1,
 * `kernelSize` is not an odd integer ≥ 1, or `pooling` is a string other than `avg` and `max`.
 * @throws TypeError when a setting has the wrong type, and from `compress` when the context
 * has no attention statistics.
 * @example
 * const snapkv = new SnapKVStrategy({ compressionRatio: 0.75, window: 8 });
 * const compressed = snapkv.compress(cache, { stats, logger: silentLogger });
 */
export class SnapKVStrategy extends ScoreBasedStrategy {
  readonly id = 'snapkv';
  /** Observation window, pooling width and pooling kind. */
  readonly settings: ObservationWindowSettings;
  private readonly warnings = new Set<string>();

  constructor(options: SnapKVOptions) {
    super(options.compressionRatio);
    this.settings = resolveObservationWindow('SnapKVStrategy', options);
  }

  override get params(): StrategyParams {
    return { compressionRatio: this.compressionRatio, ...this.settings };
  }

  /** Scores earlier tokens by the pooled votes of the window queries and raises the window tokens above them. */
  score(cache: KVCache, context: CompressionContext, budgets: readonly number[]): Float32Array[] {
    return scoreWithObservationWindow(`${this.constructor.name}.score`, this.id, cache, context, budgets, this.settings, this.warnings);
  }
}

/**
 * Validates and fills in the defaults of SnapKV's observation-window settings.
 *
 * @throws RangeError when `window` or `kernelSize` is out of range, or `pooling` is a string
 * other than `avg` and `max`.
 * @throws TypeError when a setting has the wrong type.
 */
export function resolveObservationWindow(where: string, options: { window?: number; kernelSize?: number; pooling?: SnapKVPooling }): ObservationWindowSettings {
  const window = checkInteger(where, 'window', options.window ?? 16, 1);
  const kernelSize = checkInteger(where, 'kernelSize', options.kernelSize ?? 5, 1);
  if (kernelSize % 2 === 0) {
    throw new RangeError(invalidArgument(where, 'kernelSize', 'an odd integer ≥ 1, so that the pooled scores keep their length', formatValue(kernelSize)));
  }
  const pooling = checkOneOf(where, 'pooling', options.pooling ?? 'avg', SNAPKV_POOLINGS);
  return { window, kernelSize, pooling };
}

/**
 * Computes SnapKV scores for every layer: pooled window votes for earlier tokens and raised
 * scores for the window tokens, newest first. Shared by SnapKV and PyramidKV.
 *
 * @param warnings - keys of the warnings already logged by the calling instance; updated.
 * @returns per layer `[kvHeads, len]` row-major.
 */
export function scoreWithObservationWindow(
  where: string,
  id: string,
  cache: KVCache,
  context: CompressionContext,
  budgets: readonly number[],
  settings: ObservationWindowSettings,
  warnings: Set<string>,
): Float32Array[] {
  const stats = requireStats(where, context, 'the observation window attention (stats.window)');
  const lengths = layerLengths(where, cache);

  // Warn once when the statistics hold fewer window queries than requested.
  if (stats.windowSize < settings.window && !warnings.has('short-window') && lengths.some((len) => len > stats.windowSize)) {
    warnings.add('short-window');
    context.logger.warn(shortObservationWindowWarning(id, settings.window, stats.windowSize));
  }

  return cache.layers.map((layer, l) => {
    const len = lengths[l];
    const kvHeads = layer.heads.length;
    const attention = readWindowAttention(where, stats, l, kvHeads, len); // [kvHeads, windowSize, len]
    const windowSize = stats.windowSize;
    const window = Math.min(settings.window, windowSize, len);
    const prefix = len - window;

    // Warn once when the budget cannot hold the whole window.
    if (budgets[l] < window && !warnings.has('window-over-budget')) {
      warnings.add('window-over-budget');
      context.logger.warn(windowExceedsBudgetWarning(id, window, budgets[l]));
    }

    const scores = new Float32Array(kvHeads * len); // [kvHeads, len]
    const windowPriority = Array.from({ length: window }, (_, i) => len - 1 - i);
    for (let h = 0; h < kvHeads; h++) {
      // Sum the votes of the last `window` queries onto the earlier keys.
      const votes = new Float64Array(prefix); // [len - window]
      for (let q = windowSize - window; q < windowSize; q++) {
        const rowStart = (h * windowSize + q) * len;
        for (let i = 0; i < prefix; i++) {
          votes[i] += attention[rowStart + i];
        }
      }

      // Pool along positions, then raise the window tokens.
      const row = scores.subarray(h * len, (h + 1) * len); // [len]
      row.set(poolAlongPositions(votes, settings.kernelSize, settings.pooling));
      protectTokens(row, windowPriority);
    }
    return scores;
  });
}

/**
 * Pools a row of scores along positions with stride 1 and padding `⌊kernelSize / 2⌋` on
 * both sides, so that the output has the input's length. `avg` divides every window by
 * `kernelSize`, counting the zero padding (PyTorch's `avg_pool1d` default); `max` ignores
 * the padding.
 *
 * @param scores - `[len]`.
 * @param kernelSize - an odd integer ≥ 1.
 * @returns `[len]` pooled scores.
 * @example
 * poolAlongPositions([0, 3, 0, 0], 3, 'avg'); // [1, 1, 1, 0]
 * poolAlongPositions([0, 3, 0, 0], 3, 'max'); // [3, 3, 3, 0]
 */
export function poolAlongPositions(scores: ArrayLike<number>, kernelSize: number, pooling: SnapKVPooling): Float64Array {
  const len = scores.length;
  const half = Math.floor(kernelSize / 2);
  const pooled = new Float64Array(len); // [len]
  for (let i = 0; i < len; i++) {
    const start = Math.max(0, i - half);
    const end = Math.min(len - 1, i + half);
    if (pooling === 'avg') {
      let sum = 0;
      for (let j = start; j <= end; j++) {
        sum += scores[j];
      }
      pooled[i] = sum / kernelSize;
    } else {
      let max = -Infinity;
      for (let j = start; j <= end; j++) {
        max = Math.max(max, scores[j]);
      }
      pooled[i] = max;
    }
  }
  return pooled;
}

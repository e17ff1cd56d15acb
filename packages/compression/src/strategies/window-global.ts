import type { KVCache } from '../kv-cache';
import type { CompressionContext, StrategyParams } from '../strategy';
import { checkInteger } from '../validation';
import { readAccumulatedAttention, requireStats } from './attention-stats';
import { layerLengths, protectTokens, ScoreBasedStrategy } from './score-based-strategy';

/** Options of {@link WindowGlobalStrategy}. */
export interface WindowGlobalOptions {
  /**
   * Fraction of the history's tokens removed; each layer keeps `max(1, ⌊len · (1 − r)⌋)` tokens per head.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
  /**
   * Global tokens per head, chosen by accumulated attention; the rest of the budget is the recent window.
   * @defaultValue 4
   * @minimum 0
   */
  globalTokens?: number;
}

/**
 * Window + global: keeps a recent window plus a few global tokens that received the most
 * accumulated attention.
 *
 * Longformer combines a sliding window, which covers local context, with a few global
 * tokens that every query attends to. Here the global tokens of each head are the older
 * tokens that received the most attention summed over all queries, with ties to the lower
 * index. The window contains the newest `budget − min(globalTokens, budget)` tokens. With `globalTokens = 0` the method is a
 * sliding window. It differs from H2O, which splits the budget by a fraction, in fixing the
 * number of global tokens whatever the budget, as Longformer fixes its global positions.
 *
 * Deviation from paper: Longformer chooses global positions by task ([CLS], question
 * tokens) and gives them symmetric global attention in a trained model. Here the global
 * tokens are chosen after the fact by accumulated attention, and the model is not retrained.
 *
 * @see Beltagy, Peters, Cohan, "Longformer: The Long-Document Transformer", arXiv
 * 2004.05150, 2020.
 * @param options - {@link WindowGlobalOptions}; `compressionRatio` is required and
 * `globalTokens` defaults to 4.
 * @throws RangeError when the ratio is outside [0, 1) or `globalTokens` is not an integer ≥ 0.
 * @throws TypeError from `compress` when `context.stats` is null.
 * @example
 * const windowGlobal = new WindowGlobalStrategy({ compressionRatio: 0.75, globalTokens: 4 });
 * const compressed = windowGlobal.compress(cache, { stats, logger: silentLogger });
 */
export class WindowGlobalStrategy extends ScoreBasedStrategy {
  readonly id = 'window-global';
  /** Global tokens per head. */
  readonly globalTokens: number;

  constructor(options: WindowGlobalOptions) {
    super(options.compressionRatio);
    this.globalTokens = checkInteger('WindowGlobalStrategy', 'globalTokens', options.globalTokens ?? 4, 0);
  }

  override get params(): StrategyParams {
    return { compressionRatio: this.compressionRatio, globalTokens: this.globalTokens };
  }

  /** Scores each token by its accumulated attention and raises the recent window above all others. */
  score(cache: KVCache, context: CompressionContext, budgets: readonly number[]): Float32Array[] {
    const where = 'WindowGlobalStrategy.score';
    const stats = requireStats(where, context, 'accumulated attention (stats.accumulated)');
    const lengths = layerLengths(where, cache);
    return cache.layers.map((layer, l) => {
      const len = lengths[l];
      const kvHeads = layer.heads.length;

      // Global scores: attention received, summed over queries.
      const scores = readAccumulatedAttention(where, stats, l, kvHeads, len).slice(); // [kvHeads, len]

      // Recent window: the newest budget − min(globalTokens, budget) tokens, newest first.
      const window = Math.max(0, budgets[l] - Math.min(this.globalTokens, budgets[l]));
      const recentPriority = Array.from({ length: Math.min(window, len) }, (_, i) => len - 1 - i);
      for (let h = 0; h < kvHeads; h++) {
        protectTokens(scores.subarray(h * len, (h + 1) * len), recentPriority);
      }
      return scores;
    });
  }
}

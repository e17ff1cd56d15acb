import { fractionOfTokens } from '../budget';
import type { KVCache } from '../kv-cache';
import type { CompressionContext, StrategyParams } from '../strategy';
import { checkNumber } from '../validation';
import { readAccumulatedAttention, requireStats } from './attention-stats';
import { layerLengths, protectTokens, ScoreBasedStrategy } from './score-based-strategy';

/** Options of {@link H2OStrategy}. */
export interface H2OOptions {
  /**
   * Fraction of the history's tokens removed; heavy hitters and recent tokens together keep
   * `max(1, ⌊len · (1 − r)⌋)`.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
  /**
   * Fraction of the kept budget reserved for the most recent tokens, `⌊budget · f⌋` (may be 0);
   * the rest goes to the heavy hitters.
   * @defaultValue 0.5
   * @minimum 0
   * @maximum 1
   */
  recentFraction?: number;
}

/**
 * H2O: keeps the tokens that received the most attention in total (heavy hitters) plus a
 * window of the most recent tokens.
 *
 * A small set of tokens collects most of the attention mass over a whole sequence, so
 * keeping them together with the newest tokens preserves most of what later queries read. The score
 * is the attention each key received summed over all history queries, recorded by the model
 * at prefill, per KV head.
 *
 * Deviation from paper: H2O evicts greedily, one token per decoding step, with the
 * accumulated attention of the tokens generated so far. Here the whole history is prefilled
 * first and pruned once (or once per chunk in the streaming protocol) with the attention
 * accumulated over the history, as kvpress does for its prefill presses. The split between
 * heavy and recent tokens is a fraction of the kept budget; the paper's experiments use an
 * equal split, hence the default 0.5.
 *
 * Limitations: under causal attention an early key is seen by more queries than a late one,
 * so the accumulated score favours old tokens; the recent window compensates for that, as
 * in the paper.
 *
 * @see Zhang, Sheng, Zhou, Chen, Zheng, Cai, Song, Tian, Ré, Barrett, Wang, Chen, "H2O:
 * Heavy-Hitter Oracle for Efficient Generative Inference of Large Language Models",
 * NeurIPS 2023, arXiv 2306.14048.
 * @param options - {@link H2OOptions}; `recentFraction` defaults to 0.5.
 * @throws RangeError when the ratio is outside [0, 1) or `recentFraction` outside [0, 1].
 * @throws TypeError from `compress` when the context has no attention statistics.
 * @example
 * const h2o = new H2OStrategy({ compressionRatio: 0.8, recentFraction: 0.5 });
 * const compressed = h2o.compress(cache, { stats, logger: silentLogger });
 */
export class H2OStrategy extends ScoreBasedStrategy {
  readonly id = 'h2o';
  /** Fraction of the kept budget reserved for the most recent tokens. */
  readonly recentFraction: number;

  constructor(options: H2OOptions) {
    super(options.compressionRatio);
    this.recentFraction = checkNumber('H2OStrategy', 'recentFraction', options.recentFraction ?? 0.5, 0, 1);
  }

  override get params(): StrategyParams {
    return { compressionRatio: this.compressionRatio, recentFraction: this.recentFraction };
  }

  /** Scores each token by its accumulated attention and raises the recent window above all others. */
  score(cache: KVCache, context: CompressionContext, budgets: readonly number[]): Float32Array[] {
    const where = 'H2OStrategy.score';
    const stats = requireStats(where, context, 'accumulated attention (stats.accumulated)');
    const lengths = layerLengths(where, cache);
    return cache.layers.map((layer, l) => {
      const len = lengths[l];
      const kvHeads = layer.heads.length;

      // Heavy-hitter scores: attention received, summed over queries.
      const scores = readAccumulatedAttention(where, stats, l, kvHeads, len).slice(); // [kvHeads, len]

      // Recent window: the newest ⌊budget · f⌋ tokens, newest first.
      const recent = fractionOfTokens(budgets[l], this.recentFraction);
      const recentPriority = Array.from({ length: recent }, (_, i) => len - 1 - i);
      for (let h = 0; h < kvHeads; h++) {
        protectTokens(scores.subarray(h * len, (h + 1) * len), recentPriority);
      }
      return scores;
    });
  }
}

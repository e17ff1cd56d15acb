import type { KVCache } from '../kv-cache';
import { sinksExceedBudgetWarning } from '../messages';
import type { CompressionContext, StrategyParams } from '../strategy';
import { checkInteger } from '../validation';
import { layerLengths, protectTokens, ScoreBasedStrategy } from './score-based-strategy';

/** Options of {@link StreamingLLMStrategy}. */
export interface StreamingLLMOptions {
  /**
   * Fraction of the history's tokens removed; sinks and recent tokens together keep
   * `max(1, ⌊len · (1 − r)⌋)`.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
  /**
   * Number of attention-sink tokens: the oldest cached tokens, kept whatever their scores.
   * @defaultValue 4
   * @minimum 0
   */
  sinks?: number;
}

/**
 * StreamingLLM: keeps the first `sinks` tokens of the history (attention sinks) plus the
 * most recent tokens.
 *
 * Softmax attention parks surplus probability mass on the first tokens of a sequence, so
 * evicting them destabilises the attention of every later query. Keeping those few "sink"
 * tokens beside a sliding window of recent tokens preserves that behaviour at a fixed cache
 * size. Sinks are the oldest cached rows: the model strips padding before caching, so they
 * are always real history items, never padding. Kept sinks and recent tokens are two
 * separate runs, so the cache stores explicit int32 positions (4 bytes per kept token),
 * except when the kept tokens happen to be contiguous.
 *
 * Deviation from paper: the paper fixes the sink count and fills the rest of a fixed cache
 * size with the rolling window. Here the total is set by `compressionRatio`. When the budget
 * is smaller than `sinks`, the first `budget` sinks are kept and no recent token is, so the
 * rule "sinks first" holds at every budget. A warning is logged once per instance.
 *
 * Limitations: with a budget at or below `sinks` the newest item, usually the strongest
 * signal in recommendation, is dropped; prefer `sinks` well below the budget.
 *
 * @see Xiao, Tian, Chen, Han, Lewis, "Efficient Streaming Language Models with Attention
 * Sinks", ICLR 2024, arXiv 2309.17453.
 * @param options - {@link StreamingLLMOptions}; `sinks` defaults to 4.
 * @throws RangeError when the ratio is outside [0, 1) or `sinks` is not an integer ≥ 0.
 * @example
 * // History items 1..6, sinks = 2, budget 4: keeps positions 0, 1, 4, 5.
 * const strategy = new StreamingLLMStrategy({ compressionRatio: 0.3, sinks: 2 });
 */
export class StreamingLLMStrategy extends ScoreBasedStrategy {
  readonly id = 'streaming-llm';
  /** Number of attention-sink tokens. */
  readonly sinks: number;
  private warned = false;

  constructor(options: StreamingLLMOptions) {
    super(options.compressionRatio);
    this.sinks = checkInteger('StreamingLLMStrategy', 'sinks', options.sinks ?? 4, 0);
  }

  override get params(): StrategyParams {
    return { compressionRatio: this.compressionRatio, sinks: this.sinks };
  }

  /** Scores recent tokens by row index and raises the sinks above all of them, oldest sink first. */
  score(cache: KVCache, context: CompressionContext, budgets: readonly number[]): Float32Array[] {
    const lengths = layerLengths('StreamingLLMStrategy.score', cache);
    return cache.layers.map((layer, l) => {
      const len = lengths[l];
      const sinkCount = Math.min(this.sinks, len);

      // Warn once when the budget cannot hold every sink.
      if (budgets[l] < sinkCount && !this.warned) {
        this.warned = true;
        context.logger.warn(sinksExceedBudgetWarning(this.id, this.sinks, budgets[l]));
      }

      // Recent tokens rank by recency; sinks rank above them, the oldest first.
      const sinkPriority = Array.from({ length: sinkCount }, (_, i) => i);
      const scores = new Float32Array(layer.heads.length * len); // [kvHeads, len]
      for (let h = 0; h < layer.heads.length; h++) {
        const row = scores.subarray(h * len, (h + 1) * len); // [len]
        for (let i = 0; i < len; i++) {
          row[i] = i;
        }
        protectTokens(row, sinkPriority);
      }
      return scores;
    });
  }
}

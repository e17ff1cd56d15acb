import type { KVCache } from '../kv-cache';
import type { CompressionContext } from '../strategy';
import { readWindowAttention, requireStats } from './attention-stats';
import { layerLengths, protectTokens, ScoreBasedStrategy } from './score-based-strategy';

/** Options of {@link TOVAStrategy}. */
export interface TOVAOptions {
  /**
   * Fraction of the history's tokens removed.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
}

/**
 * TOVA: keeps the tokens that the last query attends to most.
 *
 * Viewed as a multi-state RNN, a transformer's cache is its state, and the current query's
 * attention shows which state entries it still reads. TOVA keeps those with the highest
 * attention from the newest token, averaged over heads so that every head of a layer keeps
 * the same tokens. The attention of the last query is the last row of the observation
 * window that the model records at prefill.
 *
 * Deviation from paper: TOVA evicts one token per decoding step; here the history is pruned
 * once at its end (or once per chunk when streaming). The newest token is always kept, as
 * kvpress's `TOVAPress` does: it is the query itself, the most recent interaction.
 *
 * @see Oren, Hassid, Yarden, Adi, Schwartz, "Transformers are Multi-State RNNs", EMNLP 2024,
 * arXiv 2401.06104.
 * @param options - {@link TOVAOptions}; `compressionRatio` is required.
 * @throws RangeError when the ratio is outside [0, 1).
 * @throws TypeError from `compress` when the context has no attention statistics.
 * @example
 * const tova = new TOVAStrategy({ compressionRatio: 0.5 });
 */
export class TOVAStrategy extends ScoreBasedStrategy {
  readonly id = 'tova';

  constructor(options: TOVAOptions) {
    super(options.compressionRatio);
  }

  /** Scores each token by the last query's attention averaged over KV heads; the newest token ranks first. */
  score(cache: KVCache, context: CompressionContext): Float32Array[] {
    const where = 'TOVAStrategy.score';
    const stats = requireStats(where, context, 'the observation window attention (stats.window)');
    const lengths = layerLengths(where, cache);
    return cache.layers.map((layer, l) => {
      const len = lengths[l];
      const kvHeads = layer.heads.length;
      const window = readWindowAttention(where, stats, l, kvHeads, len); // [kvHeads, windowSize, len]
      const windowSize = stats.windowSize;

      // Average the last query's row over heads.
      const mean = new Float64Array(len); // [len]
      for (let h = 0; h < kvHeads; h++) {
        const rowStart = (h * windowSize + windowSize - 1) * len;
        for (let i = 0; i < len; i++) {
          mean[i] += window[rowStart + i] / kvHeads;
        }
      }

      // Every head gets the same scores, with the newest token protected.
      const scores = new Float32Array(kvHeads * len); // [kvHeads, len]
      for (let h = 0; h < kvHeads; h++) {
        const row = scores.subarray(h * len, (h + 1) * len); // [len]
        row.set(mean);
        protectTokens(row, len > 0 ? [len - 1] : []);
      }
      return scores;
    });
  }
}

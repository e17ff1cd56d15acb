import type { KVCache } from '../kv-cache';
import { layerLengths, ScoreBasedStrategy } from './score-based-strategy';

/** Options of {@link WindowStrategy}. */
export interface WindowOptions {
  /**
   * Fraction of the history's tokens removed; the window keeps `max(1, ⌊len · (1 − r)⌋)`.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
}

/**
 * Sliding window: keeps the most recent tokens.
 *
 * Recent behaviour predicts the next item best in most sequential recommenders, so a window
 * over the newest interactions is the simplest eviction policy and the floor that any
 * smarter method should beat. The kept tokens form one contiguous run, so their positions
 * stay implicit and cost 0 bytes.
 *
 * @see Beltagy, Peters, Cohan, "Longformer: The Long-Document Transformer", arXiv
 * 2004.05150, 2020 (sliding-window attention); used as the window-attention baseline in
 * Xiao et al., "Efficient Streaming Language Models with Attention Sinks", ICLR 2024,
 * arXiv 2309.17453.
 * @param options - {@link WindowOptions}; `compressionRatio` is required.
 * @throws RangeError when the ratio is outside [0, 1).
 * @example
 * const window = new WindowStrategy({ compressionRatio: 0.75 });
 * const compressed = window.compress(cache, { stats: null, logger: silentLogger });
 */
export class WindowStrategy extends ScoreBasedStrategy {
  readonly id = 'window';

  constructor(options: WindowOptions) {
    super(options.compressionRatio);
  }

  /** Scores each token by its row index, so that the newest rows rank highest. */
  score(cache: KVCache): Float32Array[] {
    const lengths = layerLengths('WindowStrategy.score', cache);
    return cache.layers.map((layer, l) => {
      const len = lengths[l];
      const scores = new Float32Array(layer.heads.length * len); // [kvHeads, len]
      for (let h = 0; h < layer.heads.length; h++) {
        for (let i = 0; i < len; i++) {
          scores[h * len + i] = i;
        }
      }
      return scores;
    });
  }
}

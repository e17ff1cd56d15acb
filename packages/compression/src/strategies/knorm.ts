import type { KVCache } from '../kv-cache';
import { layerLengths, ScoreBasedStrategy } from './score-based-strategy';

/** Options of {@link KnormStrategy}. */
export interface KnormOptions {
  /**
   * Fraction of the history's tokens removed.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
}

/**
 * Knorm: keeps the tokens whose keys have the smallest L2 norm.
 *
 * In trained language models a low key norm correlates with high attention received, so
 * the norm predicts importance without computing attention at all. The method needs only
 * the cached keys. Whether the same correlation holds in a recommender's attention is what
 * this benchmark measures.
 *
 * @see Devoto, Zhao, Scardapane, Minervini, "A Simple and Effective L2 Norm-Based Strategy
 * for KV Cache Compression", EMNLP 2024, arXiv 2406.11430.
 * @param options - {@link KnormOptions}; `compressionRatio` is required.
 * @throws RangeError when the ratio is outside [0, 1).
 * @example
 * const knorm = new KnormStrategy({ compressionRatio: 0.5 });
 */
export class KnormStrategy extends ScoreBasedStrategy {
  readonly id = 'knorm';

  constructor(options: KnormOptions) {
    super(options.compressionRatio);
  }

  /** Scores each token by minus the L2 norm of its key, computed in float64. */
  score(cache: KVCache): Float32Array[] {
    const lengths = layerLengths('KnormStrategy.score', cache);
    return cache.layers.map((layer, l) => {
      const len = lengths[l];
      const scores = new Float32Array(layer.heads.length * len); // [kvHeads, len]
      layer.heads.forEach((head, h) => {
        const keys = head.keys.decode(); // [len, dKey] row-major
        const dKey = head.keys.cols;
        for (let i = 0; i < len; i++) {
          let sumOfSquares = 0;
          for (let c = 0; c < dKey; c++) {
            sumOfSquares += keys[i * dKey + c] ** 2;
          }
          scores[h * len + i] = -Math.sqrt(sumOfSquares);
        }
      });
      return scores;
    });
  }
}

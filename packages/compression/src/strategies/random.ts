import type { KVCache } from '../kv-cache';
import { createSeededRandom } from '../prng';
import type { StrategyParams } from '../strategy';
import { checkInteger } from '../validation';
import { layerLengths, ScoreBasedStrategy } from './score-based-strategy';

/** Options of {@link RandomStrategy}. */
export interface RandomOptions {
  /**
   * Fraction of the history's tokens removed.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
  /**
   * Seed of the pseudo-random generator; recorded in the results.
   * @defaultValue 0
   * @minimum 0
   * @maximum 4294967295
   */
  seed?: number;
}

/**
 * Random: keeps a uniformly random subset of tokens per head.
 *
 * Random eviction ignores content and recency, so any method that reads attention, norms or
 * positions must beat it to show that its signal carries information. Each call draws fresh
 * scores from a generator seeded with `seed`, layer by layer and head by head, so the same
 * seed and the same cache shape always keep the same tokens.
 *
 * @see NVIDIA kvpress, `RandomPress` (github.com/NVIDIA/kvpress), the random baseline of
 * Devoto, Jeblick, Jégou, "Expected Attention: KV Cache Compression by Estimating Attention
 * from Future Queries Distribution", arXiv 2510.00636, 2025.
 * @param options - {@link RandomOptions}; `seed` defaults to 0.
 * @throws RangeError when the ratio is outside [0, 1) or the seed is not an integer in [0, 2^32 − 1].
 * @example
 * const random = new RandomStrategy({ compressionRatio: 0.5, seed: 7 });
 */
export class RandomStrategy extends ScoreBasedStrategy {
  readonly id = 'random';
  /** Seed of the pseudo-random generator. */
  readonly seed: number;

  constructor(options: RandomOptions) {
    super(options.compressionRatio);
    this.seed = checkInteger('RandomStrategy', 'seed', options.seed ?? 0, 0, 0xffffffff);
  }

  override get params(): StrategyParams {
    return { compressionRatio: this.compressionRatio, seed: this.seed };
  }

  /** Draws one uniform score in [0, 1) per token from a generator seeded afresh on each call. */
  score(cache: KVCache): Float32Array[] {
    const lengths = layerLengths('RandomStrategy.score', cache);
    const random = createSeededRandom(this.seed);
    return cache.layers.map((layer, l) => {
      const scores = new Float32Array(layer.heads.length * lengths[l]); // [kvHeads, len]
      for (let i = 0; i < scores.length; i++) {
        scores[i] = random();
      }
      return scores;
    });
  }
}

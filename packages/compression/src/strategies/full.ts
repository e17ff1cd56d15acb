import type { KVCache } from '../kv-cache';
import type { CompressionContext, CompressionStrategy, StrategyParams } from '../strategy';

/** Options of {@link FullStrategy}: none. */
export type FullOptions = Record<string, never>;

/**
 * Full: keeps every token at full precision (the reference row of every comparison).
 *
 * The uncompressed cache is the baseline that each method's accuracy and bytes are compared
 * against. Its bytes are counted by the same rule as every other cache: keys and values in
 * float32 and no position buffer, because the tokens are contiguous.
 *
 * @see Vaswani et al., "Attention Is All You Need", NeurIPS 2017, arXiv 1706.03762 (the
 * key-value cache of autoregressive attention).
 * @example
 * const full = new FullStrategy();
 * full.compress(cache, context) === cache; // true
 */
export class FullStrategy implements CompressionStrategy {
  readonly id = 'full';
  readonly params: StrategyParams = {};

  /** Returns the input cache object itself. */
  compress(cache: KVCache, _context?: CompressionContext): KVCache {
    return cache;
  }
}

import { checkInteger } from './validation';
import type { KVCache } from './kv-cache';
import { silentLogger, type Logger } from './logger';
import type { AttentionStats, CompressionContext, CompressionStrategy } from './strategy';
import type { TokenBudgetedStrategy } from './strategies/score-based-strategy';

/** Returns whether a strategy can compress to an absolute token budget, as every score-based strategy can. */
export function isTokenBudgeted(strategy: CompressionStrategy): strategy is TokenBudgetedStrategy {
  return typeof (strategy as Partial<TokenBudgetedStrategy>).compressToTokens === 'function';
}

/**
 * Compresses a cache after one chunk of the streaming protocol.
 *
 * A token-level strategy compresses to `maxTokens` tokens per layer and head (on average
 * over layers for layer-adaptive budgets), whatever its `compressionRatio`, because a
 * ratio of a growing cache would shrink the cache a little more after every chunk. Any
 * other strategy (precision, reference) runs its ordinary `compress`, which encodes the
 * rows appended since the last call.
 *
 * @param maxTokens - token budget per layer and head, an integer ≥ 1; usually
 * `keptTokenCount(historyLength, compressionRatio)`, the budget the one-shot protocol gives
 * the whole history.
 * @throws RangeError when `maxTokens` is not an integer ≥ 1.
 * @example
 * cache = compressAfterChunk(strategy, cache, { stats, logger }, keptTokenCount(200, 0.75));
 */
export function compressAfterChunk(strategy: CompressionStrategy, cache: KVCache, context: CompressionContext, maxTokens: number): KVCache {
  checkInteger('compressAfterChunk', 'maxTokens', maxTokens, 1);
  return isTokenBudgeted(strategy) ? strategy.compressToTokens(cache, context, maxTokens) : strategy.compress(cache, context);
}

/** The cache after one append, and the attention statistics over that cache (or `null`). */
export interface StreamingAppendResult {
  readonly cache: KVCache;
  readonly stats: AttentionStats | null;
}

/** Inputs of {@link compressStreaming}. */
export interface StreamingOptions<Chunk> {
  /** Strategy applied after every chunk. */
  readonly strategy: CompressionStrategy;
  /** Cache before the first chunk, usually empty (see `createEmptyCache`). */
  readonly cache: KVCache;
  /** Chunks of the history, oldest first. */
  readonly chunks: Iterable<Chunk>;
  /**
   * The model's incremental step: appends a chunk to the (compressed) cache and returns the
   * grown cache with attention statistics over all of its tokens, or `null` when the
   * strategy reads none.
   */
  readonly append: (cache: KVCache, chunk: Chunk) => StreamingAppendResult;
  /** Token budget per layer and head, an integer ≥ 1. */
  readonly maxTokens: number;
  /** Receives the strategies' warnings. @defaultValue silentLogger */
  readonly logger?: Logger;
  /** Called after every chunk with the compressed cache, for measurements. */
  readonly onChunk?: (cache: KVCache, chunkIndex: number) => void;
}

/**
 * Runs the streaming protocol: appends the history chunk by chunk and compresses after each
 * chunk, as a long-lived user cache would. After every chunk the cache stores at most
 * `maxTokens` tokens per layer and head, on average over layers for PyramidKV.
 *
 * @returns the compressed cache after the last chunk.
 * @throws RangeError when `maxTokens` is not an integer ≥ 1.
 * @example
 * const cache = compressStreaming({
 *   strategy: new WindowStrategy({ compressionRatio: 0.5 }),
 *   cache: createEmptyCache(2, 1, 50, 50),
 *   chunks: items.map((item) => [item]),
 *   append: (cache, chunk) => model.append(cache, chunk),
 *   maxTokens: 10,
 * });
 */
export function compressStreaming<Chunk>(options: StreamingOptions<Chunk>): KVCache {
  checkInteger('compressStreaming', 'maxTokens', options.maxTokens, 1);
  const logger = options.logger ?? silentLogger;
  let cache = options.cache;
  let chunkIndex = 0;
  for (const chunk of options.chunks) {
    // Append through the model, then compress back to the budget.
    const appended = options.append(cache, chunk);
    cache = compressAfterChunk(options.strategy, appended.cache, { stats: appended.stats, logger }, options.maxTokens);
    options.onChunk?.(cache, chunkIndex);
    chunkIndex += 1;
  }
  return cache;
}

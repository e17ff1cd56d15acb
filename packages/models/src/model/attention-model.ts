import { createEmptyCache, type KVCache } from '@malloc/compression';
import { invalidArgument, positionOutOfRange } from '../messages';
import { appendChunkwise, chunkCondensationOf, type ChunkCondensation } from '../sequence/chunk-cache';
import { chunkwiseAttentionStats, type AppendAttentionRecord } from '../sequence/chunk-stats';
import type { CacheLayout } from '../variants/head-sharing';
import { BaseSequentialModel, checkCacheLayout, DEFAULT_STATS_WINDOW } from './base-model';
import { prepareSequence, validateItems, validateTimestamps } from './input';
import type { AppendResult, PrefillBatchOptions, PrefillOptions, PrefillResult, SequenceOptions } from './types';

/**
 * Serving path shared by the attention models, SASRec (Kang & McAuley, 2018) and HSTU (Zhai
 * et al., 2024). It contains the cache layout of their key/value heads and the chunk-by-chunk
 * serving of the variants that condense each complete chunk of the history: Activation Beacon
 * (Zhang et al., 2024) and the causal Linformer (Wang et al., 2020).
 *
 * Without condensation, `append` runs the tokens against the cache and `prefill` is the
 * encoder pass of {@link BaseSequentialModel}. With it, both append the items chunk by chunk
 * from the given cache and condense every chunk that completes, so that a prefilled cache
 * equals one grown by appends. Timestamps reach the cache only for a model that uses time.
 */
export abstract class AttentionSequentialModel extends BaseSequentialModel {
  /** Cache heads and widths of every layer. */
  protected abstract get cacheLayout(): CacheLayout;

  /**
   * Runs tokens through every layer against the cached keys and values. When `independent` is
   * false the tokens are appended in order (positions seenTokens, +1, ..., causal among them)
   * and the grown cache is returned. When it is true every token is a candidate at position
   * seenTokens that attends to the cache and to itself only, and the cache is returned unchanged.
   */
  protected abstract appendTokens(where: string, cache: KVCache, items: Int32Array, options: SequenceOptions, independent: boolean, records?: AppendAttentionRecord[] | null): AppendResult;

  /**
   * Condenses the chunk that just completed with beacons or the Linformer projection. The cache
   * has then seen a multiple of the chunk size. `lastTimestamp` is the time of the chunk's last
   * item, or `null` without timestamps.
   */
  protected abstract condenseChunk(cache: KVCache, lastTimestamp: number | null): KVCache;

  protected get keySize(): number {
    return this.cacheLayout.keyWidth;
  }

  protected get valueSize(): number {
    return this.cacheLayout.valueWidth;
  }

  /** Chunk condensation of a beacon or Linformer model, or `null`. */
  protected get condensation(): ChunkCondensation | null {
    return chunkCondensationOf(this.config);
  }

  append(cache: KVCache, items: Int32Array, options: SequenceOptions = {}): AppendResult {
    if (this.condensation !== null) {
      return this.appendCondensing(`${this.label}.append`, cache, items, options);
    }
    return this.appendTokens(`${this.label}.append`, cache, items, options, false);
  }

  override prefill(history: Int32Array, options: PrefillOptions = {}): PrefillResult {
    if (this.condensation !== null) {
      return this.prefillCondensing(`${this.label}.prefill`, history, options);
    }
    return super.prefill(history, options);
  }

  override prefillBatch(histories: readonly Int32Array[], options: PrefillBatchOptions = {}): PrefillResult[] {
    if (this.condensation === null) {
      return super.prefillBatch(histories, options);
    }

    // A beacon or Linformer model prefills one history at a time; every history is validated first.
    const where = `${this.label}.prefillBatch`;
    const timestamps = this.usesTime ? options.timestamps : undefined;
    if (timestamps !== undefined && timestamps.length !== histories.length) {
      throw new RangeError(invalidArgument(where, 'options.timestamps', `one array per history (${histories.length})`, `${timestamps.length} arrays`));
    }
    histories.forEach((history, index) => {
      prepareSequence(where, `histories[${index}]`, history, this.config.itemCount, this.config.maxLength);
      validateTimestamps(where, timestamps?.[index], history.length);
    });
    return histories.map((history, index) => {
      const times = timestamps?.[index];
      return this.prefillCondensing(where, history, { recordStats: options.recordStats, statsWindow: options.statsWindow, ...(times === undefined ? {} : { timestamps: times }) });
    });
  }

  /**
   * Validates an append request before anything runs: the items, their timestamps, the cache
   * layout and the position range. For a model that uses time, timestamps must come exactly
   * when the cache stores them.
   *
   * @param independent - every item is a candidate at the next position, so the range grows by 1.
   * @returns the position of the first new token, `cache.seenTokens`.
   * @throws RangeError or TypeError naming the invalid argument.
   */
  protected checkAppendRequest(where: string, cache: KVCache, items: Int32Array, options: SequenceOptions, independent: boolean): number {
    validateItems(where, 'items', items, this.config.itemCount);
    if (items.length === 0) {
      throw new RangeError(invalidArgument(where, 'items', 'at least one item', 'an empty array'));
    }
    validateTimestamps(where, options.timestamps, items.length);
    const layout = this.cacheLayout;
    checkCacheLayout(where, cache, this.config.layers, layout.heads, layout.keyWidth, layout.valueWidth);
    const cacheHasTime = cache.layers[0].heads[0].timestamps !== null;
    if (this.usesTime && cacheHasTime !== (options.timestamps !== undefined)) {
      const expected = cacheHasTime ? 'timestamps, because the cache stores them' : 'no timestamps, because the cache was prefilled without them';
      throw new TypeError(invalidArgument(where, 'options.timestamps', expected, options.timestamps === undefined ? 'none' : `${options.timestamps.length} timestamps`));
    }
    const span = independent ? 1 : items.length;
    if (cache.seenTokens + span > this.config.maxLength) {
      throw new RangeError(positionOutOfRange(where, cache.seenTokens, span, this.config.maxLength));
    }
    return cache.seenTokens;
  }

  protected override candidateHidden(cache: KVCache, candidates: Int32Array, options: SequenceOptions): Float32Array {
    return this.appendTokens(`${this.label}.scoreImpressions`, cache, candidates, options, true).hidden;
  }

  /**
   * Appends items to a beacon or Linformer model's cache chunk by chunk: the items of each
   * chunk are appended as raw tokens, and a chunk that completes is condensed.
   */
  private appendCondensing(where: string, cache: KVCache, items: Int32Array, options: SequenceOptions, records: AppendAttentionRecord[] | null = null): AppendResult {
    // Validate the whole request first, so that nothing runs on bad input.
    validateItems(where, 'items', items, this.config.itemCount);
    if (items.length === 0) {
      throw new RangeError(invalidArgument(where, 'items', 'at least one item', 'an empty array'));
    }
    validateTimestamps(where, options.timestamps, items.length);
    if (cache.seenTokens + items.length > this.config.maxLength) {
      throw new RangeError(positionOutOfRange(where, cache.seenTokens, items.length, this.config.maxLength));
    }

    // Append each chunk's share of the items, condensing every chunk that completes.
    const times = this.usesTime ? (options.timestamps ?? null) : null; // [items] or null
    const appendRaw = (current: KVCache, chunkItems: Int32Array, chunkTimes: Float64Array | null): AppendResult =>
      this.appendTokens(where, current, chunkItems, chunkTimes === null ? {} : { timestamps: chunkTimes }, false, records);
    return appendChunkwise(cache, items, times, this.condensation as ChunkCondensation, this.config.hiddenSize, appendRaw, (current, lastTimestamp) => this.condenseChunk(current, lastTimestamp));
  }

  /**
   * Prefills a beacon or Linformer model's cache by appending the history chunk by chunk from
   * an empty cache, so that serving condenses each complete chunk exactly as `append` does.
   */
  private prefillCondensing(where: string, history: Int32Array, options: PrefillOptions): PrefillResult {
    const prepared = prepareSequence(where, 'history', history, this.config.itemCount, this.config.maxLength);
    validateTimestamps(where, options.timestamps, history.length);
    const statsWindow = options.statsWindow ?? DEFAULT_STATS_WINDOW;
    if (!Number.isInteger(statsWindow) || statsWindow < 1) {
      throw new RangeError(invalidArgument(where, 'options.statsWindow', 'an integer ≥ 1', String(statsWindow)));
    }
    const timestamps = this.usesTime && options.timestamps !== undefined ? options.timestamps.slice(prepared.start) : null; // [len] or null
    const layout = this.cacheLayout;
    const empty = createEmptyCache(this.config.layers, layout.heads, layout.keyWidth, layout.valueWidth, timestamps !== null);
    const records: AppendAttentionRecord[] | null = options.recordStats === true ? [] : null;
    const cache = prepared.items.length === 0 ? empty : this.appendCondensing(where, empty, prepared.items, timestamps === null ? {} : { timestamps }, records).cache;

    // Statistics over the rows the cache contains, from the attention of every item's query.
    const stats = records === null ? null : chunkwiseAttentionStats(records, cache, this.condensation as ChunkCondensation, this.config.heads, statsWindow);
    return { cache, stats };
  }
}

import { performance } from 'node:perf_hooks';
import {
  cacheBytes,
  compressStreaming,
  headLength,
  headPositions,
  isTokenBudgeted,
  keptTokenCount,
  maxCachedTokens,
  type AttentionStats,
  type CompressionStrategy,
  type KVCache,
  type Logger,
  type StreamingAppendResult,
} from '@malloc/compression';
import type { SequentialModel } from '@malloc/models';
import type { CellMeasurement } from './evaluate';
import { invalidChunkSize, streamingStatsRowMissing, unequalHeadsForStreamingStats } from './messages';

/** Evaluation protocols: compress once after prefill, or after every chunk of the history. */
export type EvaluationProtocol = 'one-shot' | 'streaming';

/** Items per chunk of the streaming protocol when `evaluation.chunkSize` is unset. */
export const DEFAULT_CHUNK_SIZE = 16;

/** Calibration users when `evaluation.calibrationUsers` is unset. */
export const DEFAULT_CALIBRATION_USERS = 256;

/** Inputs of {@link streamHistory}. */
export interface StreamHistoryOptions {
  strategy: CompressionStrategy;
  model: SequentialModel;
  /** Item ids of the history, `[len]`, already capped at the model's maximum length. */
  history: Int32Array;
  /** Timestamps of the history in seconds, `[len]`, for models that use time. */
  timestamps?: Float64Array;
  /**
   * Time in seconds of the request after the history (the first request item's timestamp),
   * for HSTU with `queryTime: 'next'`. A chunk before the last takes the timestamp of the item
   * after it instead.
   */
  requestTime?: number;
  /** Items per chunk, an integer ≥ 1. */
  chunkSize: number;
  /** Observation window of the attention statistics, in queries. */
  statsWindow: number;
  /** Whether the strategy reads attention statistics (then they are computed after every chunk). */
  recordStats: boolean;
  logger: Logger;
  /** Called after each chunk's compression, for measurements. */
  onChunk?: (cache: KVCache, chunkIndex: number) => void;
}

/** A history fed through the streaming protocol. */
export interface StreamedHistory {
  /** The compressed cache after the last chunk. */
  cache: KVCache;
  /** Token budget per layer and head of every compression: `keptTokenCount(len, r)` for a token method, else `len`. */
  maxTokens: number;
  /** Largest number of tokens that one head stored after any chunk's compression. */
  peakHeadTokens: number;
  /** Largest number of tokens that all layers and heads together stored after any chunk's compression. */
  peakTotalTokens: number;
  /** Milliseconds in the model (prefill of the first chunk, appends, statistics). */
  modelMs: number;
  /** Milliseconds in the strategy. */
  compressMs: number;
}

/**
 * Feeds a history through the streaming protocol: prefills the first `chunkSize` items and
 * compresses, then appends each next chunk to the compressed cache and compresses again
 * (`compressStreaming`). A token strategy's cache therefore never exceeds its budget of
 * `keptTokenCount(len, r)` tokens per layer and head. For a layer-adaptive method the budget
 * holds on average over layers, and for a head-adaptive one over the heads of a layer.
 *
 * Attention statistics: the first chunk's are those of its prefill. After a later chunk
 * the model's `append` records none, so they come from a prefill of the whole history so far,
 * restricted to the positions that the compressed cache still contains (see
 * {@link restrictStats}). The window queries are the newest `statsWindow` tokens, which are
 * the latest chunk's when `chunkSize ≥ statsWindow`. For a beacon or Linformer model the
 * prefill's statistics cover its condensed and raw rows, and each row of the compressed cache
 * takes the statistics of the prefill's row at the same position. Both caches have seen the
 * same items, so they condensed the same chunks.
 *
 * @throws RangeError when `chunkSize` is not an integer ≥ 1, and whatever the model or the
 * strategy throws.
 */
export function streamHistory(options: StreamHistoryOptions): StreamedHistory {
  const { strategy, model, history, timestamps, requestTime, chunkSize, statsWindow, recordStats, logger } = options;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(invalidChunkSize(chunkSize));
  }
  const ratio = strategy.params.compressionRatio;
  const maxTokens = isTokenBudgeted(strategy) && typeof ratio === 'number' ? keptTokenCount(history.length, ratio) : Math.max(1, history.length);

  // Chunks as [start, end) ranges of the history.
  const chunks: { start: number; end: number }[] = [];
  for (let start = 0; start < history.length; start += chunkSize) {
    chunks.push({ start, end: Math.min(history.length, start + chunkSize) });
  }

  // The model's step: prefill the first chunk, append the others against the compressed cache.
  let modelMs = 0;
  const append = (cache: KVCache, chunk: { start: number; end: number }): StreamingAppendResult => {
    const begin = performance.now();
    const items = history.subarray(chunk.start, chunk.end);
    const times = timestamps?.subarray(chunk.start, chunk.end);
    const next = chunk.end < history.length ? timestamps?.[chunk.end] : requestTime;
    const nextTime = next === undefined ? {} : { requestTime: next };
    let result: StreamingAppendResult;
    if (chunk.start === 0) {
      result = model.prefill(items, { timestamps: times, ...nextTime, recordStats, statsWindow });
    } else {
      const grown = model.append(cache, items, { timestamps: times, ...nextTime }).cache;
      const prefix = recordStats ? model.prefill(history.subarray(0, chunk.end), { timestamps: timestamps?.subarray(0, chunk.end), ...nextTime, recordStats: true, statsWindow }) : null;
      const stats = prefix === null || prefix.stats === null ? null : restrictStats(prefix.stats, grown, headPositions(prefix.cache.layers[0].heads[0]));
      result = { cache: grown, stats };
    }
    modelMs += performance.now() - begin;
    return result;
  };

  // Stream, tracking the largest cache after each compression.
  let peakHeadTokens = 0;
  let peakTotalTokens = 0;
  const begin = performance.now();
  const cache = compressStreaming({
    strategy,
    // The first chunk is prefilled, so the starting cache is never read.
    cache: { layers: [], seenTokens: 0, itemIds: new Int32Array(0) },
    chunks,
    append,
    maxTokens,
    logger,
    onChunk: (compressed, chunkIndex) => {
      peakHeadTokens = Math.max(peakHeadTokens, maxCachedTokens(compressed));
      peakTotalTokens = Math.max(peakTotalTokens, totalCachedTokens(compressed));
      options.onChunk?.(compressed, chunkIndex);
    },
  });
  const compressMs = performance.now() - begin - modelMs;
  return { cache, maxTokens, peakHeadTokens, peakTotalTokens, modelMs, compressMs };
}

/**
 * Restricts attention statistics of a prefill to the tokens a compressed cache contains:
 * entry `i` of head `h` becomes the statistic of the prefill row at position
 * `headPositions(head)[i]`.
 *
 * @param stats - statistics of a prefill over the whole history so far.
 * @param statsPositions - position of each row of the statistics, `[rows]`. Default: positions `0 .. rows−1`, the rows of a plain model's prefill.
 * @throws RangeError when the heads of a layer hold different numbers of tokens, which the
 * `[kvHeads, len]` layout of the statistics cannot express, or when a cached position has no
 * row in the statistics.
 */
export function restrictStats(stats: AttentionStats, cache: KVCache, statsPositions: Int32Array | null = null): AttentionStats {
  const windowSize = stats.windowSize;
  const accumulated: Float32Array[] = [];
  const window: Float32Array[] = [];
  cache.layers.forEach((layer, l) => {
    const kvHeads = layer.heads.length;
    const lengths = layer.heads.map(headLength);
    if (lengths.some((len) => len !== lengths[0])) {
      throw new RangeError(unequalHeadsForStreamingStats(l, lengths));
    }
    const len = lengths[0] ?? 0;
    const seen = stats.accumulated[l].length / kvHeads;
    const layerAccumulated = new Float32Array(kvHeads * len); // [kvHeads, len]
    const layerWindow = new Float32Array(kvHeads * windowSize * len); // [kvHeads, windowSize, len]
    layer.heads.forEach((head, h) => {
      const positions = headPositions(head); // [len]
      for (let i = 0; i < len; i++) {
        const row = statsRowOf(positions[i], statsPositions, seen);
        if (row < 0) {
          throw new RangeError(streamingStatsRowMissing(l, positions[i]));
        }
        layerAccumulated[h * len + i] = stats.accumulated[l][h * seen + row];
        for (let q = 0; q < windowSize; q++) {
          layerWindow[(h * windowSize + q) * len + i] = stats.window[l][(h * windowSize + q) * seen + row];
        }
      }
    });
    accumulated.push(layerAccumulated);
    window.push(layerWindow);
  });
  return { accumulated, window, windowSize };
}

/** Row of the statistics at `position`, or -1 when no row has it; without `statsPositions`, row p is position p. */
function statsRowOf(position: number, statsPositions: Int32Array | null, rows: number): number {
  if (statsPositions === null) {
    return position < rows ? position : -1;
  }
  return statsPositions.indexOf(position);
}

/** Inputs of {@link runStreamingCell}. */
export interface StreamingCellInput {
  measurement: CellMeasurement;
  strategy: CompressionStrategy;
  model: SequentialModel;
  history: Int32Array;
  historyTimes: Float64Array | undefined;
  request: Int32Array;
  requestTimes: Float64Array | undefined;
  /** Timestamp of the target, the request time of the last request item; undefined without timestamps. */
  targetTime?: number;
  chunkSize: number;
  statsWindow: number;
  recordStats: boolean;
  logger: Logger;
}

/**
 * Evaluates one cache cell for one user under the streaming protocol: streams the history
 * ({@link streamHistory}), appends the request against the compressed cache and scores the
 * catalogue, as the one-shot path does. The model time of the stream is recorded as the
 * prefill phase and the strategy time as the compress phase.
 *
 * @returns the scores of every item, `[nItems + 1]`.
 */
export function runStreamingCell(input: StreamingCellInput): Float32Array {
  const { measurement, strategy, model, request, requestTimes } = input;
  const samples = measurement.samples;

  // Stream the history through the strategy.
  const streamed = streamHistory({
    strategy,
    model,
    history: input.history,
    timestamps: input.historyTimes,
    ...(requestTimes === undefined ? {} : { requestTime: requestTimes[0] }),
    chunkSize: input.chunkSize,
    statsWindow: input.statsWindow,
    recordStats: input.recordStats,
    logger: input.logger,
  });
  samples.prefill.push(streamed.modelMs);
  samples.compress.push(streamed.compressMs);
  measurement.storedBytes += cacheBytes(streamed.cache);
  measurement.cachedTokens += maxCachedTokens(streamed.cache);
  measurement.streamPeakTokens = Math.max(measurement.streamPeakTokens ?? 0, streamed.peakHeadTokens);

  // Append the request against the compressed cache, then score the catalogue.
  const appendStart = performance.now();
  const appended = model.append(streamed.cache, request, { timestamps: requestTimes, requestTime: input.targetTime });
  samples.append.push(performance.now() - appendStart);
  const d = appended.hidden.length / request.length;
  const last = appended.hidden.subarray((request.length - 1) * d); // [d]
  const scoreStart = performance.now();
  const scores = model.scoreAll(last);
  samples.score.push(performance.now() - scoreStart);
  return scores;
}

/** Returns the cell-key suffix of a protocol: empty for one-shot (keys of earlier runs stay valid), `__streaming-c16` for streaming with chunks of 16. */
export function protocolKeySuffix(protocol: EvaluationProtocol, chunkSize: number): string {
  return protocol === 'streaming' ? `__streaming-c${chunkSize}` : '';
}

/** Counts the tokens over every layer and head of a cache. */
export function totalCachedTokens(cache: KVCache): number {
  return cache.layers.reduce((sum, layer) => sum + layer.heads.reduce((headSum, head) => headSum + headLength(head), 0), 0);
}

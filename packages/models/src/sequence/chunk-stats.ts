import { headPositions, type AttentionStats, type KVCache } from '@malloc/compression';
import { invalidArgument } from '../messages';
import type { ChunkCondensation } from './chunk-cache';

// Attention statistics of a beacon or Linformer model, whose prefill appends the history chunk
// by chunk (see `appendChunkwise`). The statistics cover the rows that the final cache contains:
// condensed rows of complete chunks and raw rows of the newest, incomplete chunk. The queries
// are the history's items, in order; beacon tokens are not queries. Query i attended to the
// condensed rows of the chunks before its own and to the raw rows of its own chunk up to
// itself. Its weights on condensed rows are kept. Its weights on raw rows are kept only when
// its chunk is still raw in the final cache, because a condensed chunk's raw rows are dropped.
// With no complete chunk every item attends causally to every earlier item, so the statistics
// equal those of the model without the variant.

/** Attention of the queries of one raw append during a chunkwise prefill. */
export interface AppendAttentionRecord {
  /** Positions of the appended items, which are the queries, `[count]`. */
  readonly queryPositions: Int32Array;
  /** Positions of the keys: the cached rows followed by the appended rows, `[width]`. */
  readonly keyPositions: Int32Array;
  /**
   * Per layer, the attention weights of every query head as strategies score them (softmax
   * probabilities, or |A| for HSTU), `[heads, count, width]` row-major.
   */
  readonly weights: readonly Float32Array[];
}

/**
 * Builds the attention statistics of a chunkwise prefill over the rows of its final cache,
 * by the rules at the top of this file. The weights of the query heads that share a cache
 * head are averaged, as the plain models do.
 *
 * @param records - one record per raw append, in order; together they cover positions 0..seenTokens−1 once.
 * @param cache - the cache after the prefill, uncompressed.
 * @param heads - query heads per layer.
 * @param statsWindow - number of last queries whose attention `window` keeps.
 * @returns `accumulated` per layer `[cacheHeads, rows]` and `window` per layer `[cacheHeads, windowSize, rows]`.
 * @throws RangeError when a recorded key is missing from the final cache, which means the cache was changed after the prefill.
 */
export function chunkwiseAttentionStats(records: readonly AppendAttentionRecord[], cache: KVCache, condensation: ChunkCondensation, heads: number, statsWindow: number): AttentionStats {
  const layers = cache.layers.length;
  const cacheHeads = cache.layers[0].heads.length;
  const group = heads / cacheHeads;
  const queries = cache.seenTokens;
  const windowSize = Math.min(statsWindow, queries);

  // Row of each position in the final cache; every head of a prefilled cache has the same rows.
  const finalPositions = headPositions(cache.layers[0].heads[0]); // [rows]
  const rows = finalPositions.length;
  const rowOf = new Map<number, number>();
  finalPositions.forEach((position, row) => rowOf.set(position, row));
  const condensedEnd = Math.floor(queries / condensation.chunkSize) * condensation.chunkSize;

  const accumulated = Array.from({ length: layers }, () => new Float32Array(cacheHeads * rows)); // per layer [cacheHeads, rows]
  const window = Array.from({ length: layers }, () => new Float32Array(cacheHeads * windowSize * rows)); // per layer [cacheHeads, windowSize, rows]
  for (const record of records) {
    const count = record.queryPositions.length;
    const width = record.keyPositions.length;
    for (let i = 0; i < count; i++) {
      // Map each key of query i to its row in the final cache, or -1 when the key was dropped.
      const query = record.queryPositions[i];
      const chunkStart = Math.floor(query / condensation.chunkSize) * condensation.chunkSize;
      const keyRows = Int32Array.from(record.keyPositions, (position) => {
        if (position >= chunkStart && chunkStart < condensedEnd) {
          return -1;
        }
        const row = rowOf.get(position);
        if (row === undefined) {
          throw new RangeError(invalidArgument('chunkwiseAttentionStats', 'cache', 'the uncompressed cache of the recorded prefill', `no row at position ${position}`));
        }
        return row;
      }); // [width]
      const windowRow = query - (queries - windowSize);

      // Add each query head's weights to its cache head, averaged over the group.
      for (let layer = 0; layer < layers; layer++) {
        const weights = record.weights[layer];
        for (let head = 0; head < heads; head++) {
          const cacheHead = Math.floor(head / group);
          const from = (head * count + i) * width;
          for (let key = 0; key < width; key++) {
            const row = keyRows[key];
            if (row < 0) {
              continue;
            }
            const weight = weights[from + key] / group;
            accumulated[layer][cacheHead * rows + row] += weight;
            if (windowRow >= 0) {
              window[layer][(cacheHead * windowSize + windowRow) * rows + row] += weight;
            }
          }
        }
      }
    }
  }
  return { accumulated, window, windowSize };
}

/** Concatenates per-head arrays into one row-major array, `[heads, ...]`. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

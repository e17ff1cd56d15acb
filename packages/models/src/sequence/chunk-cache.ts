import { Float32Storage, gatherHead, headPositions, type HeadCache, type KVCache } from '@malloc/compression';
import { invalidArgument } from '../messages';
import type { ModelConfig } from '../model/types';
import type { AppendResult } from '../model/types';
import { variantCacheBytes, type VariantCacheBytesOptions } from '../variants/cache-bytes';
import { cacheHeadsOf } from '../variants/head-sharing';

// Cache layout shared by the sequence-level variants that condense each complete chunk of
// `chunkSize` items into `rowsPerChunk` rows (Activation Beacon, causal Linformer). The rows of
// chunk c take the chunk's last `rowsPerChunk` positions, so that every row keeps a distinct
// position and the rows of the newest, incomplete chunk are those at positions ≥ its start.

/** Chunk condensation of a model configuration. */
export interface ChunkCondensation {
  /** Items per chunk. */
  readonly chunkSize: number;
  /** Cache rows that replace each complete chunk. */
  readonly rowsPerChunk: number;
}

/** Returns the chunk condensation of a configuration, or `null` for a model without one. */
export function chunkCondensationOf(config: Readonly<ModelConfig>): ChunkCondensation | null {
  if ('beacon' in config && config.beacon !== undefined) {
    return { chunkSize: config.beacon.chunkSize, rowsPerChunk: config.beacon.beaconsPerChunk };
  }
  if ('linformer' in config && config.linformer !== undefined) {
    return { chunkSize: config.linformer.blockSize, rowsPerChunk: config.linformer.projectedRows };
  }
  return null;
}

/** Position of the first condensed row of the chunk that ends at position `chunkEnd` (exclusive). */
export function firstCondensedPosition(chunkEnd: number, rowsPerChunk: number): number {
  return chunkEnd - rowsPerChunk;
}

/**
 * Returns the rows that each cache head of a sequence-level variant (`beacon` or `linformer`)
 * stores after `seenTokens` items: `rowsPerChunk · ⌊seenTokens / chunkSize⌋ + seenTokens mod
 * chunkSize`. A model without one stores `seenTokens` rows.
 *
 * @throws RangeError when `seenTokens` is not an integer ≥ 0.
 */
export function sequenceKeptTokens(config: Readonly<ModelConfig>, seenTokens: number): number {
  if (!Number.isInteger(seenTokens) || seenTokens < 0) {
    throw new RangeError(invalidArgument('sequenceKeptTokens', 'seenTokens', 'an integer ≥ 0', String(seenTokens)));
  }
  const condensation = chunkCondensationOf(config);
  if (condensation === null) {
    return seenTokens;
  }
  const completed = Math.floor(seenTokens / condensation.chunkSize);
  return completed * condensation.rowsPerChunk + (seenTokens - completed * condensation.chunkSize);
}

/**
 * Computes the bytes of an uncompressed cache after `seenTokens` items, from the formula rather
 * than from a cache. With `rows` = {@link sequenceKeptTokens}: `variantCacheBytes(config, rows)`,
 * plus `layers · cacheHeads · rows · 4` when the kept positions have a gap, because each head
 * then stores them as int32. They have a gap once two chunks are complete and
 * `rowsPerChunk < chunkSize`: chunks of 4 condensed into 2 rows keep positions 2, 3, 6, 7
 * after 8 items. A model without a sequence-level variant gets `variantCacheBytes(config, seenTokens)`.
 * With `options.timestamps` (HSTU prefilled with timestamps) every row also stores a float64
 * timestamp, condensed rows included.
 *
 * @throws RangeError when `seenTokens` is not an integer ≥ 0.
 */
export function sequenceCacheBytes(config: Readonly<ModelConfig>, seenTokens: number, options: VariantCacheBytesOptions = {}): number {
  const rows = sequenceKeptTokens(config, seenTokens);
  const condensation = chunkCondensationOf(config);
  if (condensation === null) {
    return variantCacheBytes(config, rows, options);
  }
  const completed = Math.floor(seenTokens / condensation.chunkSize);
  const positionsStored = completed >= 2 && condensation.rowsPerChunk < condensation.chunkSize;
  return variantCacheBytes(config, rows, options) + (positionsStored ? config.layers * cacheHeadsOf(config) * rows * 4 : 0);
}

/**
 * Appends items to the cache of a beacon or Linformer model chunk by chunk. Each chunk's share
 * of the items is appended as raw tokens with `appendRaw`. A chunk that completes is condensed
 * with `condense`, which gets the timestamp of the chunk's last item (`null` without
 * timestamps). SASRec and HSTU share this loop, so that prefill and append condense at the
 * same item counts.
 *
 * @param items - `[count]` item ids, already validated.
 * @param timestamps - `[count]` seconds, or `null`.
 * @param hiddenSize - width d of the returned hidden states.
 * @returns the hidden states of every item `[count, d]` and the cache after the last item.
 */
export function appendChunkwise(
  cache: KVCache,
  items: Int32Array,
  timestamps: Float64Array | null,
  condensation: ChunkCondensation,
  hiddenSize: number,
  appendRaw: (cache: KVCache, items: Int32Array, timestamps: Float64Array | null) => AppendResult,
  condense: (cache: KVCache, lastTimestamp: number | null) => KVCache,
): AppendResult {
  const { chunkSize } = condensation;
  const hidden = new Float32Array(items.length * hiddenSize); // [count, d]
  let current = cache;
  let done = 0;
  while (done < items.length) {
    // Append the items that fit in the current chunk.
    const take = Math.min(items.length - done, chunkSize - (current.seenTokens % chunkSize));
    const times = timestamps === null ? null : timestamps.subarray(done, done + take);
    const appended = appendRaw(current, items.subarray(done, done + take), times);
    hidden.set(appended.hidden, done * hiddenSize);

    // Condense the chunk when it is complete.
    const complete = appended.cache.seenTokens % chunkSize === 0;
    current = complete ? condense(appended.cache, times === null ? null : times[take - 1]) : appended.cache;
    done += take;
  }
  return { hidden, cache: current };
}

/**
 * Splits a head into the rows before `chunkStart` and the rows of the chunk that starts there
 * (positions ≥ `chunkStart`), which the chunk's condensed rows replace. Rows that a compression
 * strategy already evicted are simply absent.
 *
 * @returns `remaining`, the head without the chunk's rows, and `chunkRows`, the chunk's row indices into `head`.
 */
export function splitChunkRows(head: HeadCache, chunkStart: number): { remaining: HeadCache; chunkRows: number[] } {
  const positions = headPositions(head); // [len]
  const keptRows: number[] = [];
  const chunkRows: number[] = [];
  for (let row = 0; row < positions.length; row++) {
    if (positions[row] < chunkStart) {
      keptRows.push(row);
    } else {
      chunkRows.push(row);
    }
  }
  return { remaining: gatherHead(asFloat32Head(head), keptRows), chunkRows };
}

/**
 * Returns a head whose keys and values are float32, decoding other encodings.
 *
 * NOTE: condensing a chunk of a quantised or low-rank cache therefore stores the kept rows
 * as float32 again (decoded, with their rounding error), so the bytes grow back to float32.
 */
function asFloat32Head(head: HeadCache): HeadCache {
  if (head.keys instanceof Float32Storage && head.values instanceof Float32Storage) {
    return head;
  }
  const keys = new Float32Storage(head.keys.decode(), head.keys.rows, head.keys.cols);
  const values = new Float32Storage(head.values.decode(), head.values.rows, head.values.cols);
  return { ...head, keys, values };
}

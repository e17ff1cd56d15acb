import { Float32Storage, gatherHead, headPositions, type HeadCache } from '@malloc/compression';
import { invalidArgument } from '../messages';
import type { ModelConfig } from '../model/types';
import { variantCacheBytes } from '../variants/cache-bytes';
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
 *
 * @throws RangeError when `seenTokens` is not an integer ≥ 0.
 */
export function sequenceCacheBytes(config: Readonly<ModelConfig>, seenTokens: number): number {
  const rows = sequenceKeptTokens(config, seenTokens);
  const condensation = chunkCondensationOf(config);
  if (condensation === null) {
    return variantCacheBytes(config, rows);
  }
  const completed = Math.floor(seenTokens / condensation.chunkSize);
  const positionsStored = completed >= 2 && condensation.rowsPerChunk < condensation.chunkSize;
  return variantCacheBytes(config, rows) + (positionsStored ? config.layers * cacheHeadsOf(config) * rows * 4 : 0);
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

import { appendToHead, headPositions, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import { mergeHeads, splitHeads } from '../ops/attention';
import { BLOCKED, dropout } from '../ops/layers';
import { batchMatMul } from '../ops/matmul';
import type { SeededRandom } from '../random';
import type { EncoderBatch } from '../model/types';
import { timeBucket, type PointwiseAttentionLayout } from '../ops/pointwise-attention';
import { firstCondensedPosition, splitChunkRows } from './chunk-cache';

// Linformer projection of the length axis (Sinong Wang et al., "Linformer: Self-Attention
// with Linear Complexity", 2020, arXiv:2006.04768), adapted to causal attention with a cache.
//
// Linformer projects the keys and values of the whole sequence with learned [k, n] matrices
// E and F, so every projected row mixes future tokens, which a causal model and a cache
// cannot use. The adaptation here projects each complete block of `blockSize` past tokens on
// its own, so the block's keys become E · K_block and its values F · V_block. E and F have
// shape [projectedRows, blockSize], are learned per layer and are shared by blocks and heads.
// A query attends to the projected rows of the blocks before its own block and, causally, to
// the raw tokens of its own block. The cache stores the projected rows of complete blocks
// (at the block's last `projectedRows` positions) and the newest, incomplete block raw.
// SASRec takes a softmax over these rows; HSTU applies its point-wise attention to them, with
// each projected row at its position and with the timestamp of the block's last item.

/** Causal Linformer settings of a model configuration. */
export interface LinformerConfig {
  /**
   * Tokens per projected block.
   * @minimum 1
   */
  blockSize: number;
  /**
   * Rows k that each complete block is projected to, at most `blockSize`.
   * @minimum 1
   */
  projectedRows: number;
}

/**
 * Validates the `linformer` field of a model configuration.
 *
 * @param where - function named in errors, for example `createSasRec`.
 * @throws TypeError when `linformer` is not an object.
 * @throws RangeError when a count is not an integer ≥ 1, `projectedRows` exceeds `blockSize` or `blockSize` exceeds `maxLength`.
 */
export function validateLinformer(where: string, linformer: LinformerConfig, maxLength: number): void {
  if (linformer === null || typeof linformer !== 'object') {
    throw new TypeError(invalidArgument(where, 'config.linformer', 'an object { blockSize, projectedRows }', String(linformer)));
  }
  const { blockSize, projectedRows } = linformer;
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > maxLength) {
    throw new RangeError(invalidArgument(where, 'config.linformer.blockSize', `an integer in [1, maxLength ${maxLength}]`, String(blockSize)));
  }
  if (!Number.isInteger(projectedRows) || projectedRows < 1 || projectedRows > blockSize) {
    throw new RangeError(invalidArgument(where, 'config.linformer.projectedRows', `an integer in [1, blockSize ${blockSize}]`, String(projectedRows)));
  }
}

/** Index and mask tensors of a padded batch for {@link linformerAttention}. */
export interface LinformerLayout {
  /** Projected rows per batch row: `projectedRows` × the most complete blocks of any row. */
  readonly rows: number;
  /**
   * `[batch, rows, len]` index into the flattened projection `[projectedRows · blockSize]`
   * followed by one zero: entry (m, t) is `r · blockSize + (p_t − c · blockSize)` when token t
   * lies in block c = ⌊m / projectedRows⌋, r = m mod projectedRows, and the zero otherwise.
   */
  readonly projectionIndex: Int32Array;
  /** `[batch, len, rows + len]` additive bias over the projected rows followed by the raw tokens. */
  readonly bias: Float32Array;
}

/**
 * Builds the projection indices and the attention mask of a padded batch. Token positions
 * count from 0 at each row's first item, so every block before a token's block is complete.
 */
export function linformerLayout(batch: EncoderBatch, linformer: LinformerConfig): LinformerLayout {
  const { blockSize, projectedRows } = linformer;
  const { len } = batch;

  // Count the complete blocks of each row.
  let maxBlocks = 0;
  for (let b = 0; b < batch.batch; b++) {
    let real = 0;
    for (let i = 0; i < len; i++) {
      real += batch.items[b * len + i] === 0 ? 0 : 1;
    }
    maxBlocks = Math.max(maxBlocks, Math.floor(real / blockSize));
  }
  const rows = maxBlocks * projectedRows;
  const width = rows + len;
  const zero = projectedRows * blockSize;

  // Projection indices: block c's row r reads E[r, p − c · blockSize] for each token p of block c.
  const projectionIndex = new Int32Array(batch.batch * rows * len).fill(zero); // [batch, rows, len]
  const bias = new Float32Array(batch.batch * len * width).fill(BLOCKED); // [batch, len, rows + len]
  for (let b = 0; b < batch.batch; b++) {
    const real = Array.from({ length: len }, (_, i) => batch.items[b * len + i] !== 0);
    const blocks = Math.floor(real.filter(Boolean).length / blockSize);
    for (let t = 0; t < len; t++) {
      if (!real[t]) {
        continue;
      }
      const position = batch.positions[b * len + t];
      const block = Math.floor(position / blockSize);
      if (block < blocks) {
        for (let r = 0; r < projectedRows; r++) {
          projectionIndex[(b * rows + block * projectedRows + r) * len + t] = r * blockSize + (position - block * blockSize);
        }
      }

      // Query t attends to the projected rows of earlier blocks and to the raw tokens of its block up to itself.
      const offset = (b * len + t) * width;
      bias.fill(0, offset, offset + Math.min(block, blocks) * projectedRows);
      for (let k = 0; k < len; k++) {
        if (real[k]) {
          const keyPosition = batch.positions[b * len + k];
          if (Math.floor(keyPosition / blockSize) === block && keyPosition <= position) {
            bias[offset + rows + k] = 0;
          }
        }
      }
    }
  }
  return { rows, projectionIndex, bias };
}

/**
 * Computes causal Linformer attention for a padded batch: softmax over the projected rows of
 * earlier blocks and the raw tokens of the query's block.
 *
 * @param queries - `[batch · len, heads · dHead]`.
 * @param keys - `[batch · len, heads · dHead]`.
 * @param values - `[batch · len, heads · dHead]`.
 * @param keyProjection - E, `[projectedRows, blockSize]`.
 * @param valueProjection - F, `[projectedRows, blockSize]`.
 * @returns `[batch · len, heads · dHead]`.
 */
export function linformerAttention(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  values: tf.Tensor2D,
  keyProjection: tf.Tensor2D,
  valueProjection: tf.Tensor2D,
  layout: LinformerLayout,
  batch: number,
  len: number,
  heads: number,
  dropoutRate: number,
  random: SeededRandom | null,
): tf.Tensor2D {
  const dHead = keys.shape[1] / heads;
  const total = layout.rows + len;

  // Project each complete block and put the projected rows before the raw tokens.
  const allKeys = projectBlocks(keys, keyProjection, layout, batch, len); // [batch · (rows + len), width]
  const allValues = projectBlocks(values, valueProjection, layout, batch, len); // [batch · (rows + len), width]

  // Scores over projected rows and raw tokens, bias, softmax and the weighted sum of values.
  const q = splitHeads(tf.mul(queries, 1 / Math.sqrt(dHead)) as tf.Tensor2D, batch, len, heads); // [batch · heads, len, dHead]
  const kTransposed = tf.transpose(splitHeads(allKeys, batch, total, heads), [0, 2, 1]); // [batch · heads, dHead, rows + len]
  const v = splitHeads(allValues, batch, total, heads); // [batch · heads, rows + len, dHead]
  const bias = tf.tensor3d(layout.bias, [batch, len, total]);
  let scores = batchMatMul(q, kTransposed); // [batch · heads, len, rows + len]
  if (heads === 1) {
    scores = tf.add(scores, bias);
  } else {
    const perHead = tf.add(tf.reshape(scores, [batch, heads, len, total]), tf.reshape(bias, [batch, 1, len, total]));
    scores = tf.reshape(perHead, [batch * heads, len, total]);
  }
  const weights = dropout(tf.softmax(scores) as tf.Tensor3D, dropoutRate, random);
  return mergeHeads(batchMatMul(weights, v), batch, len, heads);
}

/**
 * Projects each complete block of a padded batch and puts the projected rows of each sequence
 * before its raw tokens: `[batch, rows, len] · [batch, len, width]`, concatenated with the input.
 *
 * @param x - `[batch · len, width]` keys or values.
 * @param projection - E or F, `[projectedRows, blockSize]`.
 * @returns `[batch · (rows + len), width]`.
 */
export function projectBlocks(x: tf.Tensor2D, projection: tf.Tensor2D, layout: LinformerLayout, batch: number, len: number): tf.Tensor2D {
  if (layout.rows === 0) {
    return x;
  }
  const width = x.shape[1];
  const total = layout.rows + len;
  const table = tf.concat([tf.reshape(projection, [-1]), tf.zeros([1])]); // [projectedRows · blockSize + 1]
  const matrix = tf.reshape(tf.gather(table, tf.tensor1d(layout.projectionIndex, 'int32')), [batch, layout.rows, len]) as tf.Tensor3D;
  const projected = batchMatMul(matrix, tf.reshape(x, [batch, len, width]) as tf.Tensor3D); // [batch, rows, width]
  return tf.reshape(tf.concat([projected, tf.reshape(x, [batch, len, width])], 1), [batch * total, width]) as tf.Tensor2D;
}

/**
 * Lays out a padded batch of a Linformer HSTU for point-wise attention over the projected rows
 * followed by the raw tokens, with the pairs that {@link linformerLayout} allows. Projected row
 * r of block c sits at position `(c + 1) · blockSize − projectedRows + r` and carries the
 * timestamp of the block's last item, as the cache stores it.
 *
 * @param normalizer - N, the divisor of every attention weight (the maximum length).
 * @returns arrays of `[batch, len, rows + len]`.
 */
export function linformerPointwiseLayout(batch: EncoderBatch, linformer: LinformerConfig, layout: LinformerLayout, normalizer: number, buckets: number): PointwiseAttentionLayout {
  const { blockSize, projectedRows } = linformer;
  const { len } = batch;
  const width = layout.rows + len;
  const positionIndex = new Int32Array(batch.batch * len * width); // [batch, len, rows + len]
  const timeIndex = batch.timestamps === null ? null : new Int32Array(batch.batch * len * width); // [batch, len, rows + len]
  const scale = new Float32Array(batch.batch * len * width); // [batch, len, rows + len]
  for (let b = 0; b < batch.batch; b++) {
    // Timestamp of each block's last item in this sequence.
    const blockTimes = new Float64Array(layout.rows / projectedRows); // [blocks]
    for (let t = 0; t < len; t++) {
      const position = batch.positions[b * len + t];
      const block = Math.floor(position / blockSize);
      if (batch.items[b * len + t] !== 0 && position % blockSize === blockSize - 1 && block < blockTimes.length && batch.timestamps !== null) {
        blockTimes[block] = batch.timestamps[b * len + t];
      }
    }

    // Every attended pair gets its relative position, time bucket and 1/N.
    for (let t = 0; t < len; t++) {
      const query = b * len + t;
      const offset = query * width;
      for (let m = 0; m < width; m++) {
        if (layout.bias[offset + m] !== 0) {
          continue;
        }
        const projectedBlock = Math.floor(m / projectedRows);
        const keyPosition = m < layout.rows ? (projectedBlock + 1) * blockSize - projectedRows + (m % projectedRows) : batch.positions[b * len + m - layout.rows];
        positionIndex[offset + m] = batch.positions[query] - keyPosition;
        if (timeIndex !== null && batch.timestamps !== null) {
          const keyTime = m < layout.rows ? blockTimes[projectedBlock] : batch.timestamps[b * len + m - layout.rows];
          timeIndex[offset + m] = timeBucket(batch.timestamps[query] - keyTime, buckets);
        }
        scale[offset + m] = 1 / normalizer;
      }
    }
  }
  return { positionIndex, sharedPositions: false, timeIndex, scale };
}

/**
 * Projects the rows of one complete block: row r of the result is `Σ_t projection[r, p_t − blockStart] · rows[t]`,
 * accumulated in float64. Rows that a compression strategy evicted are absent from the sum.
 *
 * @param rows - `[n, width]` keys or values of the block's cached tokens.
 * @param positions - `[n]` their original positions, each in `[blockStart, blockStart + blockSize)`.
 * @param projection - `[projectedRows, blockSize]` row-major.
 * @returns `[projectedRows, width]`.
 */
export function projectBlock(rows: Float32Array, positions: ArrayLike<number>, width: number, projection: Float32Array, projectedRows: number, blockSize: number, blockStart: number): Float32Array {
  const out = new Float32Array(projectedRows * width); // [projectedRows, width]
  const sum = new Float64Array(width); // [width]
  for (let r = 0; r < projectedRows; r++) {
    sum.fill(0);
    for (let t = 0; t < positions.length; t++) {
      const weight = projection[r * blockSize + (positions[t] - blockStart)];
      for (let c = 0; c < width; c++) {
        sum[c] += weight * rows[t * width + c];
      }
    }
    out.set(sum, r * width);
  }
  return out;
}

/** Position of the first projected row of the block that ends at position `blockEnd` (exclusive). */
export function firstProjectedPosition(linformer: LinformerConfig, blockEnd: number): number {
  return firstCondensedPosition(blockEnd, linformer.projectedRows);
}

/**
 * Replaces the block that just completed (the cache has seen a multiple of `blockSize` items)
 * in every head by its projection: `E · K_block` and `F · V_block` at the block's last
 * `projectedRows` positions.
 *
 * @param keyProjections - per layer E, `[projectedRows, blockSize]` row-major.
 * @param valueProjections - per layer F, `[projectedRows, blockSize]` row-major.
 * @param lastTimestamp - timestamp of the block's last item, which every projected row stores when the cache stores timestamps; `null` otherwise.
 * @throws TypeError when the cache stores timestamps and `lastTimestamp` is `null`.
 */
export function projectCompletedBlock(cache: KVCache, linformer: LinformerConfig, keyProjections: readonly Float32Array[], valueProjections: readonly Float32Array[], lastTimestamp: number | null = null): KVCache {
  const { blockSize, projectedRows } = linformer;
  const blockEnd = cache.seenTokens;
  const blockStart = blockEnd - blockSize;
  const firstPosition = firstCondensedPosition(blockEnd, projectedRows);
  const layers = cache.layers.map((layerCache, layer) => ({
    heads: layerCache.heads.map((head) => {
      // Gather the block's cached rows, project them, then replace them.
      const { remaining, chunkRows } = splitChunkRows(head, blockStart);
      const allPositions = headPositions(head); // [len]
      const positions = Int32Array.from(chunkRows, (row) => allPositions[row]); // [n]
      const keys = head.keys.decode(); // [len, dKey]
      const values = head.values.decode(); // [len, dValue]
      const dKey = head.keys.cols;
      const dValue = head.values.cols;
      const blockKeys = new Float32Array(chunkRows.length * dKey); // [n, dKey]
      const blockValues = new Float32Array(chunkRows.length * dValue); // [n, dValue]
      chunkRows.forEach((row, t) => {
        blockKeys.set(keys.subarray(row * dKey, (row + 1) * dKey), t * dKey);
        blockValues.set(values.subarray(row * dValue, (row + 1) * dValue), t * dValue);
      });
      const projectedKeys = projectBlock(blockKeys, positions, dKey, keyProjections[layer], projectedRows, blockSize, blockStart); // [projectedRows, dKey]
      const projectedValues = projectBlock(blockValues, positions, dValue, valueProjections[layer], projectedRows, blockSize, blockStart); // [projectedRows, dValue]
      if (head.timestamps !== null && lastTimestamp === null) {
        throw new TypeError(invalidArgument('projectCompletedBlock', 'lastTimestamp', "the timestamp of the block's last item, because the cache stores timestamps", 'null'));
      }
      const times = head.timestamps === null ? null : new Float64Array(projectedRows).fill(lastTimestamp as number); // [projectedRows]
      return appendToHead(remaining, projectedKeys, projectedValues, projectedRows, firstPosition, times);
    }),
  }));
  return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
}

import * as tf from '@tensorflow/tfjs';
import { mergeHeads, splitHeads } from './attention';
import { batchMatMul, matMul2d } from './matmul';

/** Width of one time bucket in natural-log units, as in generative-recommenders' HSTU. */
const TIME_BUCKET_WIDTH = 0.301;

/**
 * Returns the logarithmic time bucket of a time difference, as generative-recommenders' HSTU:
 * `floor(ln(max(|Δt|, 1)) / 0.301)`, clamped to `[0, buckets]`.
 *
 * @param delta - time difference in seconds.
 */
export function timeBucket(delta: number, buckets: number): number {
  const bucket = Math.floor(Math.log(Math.max(Math.abs(delta), 1)) / TIME_BUCKET_WIDTH);
  return Math.min(Math.max(bucket, 0), buckets);
}

/** Indices into the bias tables and the attention scale of every (query, key) pair. */
export interface PointwiseAttentionLayout {
  /**
   * Relative position i − j of each pair, `[rows, cols]` row-major (0 where blocked); for a
   * batch whose sequences all start at position 0, one `[len, len]` block shared by the batch.
   */
  positionIndex: Int32Array;
  /** Whether `positionIndex` is one block shared by every sequence of the batch. */
  sharedPositions: boolean;
  /** Time bucket of t_i − t_j of each pair, `[rows, cols]` row-major; `null` without timestamps (bucket 0 everywhere). */
  timeIndex: Int32Array | null;
  /**
   * Multiplier of each attention weight: merge weight / N where attended, 0 where blocked,
   * `[rows, cols]`. A batch may give each head its own, `[batch, heads, len, cols]`.
   */
  scale: Float32Array;
}

/**
 * Lays out a padded batch for point-wise attention: query i attends to key j when j ≤ i and key j is not padding.
 *
 * @param items - `[batch, len]`, 0 = padding.
 * @param positions - `[batch, len]` positions counted from each sequence's first item.
 * @param timestamps - `[batch, len]` seconds, or `null`.
 * @param normalizer - N, the divisor of every attention weight (the maximum length).
 * @param queryTimes - `[batch, len]` seconds from which each query measures its time differences; default `timestamps` (the query's own).
 * @returns arrays of `[batch, len, len]`.
 */
export function batchLayout(
  items: Int32Array,
  positions: Int32Array,
  timestamps: Float64Array | null,
  batch: number,
  len: number,
  normalizer: number,
  buckets: number,
  queryTimes: Float64Array | null = timestamps,
): PointwiseAttentionLayout {
  // Right-padded sequences at positions 0, 1, ... share one block of relative positions.
  let sharedPositions = true;
  for (let flat = 0; flat < items.length && sharedPositions; flat++) {
    sharedPositions = items[flat] === 0 || positions[flat] === flat % len;
  }
  const positionIndex = new Int32Array(sharedPositions ? len * len : batch * len * len); // [len, len] or [batch, len, len]
  const timeIndex = timestamps === null ? null : new Int32Array(batch * len * len); // [batch, len, len]
  const scale = new Float32Array(batch * len * len); // [batch, len, len]
  if (sharedPositions) {
    for (let i = 0; i < len; i++) {
      for (let j = 0; j <= i; j++) {
        positionIndex[i * len + j] = i - j;
      }
    }
  }

  // Attended pairs: causal, and neither side is padding.
  for (let b = 0; b < batch; b++) {
    const row = b * len;
    for (let i = 0; i < len; i++) {
      if (items[row + i] === 0) {
        continue;
      }
      const offset = (row + i) * len;
      for (let j = 0; j <= i; j++) {
        if (items[row + j] === 0) {
          continue;
        }
        if (!sharedPositions) {
          positionIndex[offset + j] = positions[row + i] - positions[row + j];
        }
        if (timeIndex !== null && timestamps !== null && queryTimes !== null) {
          timeIndex[offset + j] = timeBucket(queryTimes[row + i] - timestamps[row + j], buckets);
        }
        scale[offset + j] = 1 / normalizer;
      }
    }
  }
  return { positionIndex, sharedPositions, timeIndex, scale };
}

/**
 * Lays out a padded batch for point-wise attention under an arbitrary mask, for example the
 * beacon mask: query i attends to key j where `bias[i, j]` is 0. The relative position is
 * `max(p_i − p_j, 0)`, because a beacon attends to the items of its own chunk that follow it.
 *
 * @param bias - `[batch, len, len]`, 0 where attended and negative where blocked.
 * @param positions - `[batch, len]`.
 * @param timestamps - `[batch, len]` seconds, or `null`.
 * @param normalizer - N, the divisor of every attention weight (the maximum length).
 * @returns arrays of `[batch, len, len]`.
 */
export function maskedLayout(bias: Float32Array, positions: Int32Array, timestamps: Float64Array | null, batch: number, len: number, normalizer: number, buckets: number): PointwiseAttentionLayout {
  const positionIndex = new Int32Array(batch * len * len); // [batch, len, len]
  const timeIndex = timestamps === null ? null : new Int32Array(batch * len * len); // [batch, len, len]
  const scale = new Float32Array(batch * len * len); // [batch, len, len]
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < len; i++) {
      const query = b * len + i;
      for (let j = 0; j < len; j++) {
        const pair = query * len + j;
        if (bias[pair] !== 0) {
          continue;
        }
        const key = b * len + j;
        positionIndex[pair] = Math.max(positions[query] - positions[key], 0);
        if (timeIndex !== null && timestamps !== null) {
          timeIndex[pair] = timeBucket(timestamps[query] - timestamps[key], buckets);
        }
        scale[pair] = 1 / normalizer;
      }
    }
  }
  return { positionIndex, sharedPositions: false, timeIndex, scale };
}

/**
 * Lays out `count` appended queries over `len` cached keys followed by the appended keys. A
 * cached key at a later position than the query gets relative position 0.
 *
 * @param cachedPositions - `[len]` original positions of the cached tokens.
 * @param cachedTimestamps - `[len]` seconds, or `null`.
 * @param cachedWeights - `[len]` merge weights, or `null` (all 1).
 * @param firstPosition - position of the first appended token.
 * @param newTimestamps - `[count]` seconds, or `null`.
 * @param queryTimes - `[count]` seconds from which each appended query measures its time differences; default `newTimestamps` (the query's own).
 * @returns arrays of `[count, len + count]`.
 */
export function appendLayout(
  cachedPositions: Int32Array,
  cachedTimestamps: Float64Array | null,
  cachedWeights: Float32Array | null,
  firstPosition: number,
  newTimestamps: Float64Array | null,
  count: number,
  normalizer: number,
  buckets: number,
  queryTimes: Float64Array | null = newTimestamps,
): PointwiseAttentionLayout {
  const len = cachedPositions.length;
  const width = len + count;
  const positionIndex = new Int32Array(count * width); // [count, len + count]
  const timeIndex = new Int32Array(count * width); // [count, len + count]
  const scale = new Float32Array(count * width); // [count, len + count]
  const usesTime = cachedTimestamps !== null || newTimestamps !== null;
  for (let i = 0; i < count; i++) {
    const offset = i * width;
    const position = firstPosition + i;
    const time = queryTimes === null ? 0 : queryTimes[i];
    for (let j = 0; j < len; j++) {
      // A beacon attends to the items of its own chunk that follow its position, so the distance is clamped at 0.
      positionIndex[offset + j] = Math.max(position - cachedPositions[j], 0);
      timeIndex[offset + j] = cachedTimestamps === null ? 0 : timeBucket(time - cachedTimestamps[j], buckets);
      scale[offset + j] = (cachedWeights === null ? 1 : cachedWeights[j]) / normalizer;
    }
    for (let j = 0; j <= i; j++) {
      positionIndex[offset + len + j] = i - j;
      timeIndex[offset + len + j] = newTimestamps === null ? 0 : timeBucket(time - newTimestamps[j], buckets);
      scale[offset + len + j] = 1 / normalizer;
    }
  }
  return { positionIndex, sharedPositions: false, timeIndex: usesTime ? timeIndex : null, scale };
}

/**
 * Gathers the relative attention bias `rab[i, j] = positionBias[i − j] + timeBias[bucket]`.
 *
 * @param shape - shape of the pairs, `[rows, cols]` or `[batch, 1, len, len]`.
 * @returns a tensor that broadcasts to `shape`.
 */
function relativeBias(layout: PointwiseAttentionLayout, positionBias: tf.Tensor1D, timeBias: tf.Tensor1D, shape: number[]): tf.Tensor {
  const pairShape = layout.sharedPositions ? [1, ...shape.slice(1)] : shape;
  const position = tf.reshape(tf.gather(positionBias, tf.tensor1d(layout.positionIndex, 'int32')), pairShape);
  const time = layout.timeIndex === null ? tf.slice(timeBias, [0], [1]) : tf.reshape(tf.gather(timeBias, tf.tensor1d(layout.timeIndex, 'int32')), shape);
  return tf.add(position, time);
}

/** Computes SiLU(x) = x · sigmoid(x). */
function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** Output of {@link batchedPointwiseAttention}. */
export interface BatchedPointwiseAttention {
  /** Attention output with heads side by side, `[batch · len, heads · dv]`. */
  output: tf.Tensor2D;
  /** |A| of every head, `[batch · heads, len, keyLength]`; `null` unless requested. */
  weights: tf.Tensor3D | null;
}

/**
 * Computes HSTU's point-wise attention for a padded batch: `A = SiLU(α·q·kᵀ + rab) / N` on allowed
 * pairs (0 elsewhere, no softmax), output `A·v`.
 *
 * @param queries - `[batch · len, heads · dqk]`, already scaled by α.
 * @param keys - `[batch · len, heads · dqk]`.
 * @param values - `[batch · len, heads · dv]`.
 * @param layout - from {@link batchLayout} or {@link maskedLayout}, `[batch, len, keyLength]`.
 * @param positionBias - `[maxLength]`.
 * @param timeBias - `[timeBuckets + 1]`.
 * @param keyLength - keys per sequence when they differ from the queries (Linformer's projected rows come first). Default `len`.
 */
export function batchedPointwiseAttention(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  values: tf.Tensor2D,
  layout: PointwiseAttentionLayout,
  positionBias: tf.Tensor1D,
  timeBias: tf.Tensor1D,
  batch: number,
  len: number,
  heads: number,
  recordWeights: boolean,
  keyLength: number = len,
): BatchedPointwiseAttention {
  // Split heads: [batch · len, heads · w] -> [batch · heads, len, w].
  const q = splitHeads(queries, batch, len, heads); // [batch · heads, len, dqk]
  const kTransposed = tf.transpose(splitHeads(keys, batch, keyLength, heads), [0, 2, 1]); // [batch · heads, dqk, keyLength]
  const v = splitHeads(values, batch, keyLength, heads); // [batch · heads, keyLength, dv]

  // Scores plus relative bias, SiLU, then the mask and 1/N (shared by the heads or one per head).
  const scores = batchMatMul(q, kTransposed); // [batch · heads, len, keyLength]
  const bias = relativeBias(layout, positionBias, timeBias, [batch, 1, len, keyLength]);
  const scaleHeads = layout.scale.length / (batch * len * keyLength);
  const scale = tf.tensor4d(layout.scale, [batch, scaleHeads, len, keyLength]);
  const perHead = tf.reshape(scores, [batch, heads, len, keyLength]);
  const attention = tf.reshape(tf.mul(silu(tf.add(perHead, bias)), scale), [batch * heads, len, keyLength]) as tf.Tensor3D;

  // Weighted sum of values, heads merged back.
  const output = mergeHeads(batchMatMul(attention, v), batch, len, heads); // [batch · len, heads · dv]
  return { output, weights: recordWeights ? (tf.abs(attention) as tf.Tensor3D) : null };
}

/**
 * Computes the point-wise attention of appended queries over cached keys followed by the appended keys.
 *
 * @param queries - `[count, dqk]`, already scaled by α.
 * @param keys - `[len + count, dqk]`.
 * @param values - `[len + count, dv]`.
 * @param layout - from {@link appendLayout}.
 * @returns `[count, dv]`.
 */
export function cachedPointwiseAttention(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  values: tf.Tensor2D,
  layout: PointwiseAttentionLayout,
  positionBias: tf.Tensor1D,
  timeBias: tf.Tensor1D,
): tf.Tensor2D {
  return matMul2d(cachedAttentionMatrix(queries, keys, layout, positionBias, timeBias), values);
}

/**
 * Computes {@link cachedPointwiseAttention} and also returns |A| `[count, len + count]`, the
 * weights that attention statistics read.
 */
export function cachedPointwiseAttentionWithWeights(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  values: tf.Tensor2D,
  layout: PointwiseAttentionLayout,
  positionBias: tf.Tensor1D,
  timeBias: tf.Tensor1D,
): { output: tf.Tensor2D; weights: tf.Tensor2D } {
  const attention = cachedAttentionMatrix(queries, keys, layout, positionBias, timeBias); // [count, len + count]
  return { output: matMul2d(attention, values), weights: tf.abs(attention) as tf.Tensor2D };
}

/** Computes A = SiLU(α·q·kᵀ + rab) · scale of appended queries, `[count, len + count]`. */
function cachedAttentionMatrix(queries: tf.Tensor2D, keys: tf.Tensor2D, layout: PointwiseAttentionLayout, positionBias: tf.Tensor1D, timeBias: tf.Tensor1D): tf.Tensor2D {
  const [count] = queries.shape;
  const width = keys.shape[0];
  const scores = matMul2d(queries, tf.transpose(keys)); // [count, len + count]
  const bias = relativeBias(layout, positionBias, timeBias, [count, width]);
  return tf.mul(silu(tf.add(scores, bias)), tf.tensor2d(layout.scale, [count, width])) as tf.Tensor2D;
}

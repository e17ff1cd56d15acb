import * as tf from '@tensorflow/tfjs';
import type { SeededRandom } from '../random';
import { batchMatMul, matMul2d } from './matmul';
import { BLOCKED, dropout } from './layers';

/**
 * Builds the additive attention bias of a padded batch: 0 where query `i` may attend to key `j`
 * (`j ≤ i`, causal, and key `j` is not padding), {@link BLOCKED} elsewhere. A padding query
 * whose keys are all blocked gets a uniform softmax over finite numbers, never NaN; its
 * output is zeroed by the caller.
 *
 * @param items - `[batch, len]` row-major item ids, 0 = padding (left or right).
 * @returns `[batch, len, len]` row-major.
 */
export function causalPaddingBias(items: Int32Array, batch: number, len: number): Float32Array {
  const bias = new Float32Array(batch * len * len); // [batch, len, len]
  for (let b = 0; b < batch; b++) {
    const row = b * len;
    for (let i = 0; i < len; i++) {
      const offset = (row + i) * len;
      for (let j = 0; j < len; j++) {
        bias[offset + j] = j <= i && items[row + j] !== 0 ? 0 : BLOCKED;
      }
    }
  }
  return bias;
}

/**
 * Builds the additive attention bias of `count` appended queries over `len` cached keys followed by the
 * appended keys: `log(weight)` for a cached key (a merged token of weight w counts as w
 * tokens in the softmax), causal among the appended keys.
 *
 * @param logWeights - `[len]` log of each cached token's weight, or `null` (all weights 1).
 * @returns `[count, len + count]` row-major.
 */
export function appendBias(logWeights: Float32Array | null, len: number, count: number): Float32Array {
  const width = len + count;
  const bias = new Float32Array(count * width); // [count, len + count]
  for (let i = 0; i < count; i++) {
    const offset = i * width;
    if (logWeights !== null) {
      bias.set(logWeights, offset);
    }
    for (let j = 0; j < count; j++) {
      bias[offset + len + j] = j <= i ? 0 : BLOCKED;
    }
  }
  return bias;
}

/** Output of {@link batchedSoftmaxAttention}. */
export interface BatchedAttention {
  /** Attention output with heads side by side, `[batch · len, heads · dHead]`. */
  output: tf.Tensor2D;
  /** Softmax weights before dropout, `[batch · heads, len, len]`; `null` unless requested. */
  probabilities: tf.Tensor3D | null;
}

/**
 * Computes scaled dot-product attention, softmax(q·kᵀ/√dHead + bias)·v (Vaswani et al., "Attention Is
 * All You Need", NeurIPS 2017, arXiv:1706.03762), for a padded batch with heads side by side
 * in the last axis. Products run as 2-D matrix products per batch entry (see `batchMatMul`).
 *
 * @param queries - `[batch · len, heads · dHead]`.
 * @param keys - `[batch · len, heads · dHead]`.
 * @param values - `[batch · len, heads · dHead]`.
 * @param bias - `[batch, len, len]` additive bias, shared by the heads.
 * @param dropoutRate - dropout on the attention weights (training only).
 * @param random - generator of the dropout mask; `null` at inference.
 * @param recordProbabilities - keep the softmax weights (for attention statistics).
 */
export function batchedSoftmaxAttention(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  values: tf.Tensor2D,
  bias: tf.Tensor3D,
  batch: number,
  len: number,
  heads: number,
  dropoutRate: number,
  random: SeededRandom | null,
  recordProbabilities: boolean,
): BatchedAttention {
  const width = queries.shape[1];
  const dHead = width / heads;

  // Split heads: [batch · len, heads · dHead] -> [batch · heads, len, dHead] (and kᵀ).
  const scaled = tf.mul(queries, 1 / Math.sqrt(dHead)) as tf.Tensor2D;
  const q = splitHeads(scaled, batch, len, heads); // [batch · heads, len, dHead]
  const v = splitHeads(values, batch, len, heads); // [batch · heads, len, dHead]
  const kTransposed = tf.transpose(splitHeads(keys, batch, len, heads), [0, 2, 1]); // [batch · heads, dHead, len]

  // Scores, bias and softmax.
  let scores = batchMatMul(q, kTransposed); // [batch · heads, len, len]
  if (heads === 1) {
    scores = tf.add(scores, bias);
  } else {
    const perHead = tf.add(tf.reshape(scores, [batch, heads, len, len]), tf.reshape(bias, [batch, 1, len, len]));
    scores = tf.reshape(perHead, [batch * heads, len, len]);
  }
  const probabilities = tf.softmax(scores); // [batch · heads, len, len]

  // Weighted sum of values, heads merged back.
  const weights = dropout(probabilities, dropoutRate, random);
  const perHeadOutput = batchMatMul(weights, v); // [batch · heads, len, dHead]
  return { output: mergeHeads(perHeadOutput, batch, len, heads), probabilities: recordProbabilities ? probabilities : null };
}

/**
 * Computes the softmax attention of appended queries over cached keys followed by the appended keys.
 *
 * @param queries - `[count, dHead]`, already scaled by 1/√dHead.
 * @param keys - `[len + count, dHead]`.
 * @param values - `[len + count, dHead]`.
 * @param bias - `[count, len + count]`, from {@link appendBias}.
 * @returns `[count, dHead]`.
 */
export function cachedSoftmaxAttention(queries: tf.Tensor2D, keys: tf.Tensor2D, values: tf.Tensor2D, bias: tf.Tensor2D): tf.Tensor2D {
  return cachedSoftmaxAttentionWithWeights(queries, keys, values, bias).output;
}

/**
 * Computes {@link cachedSoftmaxAttention} and also returns the softmax probabilities
 * `[count, len + count]`, which attention statistics read.
 */
export function cachedSoftmaxAttentionWithWeights(queries: tf.Tensor2D, keys: tf.Tensor2D, values: tf.Tensor2D, bias: tf.Tensor2D): { output: tf.Tensor2D; probabilities: tf.Tensor2D } {
  const scores = tf.add(matMul2d(queries, tf.transpose(keys)), bias) as tf.Tensor2D; // [count, len + count]
  const probabilities = tf.softmax(scores) as tf.Tensor2D; // [count, len + count]
  return { output: matMul2d(probabilities, values), probabilities };
}

/**
 * Moves heads from the last axis to the batch axis.
 *
 * @param x - `[batch · len, heads · width]`.
 * @returns `[batch · heads, len, width]`.
 */
export function splitHeads(x: tf.Tensor2D, batch: number, len: number, heads: number): tf.Tensor3D {
  const dHead = x.shape[1] / heads;
  if (heads === 1) {
    return tf.reshape(x, [batch, len, dHead]);
  }
  const perHead = tf.transpose(tf.reshape(x, [batch, len, heads, dHead]), [0, 2, 1, 3]); // [batch, heads, len, dHead]
  return tf.reshape(perHead, [batch * heads, len, dHead]);
}

/**
 * Moves heads from the batch axis back to the last axis.
 *
 * @param x - `[batch · heads, len, width]`.
 * @returns `[batch · len, heads · width]`.
 */
export function mergeHeads(x: tf.Tensor3D, batch: number, len: number, heads: number): tf.Tensor2D {
  const dHead = x.shape[2];
  if (heads === 1) {
    return tf.reshape(x, [batch * len, dHead]);
  }
  const perToken = tf.transpose(tf.reshape(x, [batch, heads, len, dHead]), [0, 2, 1, 3]); // [batch, len, heads, dHead]
  return tf.reshape(perToken, [batch * len, heads * dHead]);
}

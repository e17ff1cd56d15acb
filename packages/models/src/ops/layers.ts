import * as tf from '@tensorflow/tfjs';
import type { SeededRandom } from '../random';
import { matMul2d } from './matmul';

/** Additive attention bias of a blocked key: exp(-1e9 - max) is exactly 0 in float32. */
export const BLOCKED = -1e9;

/**
 * Computes the affine map `x · kernel + bias`.
 *
 * @param x - `[rows, dIn]`.
 * @param kernel - `[dIn, dOut]`.
 * @param bias - `[dOut]`.
 * @returns `[rows, dOut]`.
 */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.add(matMul2d(x, kernel), bias);
}

/**
 * Normalises each row over the last axis: `(x - mean) / sqrt(var + eps) · scale + shift`,
 * with the biased variance (layer normalisation, Ba, Kiros and Hinton, "Layer
 * Normalization", arXiv:1607.06450, 2016).
 *
 * @param x - `[rows, d]`.
 * @param scale - `[d]`, or `null` for no learned affine map (then `shift` must be `null` too).
 * @param shift - `[d]` or `null`.
 * @param epsilon - added to the variance.
 * @returns `[rows, d]`.
 */
export function layerNorm(x: tf.Tensor2D, scale: tf.Tensor1D | null, shift: tf.Tensor1D | null, epsilon: number): tf.Tensor2D {
  const width = x.shape[1];
  const mean = tf.mul(tf.sum(x, -1, true), 1 / width); // [rows, 1]
  const centred = tf.sub(x, mean); // [rows, d]
  const variance = tf.mul(tf.sum(tf.square(centred), -1, true), 1 / width); // [rows, 1]
  let y: tf.Tensor2D = tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon)));
  if (scale !== null) {
    y = tf.mul(y, scale);
  }
  if (shift !== null) {
    y = tf.add(y, shift);
  }
  return y;
}

/**
 * Scales each row to unit L2 norm: `x / max(‖x‖, eps)`, so that a zero row (the padding
 * embedding) stays zero instead of becoming NaN.
 *
 * @param x - `[rows, d]`.
 * @param epsilon - smallest norm divided by. Default 1e-6, as generative-recommenders uses.
 * @returns `[rows, d]`.
 */
export function l2Normalize(x: tf.Tensor2D, epsilon = 1e-6): tf.Tensor2D {
  const squaredNorm = tf.sum(tf.square(x), -1, true); // [rows, 1]
  return tf.mul(x, tf.rsqrt(tf.maximum(squaredNorm, epsilon * epsilon)));
}

/**
 * Applies inverted dropout with a mask drawn in JavaScript from a seeded generator: each element is
 * zeroed with probability `rate` and the rest are scaled by 1 / (1 - rate). Drawing the mask
 * in JavaScript makes it identical on every backend and avoids tf.randomUniform, which is
 * slow on wasm for large shapes.
 *
 * @param x - any shape.
 * @param rate - drop probability in [0, 1); 0 returns `x` itself.
 * @param random - generator for the mask; `null` disables dropout (inference).
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, random: SeededRandom | null): T {
  if (random === null || rate === 0) {
    return x;
  }
  return tf.mul(x, tf.tensor(dropoutMask(x.size, rate, random), x.shape, 'float32'));
}

/**
 * Draws the mask values of inverted dropout: 0 with probability `rate`, else 1 / (1 - rate).
 *
 * @returns `[size]`.
 */
export function dropoutMask(size: number, rate: number, random: SeededRandom): Float32Array {
  const keep = 1 / (1 - rate);
  const mask = new Float32Array(size); // [size]
  const threshold = Math.floor(rate * 0x100000000);
  for (let i = 0; i < size; i++) {
    mask[i] = random.nextUint32() < threshold ? 0 : keep;
  }
  return mask;
}

const logSumExpWithGradient = tf.customGrad(((x: tf.Tensor2D, save: (tensors: tf.Tensor[]) => void) => {
  // Shift by the row maximum for stability; the gradient is the softmax, so the maximum needs none.
  const rowMax = tf.max(x, -1, true); // [rows, 1]
  const shifted = tf.sub(x, rowMax);
  const value = tf.add(tf.log(tf.sum(tf.exp(shifted), -1)), tf.reshape(rowMax, [-1])) as tf.Tensor1D; // [rows]
  save([x]);
  return {
    value,
    gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) => tf.mul(tf.softmax(saved[0] as tf.Tensor2D), tf.reshape(dy, [-1, 1])),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * Computes the row-wise `log(Σ exp(x))` stably. Its gradient is the row softmax; tf.logSumExp's
 * own gradient goes through the gradient of tf.max, a broadcast equality test that took
 * longer than the rest of the loss on wasm.
 *
 * @param x - `[rows, cols]`.
 * @returns `[rows]`.
 */
export function logSumExp(x: tf.Tensor2D): tf.Tensor1D {
  return logSumExpWithGradient(x) as tf.Tensor1D;
}

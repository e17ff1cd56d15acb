import * as tf from '@tensorflow/tfjs';

/**
 * Splits a time-major tensor `[len, ...]` into its `len` steps, like `tf.unstack(x)`. One step
 * is a reshape instead, because the gradient of a one-output unstack fails in TensorFlow.js
 * 4.22: it passes that output's gradient to `tf.stack` as a tensor, not as an array.
 *
 * On wasm, `initBackend` installs an `Unpack` kernel that copies each step straight from the
 * heap, so the split costs one pass over `x`. Slicing step by step would cost the same forward
 * but, backward, one zero-padded gradient of the whole of `x` per step.
 *
 * @param x - `[len, ...]` with len ≥ 1.
 * @returns `len` tensors of shape `x.shape.slice(1)`.
 */
export function unstackSteps<T extends tf.Tensor>(x: tf.Tensor): T[] {
  return x.shape[0] === 1 ? [tf.reshape(x, x.shape.slice(1)) as T] : (tf.unstack(x) as T[]);
}

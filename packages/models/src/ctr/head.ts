import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import type { NamedVariable } from '../model/types';

/** Checkpoint name of the click head's weight vector. */
export const CTR_HEAD_KERNEL = 'ctr_head/kernel';

/** Checkpoint name of the click head's bias. */
export const CTR_HEAD_BIAS = 'ctr_head/bias';

/** Trainable tensors of the click head: logit = w · h + b. */
export interface CtrHeadWeights {
  /** Weight vector `w`, `[d]`. */
  kernel: tf.Variable;
  /** Bias `b`, `[1]`. */
  bias: tf.Variable;
}

/**
 * Creates the click head of a model of width `d`, initialised to zero, so an untrained head
 * gives every impression the logit 0 (probability 0.5). Zero is a safe start for a linear
 * logistic head, because the gradient of `w` is the hidden state, which is not zero.
 *
 * @returns the weights and the same tensors as a named list in checkpoint order.
 */
export function createCtrHeadWeights(d: number): { weights: CtrHeadWeights; variables: NamedVariable[] } {
  const kernel = tf.variable(tf.zeros([d], 'float32'), true);
  const bias = tf.variable(tf.zeros([1], 'float32'), true);
  return {
    weights: { kernel, bias },
    variables: [
      { name: CTR_HEAD_KERNEL, variable: kernel },
      { name: CTR_HEAD_BIAS, variable: bias },
    ],
  };
}

/**
 * Click logits of hidden states as a tensor (for training), `w · h_t + b` per row.
 *
 * @param hidden - `[n, d]`.
 * @returns `[n]`.
 */
export function clickLogitTensor(hidden: tf.Tensor2D, head: CtrHeadWeights): tf.Tensor1D {
  const d = hidden.shape[1];
  const weighted = tf.matMul(hidden, tf.reshape(head.kernel, [d, 1])); // [n, 1]
  return tf.add(tf.reshape(weighted, [-1]), head.bias) as tf.Tensor1D;
}

/**
 * Click logits of hidden states read back from the backend, accumulated in float64,
 * `w · h_t + b` per row.
 *
 * @param hidden - `[n, d]` row-major.
 * @param kernel - `[d]`.
 * @returns `[n]`.
 */
export function clickLogitsOf(hidden: Float32Array, kernel: Float32Array, bias: number): Float32Array {
  const d = kernel.length;
  const n = d === 0 ? 0 : hidden.length / d;
  const logits = new Float32Array(n); // [n]
  for (let row = 0; row < n; row++) {
    let sum = bias;
    for (let j = 0; j < d; j++) {
      sum += hidden[row * d + j] * kernel[j];
    }
    logits[row] = sum;
  }
  return logits;
}

/**
 * Adds the `ctrHead` flag to a resolved model configuration when it is on. The field is left
 * out when off, so configurations saved before the flag existed still compare equal.
 *
 * @throws TypeError when `flag` is neither a boolean nor undefined.
 */
export function withCtrHeadFlag<T extends object>(where: string, resolved: T, flag: unknown): T {
  if (flag !== undefined && typeof flag !== 'boolean') {
    throw new TypeError(invalidArgument(where, 'config.ctrHead', 'a boolean', String(flag)));
  }
  return flag === true ? { ...resolved, ctrHead: true } : resolved;
}

import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import { logSumExp } from '../ops/layers';
import { gatheredDot } from '../ops/gathered-dot';
import { matMul2d } from '../ops/matmul';
import type { TrainableModel } from '../model/types';
import type { SeededRandom } from '../random';

/** Training objective of a next-item model. */
export type LossName = 'sampled-softmax' | 'bce' | 'full-ce' | 'ctr-bce';

/**
 * Negative sampling of sampled softmax: `negatives` uniform items for every position with a
 * target, or one set of `negatives` items shared by every position of the batch.
 */
export type NegativeSampling = 'per-position' | 'shared';

/** Logit given to a sampled negative that equals the positive, so it drops out of the softmax. */
const COLLISION_LOGIT_BIAS = -5e4;

/** Inputs of a loss over the positions that have a target. */
export interface LossInputs {
  /** Hidden states of the positions with a target, `[tokens, d]`. */
  hidden: tf.Tensor2D;
  /** Target item of each position, `[tokens]`. */
  targets: Int32Array;
  /** Number of items; negatives are drawn from 1..itemCount. */
  itemCount: number;
  /** Logits are divided by it when the model L2-normalises embeddings. */
  temperature: number;
  /** Number of negatives of sampled softmax: per position, or for the whole batch (see `negativeSampling`). */
  negatives: number;
  random: SeededRandom;
  /**
   * Negatives drawn beforehand, used instead of drawing them from `random`: `[tokens · negatives]`
   * (position-major) for per-position `sampled-softmax`, `[negatives]` for shared
   * `sampled-softmax`, one per position `[tokens]` for `bce`. Data-parallel training draws them
   * once per batch and passes each shard its part, so the shards together use the negatives
   * that a single process would.
   */
  negativeIds?: Int32Array;
  /**
   * Negative sampling of `sampled-softmax`: `'per-position'` (the default, as
   * generative-recommenders' local sampler does) draws `negatives` for every position, and
   * `'shared'` draws one set for the whole batch.
   */
  negativeSampling?: NegativeSampling;
}

/**
 * Mean loss of the positions in `inputs`, as a scalar tensor that depends on the model's
 * variables (for `tf.variableGrads`).
 *
 * - `sampled-softmax`: softmax cross-entropy of the target against `negatives` items drawn
 *   uniformly with replacement, for every position (`negativeSampling: 'per-position'`, the
 *   default, as generative-recommenders does) or once for the whole batch (`'shared'`). A
 *   negative equal to the target gets -5e4 added to its logit, as generative-recommenders does.
 * - `bce`: binary cross-entropy of the target against one uniform negative per position
 *   that differs from the target (the SASRec paper's loss).
 * - `full-ce`: softmax cross-entropy over the whole catalogue (items 1..itemCount).
 *
 * The CTR loss `ctr-bce` does not go through this function: `trainModel` computes it from the
 * click head (see `ctrLossAndGradients`).
 *
 * @see Jiaqi Zhai et al., "Revisiting Neural Retrieval on Accelerators", KDD 2023, arXiv:2306.04039 (sampled softmax for retrieval).
 * @see Anton Klenitskiy and Alexey Vasilev, "Turning Dross Into Gold Loss: is BERT4Rec really better than SASRec?", RecSys 2023, arXiv:2309.07602.
 */
export function computeLoss(model: TrainableModel, loss: LossName, inputs: LossInputs): tf.Scalar {
  if (loss === 'ctr-bce') {
    throw new TypeError(invalidArgument('computeLoss', 'loss', "a next-item loss; 'ctr-bce' is computed by ctrLossAndGradients", `'${loss}'`));
  }
  const scale = model.normalizesEmbeddings ? 1 / inputs.temperature : 1;
  const positives = model.outputEmbeddings(tf.tensor1d(inputs.targets, 'int32')); // [tokens, d]
  const positiveLogits = tf.mul(tf.sum(tf.mul(inputs.hidden, positives), -1), scale) as tf.Tensor1D; // [tokens]
  const tokens = inputs.targets.length;

  if (loss === 'bce') {
    // One negative per position, redrawn while it equals the target.
    const negativeIds = inputs.negativeIds ?? drawPositionNegatives(inputs.targets, inputs.itemCount, inputs.random); // [tokens]
    checkNegativeCount(loss, negativeIds, tokens);
    const negatives = model.outputEmbeddings(tf.tensor1d(negativeIds, 'int32')); // [tokens, d]
    const negativeLogits = tf.mul(tf.sum(tf.mul(inputs.hidden, negatives), -1), scale);
    return tf.mean(tf.add(tf.softplus(tf.neg(positiveLogits)), tf.softplus(negativeLogits)));
  }

  if (loss === 'full-ce') {
    // Logits of every real item; the padding row is left out.
    const all = model.outputEmbeddings(tf.range(1, inputs.itemCount + 1, 1, 'int32') as tf.Tensor1D); // [nItems, d]
    const logits = tf.mul(matMul2d(inputs.hidden, tf.transpose(all)), scale) as tf.Tensor2D; // [tokens, nItems]
    return tf.mean(tf.sub(logSumExp(logits), positiveLogits));
  }

  // Sampled softmax of the target against its negatives. A negative equal to the target is pushed out.
  const count = inputs.negatives;
  const perPosition = (inputs.negativeSampling ?? 'per-position') === 'per-position';
  const negativeIds = inputs.negativeIds ?? (perPosition ? drawPerPositionNegatives(tokens, count, inputs.itemCount, inputs.random) : drawSharedNegatives(count, inputs.itemCount, inputs.random));
  checkNegativeCount(loss, negativeIds, perPosition ? tokens * count : count);
  const collisions = new Float32Array(tokens * count); // [tokens, negatives]
  for (let i = 0; i < tokens; i++) {
    for (let j = 0; j < count; j++) {
      if (negativeIds[perPosition ? i * count + j : j] === inputs.targets[i]) {
        collisions[i * count + j] = COLLISION_LOGIT_BIAS;
      }
    }
  }
  const negativeLogits = perPosition ? perPositionLogits(model, inputs.hidden, negativeIds, count, inputs.itemCount) : sharedLogits(model, inputs.hidden, negativeIds); // [tokens, negatives]
  const logits = tf.concat([tf.reshape(positiveLogits, [tokens, 1]), tf.add(tf.mul(negativeLogits, scale), tf.tensor2d(collisions, [tokens, count]))], 1) as tf.Tensor2D; // [tokens, 1 + negatives]
  return tf.mean(tf.sub(logSumExp(logits), positiveLogits));
}

/**
 * Logits of per-position negatives: every position against its own `count` items, read from
 * the scoring table of the whole catalogue (one normalisation of `itemCount + 1` rows instead
 * of one per drawn item).
 *
 * @param hidden - `[tokens, d]`.
 * @param negativeIds - `[tokens · count]`, position-major.
 * @returns `[tokens, count]`, before the temperature.
 */
function perPositionLogits(model: TrainableModel, hidden: tf.Tensor2D, negativeIds: Int32Array, count: number, itemCount: number): tf.Tensor2D {
  const table = model.outputEmbeddings(tf.range(0, itemCount + 1, 1, 'int32') as tf.Tensor1D); // [itemCount + 1, d]
  return gatheredDot(hidden, table, negativeIds, count);
}

/**
 * Logits of negatives shared by the batch.
 *
 * @param hidden - `[tokens, d]`.
 * @param negativeIds - `[negatives]`.
 * @returns `[tokens, negatives]`, before the temperature.
 */
function sharedLogits(model: TrainableModel, hidden: tf.Tensor2D, negativeIds: Int32Array): tf.Tensor2D {
  const negatives = model.outputEmbeddings(tf.tensor1d(negativeIds, 'int32')); // [negatives, d]
  return matMul2d(hidden, tf.transpose(negatives));
}

/**
 * Draws the per-position negatives of `sampled-softmax`: `count` ids uniform in 1..itemCount,
 * with replacement, for each of `tokens` positions, as generative-recommenders'
 * `LocalNegativesSampler` does.
 *
 * @returns `[tokens · count]`, position-major.
 */
export function drawPerPositionNegatives(tokens: number, count: number, itemCount: number, random: SeededRandom): Int32Array {
  const negativeIds = new Int32Array(tokens * count); // [tokens, count]
  for (let i = 0; i < negativeIds.length; i++) {
    negativeIds[i] = 1 + random.nextInt(itemCount);
  }
  return negativeIds;
}

/**
 * Draws the shared negatives of `sampled-softmax`: `count` ids uniform in 1..itemCount, with
 * replacement, shared by every position of a batch.
 *
 * @returns `[count]`.
 */
export function drawSharedNegatives(count: number, itemCount: number, random: SeededRandom): Int32Array {
  const negativeIds = new Int32Array(count); // [count]
  for (let i = 0; i < count; i++) {
    negativeIds[i] = 1 + random.nextInt(itemCount);
  }
  return negativeIds;
}

/**
 * Draws the negatives of `bce`: for each target, one id uniform in 1..itemCount that differs
 * from it, in the order of `targets`.
 *
 * @param targets - `[tokens]`.
 * @returns `[tokens]`.
 */
export function drawPositionNegatives(targets: Int32Array, itemCount: number, random: SeededRandom): Int32Array {
  const negativeIds = new Int32Array(targets.length); // [tokens]
  for (let i = 0; i < targets.length; i++) {
    negativeIds[i] = drawOtherThan(targets[i], itemCount, random);
  }
  return negativeIds;
}

/** Throws when negatives drawn beforehand do not have the length that the loss reads. */
function checkNegativeCount(loss: LossName, negativeIds: Int32Array, expected: number): void {
  if (negativeIds.length !== expected) {
    throw new RangeError(invalidArgument('computeLoss', 'inputs.negativeIds', `${expected} ids for the '${loss}' loss`, `${negativeIds.length}`));
  }
}

/** Uniform id in 1..itemCount other than `excluded` (any id when the catalogue has one item). */
function drawOtherThan(excluded: number, itemCount: number, random: SeededRandom): number {
  if (itemCount < 2) {
    return 1;
  }
  let id = excluded;
  while (id === excluded) {
    id = 1 + random.nextInt(itemCount);
  }
  return id;
}

import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import type { TrainableModel } from '../model/types';
import type { SeededRandom } from '../random';
import type { TrainingBatch, TrainingData } from '../training/data';
import type { AdamW } from '../training/optimizer';

/** A right-padded training batch of the CTR task, with the click label of every input position. */
export interface CtrTrainingBatch extends TrainingBatch {
  /** Click label (0 or 1) of each position with a target, aligned with `rows`, `[tokens]`. */
  readonly labels: Float32Array;
}

/**
 * Checks what the `'ctr-bce'` loss needs: a click head on the model and one 0/1 label per
 * interaction in `data.labels`.
 *
 * @throws TypeError when the model has no click head or the labels are missing.
 * @throws RangeError when the labels do not match the items or a label is not 0 or 1.
 */
export function validateCtrTraining(where: string, model: TrainableModel, data: TrainingData): void {
  if (model.config.ctrHead !== true) {
    throw new TypeError(invalidArgument(where, 'model', "a model created with config.ctrHead = true for the 'ctr-bce' loss", 'a model without a click head'));
  }
  const labels = data.labels;
  if (!(labels instanceof Uint8Array)) {
    throw new TypeError(invalidArgument(where, 'data.labels', "a Uint8Array of 0/1 click labels for the 'ctr-bce' loss", labels === undefined ? 'none' : typeof labels));
  }
  if (labels.length !== data.items.length) {
    throw new RangeError(invalidArgument(where, 'data.labels', `one label per item (${data.items.length})`, `${labels.length} labels`));
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] > 1) {
      throw new RangeError(invalidArgument(where, 'data.labels', 'labels 0 or 1', `${labels[i]} at index ${i}`));
    }
  }
}

/** Users with at least one labelled training position, `trainEnd ≥ 1`. */
export function ctrTrainableUsers(data: TrainingData): Int32Array {
  const users: number[] = [];
  for (let user = 0; user < data.trainEnd.length; user++) {
    if (data.trainEnd[user] >= 1) {
      users.push(user);
    }
  }
  return Int32Array.from(users);
}

/**
 * Builds a CTR training batch: for each user the inputs are the newest `maxLength` items of
 * `items[0 .. trainEnd)`, and every input position is a target with its own click label.
 * The hidden state of position t attends only to items ≤ t, so it is target-aware for item t.
 *
 * @param users - `[batch]` user indices, each with `trainEnd ≥ 1`.
 */
export function buildCtrBatch(data: TrainingData, users: Int32Array, maxLength: number): CtrTrainingBatch {
  const labels = data.labels as Uint8Array;

  // Width of the batch: the longest input among its users.
  let len = 0;
  for (const user of users) {
    len = Math.max(len, Math.min(data.trainEnd[user], maxLength));
  }

  // Right-pad each user's window. Positions count from 0 at the first kept input.
  const items = new Int32Array(users.length * len); // [batch, len]
  const positions = new Int32Array(users.length * len); // [batch, len]
  const targets = new Int32Array(users.length * len); // [batch, len]
  const timestamps = data.timestamps === undefined ? null : new Float64Array(users.length * len); // [batch, len]
  const rows: number[] = [];
  const rowLabels: number[] = [];
  users.forEach((user, row) => {
    const length = Math.min(data.trainEnd[user], maxLength);
    const first = data.offsets[user] + data.trainEnd[user] - length;
    for (let i = 0; i < length; i++) {
      const flat = row * len + i;
      items[flat] = data.items[first + i];
      targets[flat] = data.items[first + i];
      positions[flat] = i;
      if (timestamps !== null && data.timestamps !== undefined) {
        timestamps[flat] = data.timestamps[first + i];
      }
      rows.push(flat);
      rowLabels.push(labels[first + i]);
    }
  });
  return { encoder: { batch: users.length, len, items, positions, timestamps }, targets, rows: Int32Array.from(rows), labels: Float32Array.from(rowLabels) };
}

/**
 * Mean binary cross-entropy of click logits z against labels y, in the stable form
 * `softplus(z) − y · z` (equal to `−y·ln σ(z) − (1 − y)·ln(1 − σ(z))`).
 *
 * @param logits - `[tokens]`.
 * @param labels - `[tokens]`, 0 or 1.
 */
export function clickBinaryCrossEntropy(logits: tf.Tensor1D, labels: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.sub(tf.softplus(logits), tf.mul(labels, logits)));
}

/**
 * Computes the `'ctr-bce'` loss of a batch (one causal pass per sequence, every real position
 * a target) and its gradient with respect to every variable of the model.
 *
 * @returns the loss (scalar) and one gradient per variable in `model.variables` order; the caller disposes them.
 */
export function ctrLossAndGradients(model: TrainableModel, batch: CtrTrainingBatch, random: SeededRandom | null): { loss: tf.Scalar; gradients: tf.Tensor[] } {
  const variables = model.variables.map((entry) => entry.variable);
  const { value, grads } = tf.variableGrads(() => {
    const hidden = model.encodeBatch(batch.encoder, random); // [batch · len, d]
    const rows = tf.gather(hidden, tf.tensor1d(batch.rows, 'int32')) as tf.Tensor2D; // [tokens, d]
    return clickBinaryCrossEntropy(model.clickLogitTensor(rows), tf.tensor1d(batch.labels));
  }, variables);
  return { loss: value, gradients: variables.map((variable) => grads[variable.name] ?? tf.zerosLike(variable)) };
}

/**
 * Runs one optimisation step of the `'ctr-bce'` loss on a batch.
 *
 * @returns the batch's mean loss.
 */
export function ctrTrainStep(model: TrainableModel, optimizer: AdamW, batch: CtrTrainingBatch, random: SeededRandom): number {
  const { loss, gradients } = ctrLossAndGradients(model, batch, random);
  optimizer.apply(gradients);
  model.weightsChanged();
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

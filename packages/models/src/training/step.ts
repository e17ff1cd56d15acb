import * as tf from '@tensorflow/tfjs';
import type { TrainableModel } from '../model/types';
import type { SeededRandom } from '../random';
import type { TrainingBatch } from './data';
import { computeLoss, type LossName, type NegativeSampling } from './losses';
import type { AdamW } from './optimizer';

/** Loss settings of one training step. */
export interface StepSettings {
  loss: LossName;
  negatives: number;
  temperature: number;
  /** Negative sampling of sampled softmax; unset means `'per-position'`. */
  negativeSampling?: NegativeSampling;
}

/**
 * Computes the loss of a batch and its gradient with respect to every variable of the model.
 * Only positions with a target enter the loss, so padding (on either side) never reaches a
 * log or a division.
 *
 * @param negativeIds - negatives drawn beforehand (see `LossInputs.negativeIds`); drawn from `random` when unset.
 * @returns the loss (scalar) and one gradient per variable in `model.variables` order; the caller disposes them.
 */
export function lossAndGradients(
  model: TrainableModel,
  batch: TrainingBatch,
  settings: StepSettings,
  random: SeededRandom,
  negativeIds?: Int32Array,
): { loss: tf.Scalar; gradients: tf.Tensor[] } {
  const variables = model.variables.map((entry) => entry.variable);
  const targets = new Int32Array(batch.rows.length); // [tokens]
  for (let i = 0; i < targets.length; i++) {
    targets[i] = batch.targets[batch.rows[i]];
  }
  const { value, grads } = tf.variableGrads(() => {
    const hidden = model.encodeBatch(batch.encoder, random); // [batch · len, d]
    const rows = tf.gather(hidden, tf.tensor1d(batch.rows, 'int32')) as tf.Tensor2D; // [tokens, d]
    return computeLoss(model, settings.loss, {
      hidden: rows,
      targets,
      itemCount: model.config.itemCount,
      temperature: settings.temperature,
      negatives: settings.negatives,
      random,
      negativeIds,
      negativeSampling: settings.negativeSampling,
    });
  }, variables);
  // A variable that the loss does not read (the click head under a next-item loss) gets a zero gradient.
  return { loss: value, gradients: variables.map((variable) => grads[variable.name] ?? tf.zerosLike(variable)) };
}

/**
 * Runs one optimisation step on a batch.
 *
 * @returns the batch's mean loss.
 */
export function trainStep(model: TrainableModel, optimizer: AdamW, batch: TrainingBatch, settings: StepSettings, random: SeededRandom): number {
  const { loss, gradients } = lossAndGradients(model, batch, settings, random);
  optimizer.apply(gradients);
  model.weightsChanged();
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

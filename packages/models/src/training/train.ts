import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { silentLogger, type Logger } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { loadTrainingState, saveCheckpoint, saveTrainingState, type TrainingState } from '../checkpoint/checkpoint';
import { earlyStopped, epochFinished, invalidArgument, nonFiniteLoss, trainingResumed, workersExceedCores } from '../messages';
import type { BackendName } from '../backend/backend';
import { isTrainableModel, type SequentialModel, type TrainableModel } from '../model/types';
import { deriveSeed, SeededRandom } from '../random';
import { buildCtrBatch, ctrTrainableUsers, ctrTrainStep, validateCtrTraining } from '../ctr/training';
import { buildTrainingBatch, planEpoch, trainableUsers, validateTrainingData, type TrainingData } from './data';
import { fingerprintTrainingData } from './fingerprint';
import type { LossName, NegativeSampling } from './losses';
import { AdamW } from './optimizer';
import { trainStep, type StepSettings } from './step';
import { ReplicaPool } from '../parallel/pool';
import { runParallelEpoch } from '../parallel/parallel-step';

/** Progress of a training run, reported after every step. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Mean loss of this step's batch. */
  loss: number;
}

/** Settings of {@link trainModel}. */
export interface TrainOptions {
  /**
   * Number of passes over the training users.
   * @minimum 1
   */
  epochs: number;
  /**
   * Users per batch. The reference configurations use 128; on 2 CPU cores 32 reached the same
   * accuracy in fewer seconds, because steps of either size process about the same tokens per
   * second and smaller batches take more steps per epoch.
   * @minimum 1
   */
  batchSize: number;
  /**
   * AdamW learning rate. Typical value: 1e-3
   * @minimum 0
   */
  learningRate: number;
  /** Training objective, see `computeLoss`. `'ctr-bce'` trains the click head on `data.labels` (see `ctrLossAndGradients`). */
  loss: LossName;
  /**
   * Negatives of sampled softmax, per position or per batch (see `negativeSampling`). Typical value: 128
   * @minimum 1
   */
  negatives: number;
  /**
   * Negative sampling of sampled softmax (see `NegativeSampling`). `'per-position'`, the
   * default, draws `negatives` items for every position as generative-recommenders does.
   * `'shared'` draws one set per batch, which is cheaper per step but trains far more slowly:
   * on ML-1M, validation NDCG@10 was 0.008 with it against 0.082 after 6 epochs (BENCHMARKS.md).
   */
  negativeSampling?: NegativeSampling;
  /**
   * Softmax temperature applied to cosine logits when the model L2-normalises embeddings.
   * Typical value: 0.05
   */
  temperature: number;
  /**
   * AdamW decoupled weight decay.
   * @minimum 0
   */
  weightDecay: number;
  /** Seed of batching, dropout and negative sampling. */
  seed: number;
  /** Called after each epoch; returns the validation score to maximise (for example ndcg@10). Used only for model selection and early stopping. */
  validate?: (model: SequentialModel, epoch: number) => Promise<number> | number;
  /**
   * Epochs without validation improvement before stopping; no early stopping when unset.
   * @minimum 1
   */
  patience?: number;
  /** When set: the training state is saved there after every epoch, and a run resumes from it. */
  checkpointDir?: string;
  /**
   * Batches sorted by length together: users are shuffled, taken in groups of
   * `bucketBatches · batchSize`, sorted by length within a group and cut into batches.
   * 1 turns bucketing off. Default value: 16
   * @minimum 1
   */
  bucketBatches?: number;
  /**
   * Replicas of the model that train in parallel, each on a share of every batch. 1 runs
   * the single-threaded step. N > 1 starts N − 1 worker threads (`node:worker_threads`),
   * each with its own TensorFlow.js backend, and the main thread is the first replica. Each
   * batch is split by rows, each replica computes its shard's loss and gradients, and the
   * main thread sums them, applies AdamW and shares the new weights. Without dropout a step
   * equals the single-process step up to float rounding. With dropout, each shard draws its
   * own masks, so a run is repeatable for a given seed and number of workers only. Runs on
   * the wasm and cpu backends. Default value: 1
   * @minimum 1
   */
  workers?: number;
  logger?: Logger;
  onProgress?: (progress: TrainProgress) => void;
}

/** One finished epoch. */
export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's positions. */
  loss: number;
  seconds: number;
  /** Input positions (with a target) processed per second. */
  tokensPerSecond: number;
  validation: number | null;
}

/** Outcome of {@link trainModel}. */
export interface TrainResult {
  epochs: EpochRecord[];
  /** Epoch whose weights the model has at the end: the best validated one, or the last. */
  bestEpoch: number;
  bestValidation: number | null;
  /** Wall-clock seconds of this call (resumed epochs are not counted). */
  seconds: number;
}

/**
 * Trains a model of this package on next-item prediction: every position of a user's
 * training window predicts the item that follows it.
 *
 * Each epoch shuffles the users, groups them into batches of similar length (right-padded,
 * see `bucketBatches`) and runs one AdamW step per batch. A user's window is the newest
 * `maxLength` inputs of `items[0 .. trainEnd)`. After each epoch `validate` is called. The
 * weights of the best epoch are kept and restored at the end, and training stops after
 * `patience` epochs without improvement. With `checkpointDir`, the model, the optimizer
 * state and the epoch records are saved atomically after every epoch. A later call with the
 * same directory, model configuration, options and data continues after the last saved
 * epoch and ends with the same weights as an uninterrupted run. With `workers` > 1 the
 * batches are computed by several threads (see {@link TrainOptions.workers}), and every
 * thread is terminated before this function returns or throws.
 *
 * @param model - a model created by this package (SASRec or HSTU).
 * @param data - users' sequences; ids must be in 1..model.config.itemCount.
 * @throws TypeError when the model was not created by this package.
 * @throws RangeError naming an invalid option or data field.
 * @throws Error when the loss becomes NaN or infinite, or a checkpoint in `checkpointDir` does not match.
 * @example
 * const result = await trainModel(model, data, {
 *   epochs: 30, batchSize: 128, learningRate: 1e-3, loss: 'sampled-softmax',
 *   negatives: 128, temperature: 0.05, weightDecay: 0, seed: 1,
 * });
 */
export async function trainModel(model: SequentialModel, data: TrainingData, options: TrainOptions): Promise<TrainResult> {
  // Validate the model, the options and the data.
  if (!isTrainableModel(model)) {
    throw new TypeError(invalidArgument('trainModel', 'model', 'a model created by @malloc/models', typeof model));
  }
  validateOptions(options);
  validateTrainingData('trainModel', data, model.config.itemCount);
  if (options.loss === 'ctr-bce') {
    validateCtrTraining('trainModel', model, data);
  }
  const logger = options.logger ?? silentLogger;
  const started = performance.now();
  const users = options.loss === 'ctr-bce' ? ctrTrainableUsers(data) : trainableUsers(data);
  const maxLength = model.config.maxLength;
  const settings = { loss: options.loss, negatives: options.negatives, temperature: options.temperature, negativeSampling: options.negativeSampling };
  const optimizer = new AdamW(model.variables, { learningRate: options.learningRate, weightDecay: options.weightDecay });
  const fingerprint = fingerprintTrainingData(data);

  let state: TrainingState = { epochs: [], bestEpoch: 0, bestValidation: null, sinceImprovement: 0 };
  let bestWeights: Float32Array[] | null = null;
  let pool: ReplicaPool | null = null;
  try {
    // Resume from a checkpoint when one exists.
    if (options.checkpointDir !== undefined) {
      const resumed = await loadTrainingState(options.checkpointDir, model, optimizer, fingerprint, resumeKey(options), savedDefaultsOf(options));
      if (resumed !== null) {
        state = resumed.state;
        bestWeights = resumed.bestWeights;
        logger.info(trainingResumed(options.checkpointDir, state.epochs.length));
      }
    }

    // Start the worker threads of data-parallel training, with the (possibly resumed) weights.
    const workers = options.workers ?? 1;
    if (workers > 1 && state.epochs.length < options.epochs) {
      if (workers > availableParallelism()) {
        logger.warn(workersExceedCores(workers, availableParallelism()));
      }
      pool = await ReplicaPool.start(model, { threads: workers - 1, backend: tf.getBackend() as BackendName });
    }

    for (let epoch = state.epochs.length + 1; epoch <= options.epochs; epoch++) {
      // Stop early when validation has not improved for `patience` epochs.
      if (options.patience !== undefined && state.sinceImprovement >= options.patience) {
        logger.info(earlyStopped(epoch - 1, state.bestEpoch, options.patience));
        break;
      }

      // One pass over the users.
      const record = pool === null ? runEpoch(model, optimizer, data, users, maxLength, settings, options, epoch) : await runParallelEpoch(model, optimizer, pool, data, users, settings, options, epoch);

      // Validate and keep the best weights.
      if (options.validate !== undefined) {
        record.validation = await options.validate(model, epoch);
        if (state.bestValidation === null || record.validation > state.bestValidation) {
          state.bestValidation = record.validation;
          state.bestEpoch = epoch;
          state.sinceImprovement = 0;
          bestWeights = snapshotWeights(model);
        } else {
          state.sinceImprovement += 1;
        }
      } else {
        state.bestEpoch = epoch;
      }
      state.epochs.push(record);
      logger.info(epochFinished(epoch, options.epochs, record.loss, record.seconds, record.tokensPerSecond, record.validation));

      // Save the state after every epoch.
      if (options.checkpointDir !== undefined) {
        await saveTrainingState(options.checkpointDir, model, optimizer, state, bestWeights, fingerprint, resumeKey(options));
      }
    }

    // Hand back the best validated weights.
    if (bestWeights !== null && state.bestEpoch !== state.epochs.length) {
      restoreWeights(model, bestWeights);
    }
    if (options.checkpointDir !== undefined && state.epochs.length > 0) {
      await saveCheckpoint(model, path.join(options.checkpointDir, 'best'), { dataFingerprint: fingerprint, epoch: state.bestEpoch, validation: state.bestValidation });
    }
  } finally {
    optimizer.dispose();
    await pool?.close();
  }
  return { epochs: state.epochs, bestEpoch: state.bestEpoch, bestValidation: state.bestValidation, seconds: (performance.now() - started) / 1000 };
}

/** Runs one epoch of steps and returns its record (without validation). */
function runEpoch(
  model: TrainableModel,
  optimizer: AdamW,
  data: TrainingData,
  users: Int32Array,
  maxLength: number,
  settings: StepSettings,
  options: TrainOptions,
  epoch: number,
): EpochRecord {
  const started = performance.now();
  const planRandom = new SeededRandom(deriveSeed(options.seed, epoch, 0));
  const batches = planEpoch(data, users, maxLength, options.batchSize, options.bucketBatches ?? 16, planRandom);
  let lossSum = 0;
  let tokens = 0;
  batches.forEach((batchUsers, step) => {
    const ctrBatch = options.loss === 'ctr-bce' ? buildCtrBatch(data, batchUsers, maxLength) : null;
    const batch = ctrBatch ?? buildTrainingBatch(data, batchUsers, maxLength);
    const random = new SeededRandom(deriveSeed(options.seed, epoch, step + 1));
    const loss = ctrBatch === null ? trainStep(model, optimizer, batch, settings, random) : ctrTrainStep(model, optimizer, ctrBatch, random);
    if (!Number.isFinite(loss)) {
      throw new Error(nonFiniteLoss(epoch, step + 1, loss));
    }
    lossSum += loss * batch.rows.length;
    tokens += batch.rows.length;
    options.onProgress?.({ epoch, epochs: options.epochs, step: step + 1, steps: batches.length, loss });
  });
  const seconds = (performance.now() - started) / 1000;
  return { epoch, loss: tokens === 0 ? 0 : lossSum / tokens, seconds, tokensPerSecond: seconds === 0 ? 0 : tokens / seconds, validation: null };
}

/** Options that must match for a run to resume from a checkpoint. */
function resumeKey(options: TrainOptions): Record<string, unknown> {
  return {
    batchSize: options.batchSize,
    learningRate: options.learningRate,
    loss: options.loss,
    negatives: options.negatives,
    temperature: options.temperature,
    weightDecay: options.weightDecay,
    seed: options.seed,
    ...(options.loss === 'sampled-softmax' ? { negativeSampling: options.negativeSampling ?? 'per-position' } : {}),
    bucketBatches: options.bucketBatches ?? 16,
    // Present only above 1, so that checkpoints written before the option existed still match.
    ...((options.workers ?? 1) > 1 ? { workers: options.workers } : {}),
  };
}

/** Resume options that checkpoints from before the option existed lack, with the value those trainings used. */
function savedDefaultsOf(options: TrainOptions): Record<string, unknown> {
  // Sampled softmax shared its negatives until per-position sampling became an option.
  return options.loss === 'sampled-softmax' ? { negativeSampling: 'shared' } : {};
}

function snapshotWeights(model: TrainableModel): Float32Array[] {
  return model.variables.map((entry) => entry.variable.dataSync() as Float32Array);
}

function restoreWeights(model: TrainableModel, weights: readonly Float32Array[]): void {
  tf.tidy(() => {
    model.variables.forEach((entry, index) => entry.variable.assign(tf.tensor(weights[index], entry.variable.shape)));
  });
  model.weightsChanged();
}

function validateOptions(options: TrainOptions): void {
  const integer = (name: keyof TrainOptions, minimum: number): void => {
    const value = options[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
      throw new RangeError(invalidArgument('trainModel', `options.${name}`, `an integer ≥ ${minimum}`, String(value)));
    }
  };
  const positive = (name: keyof TrainOptions, allowZero: boolean): void => {
    const value = options[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
      throw new RangeError(invalidArgument('trainModel', `options.${name}`, allowZero ? 'a finite number ≥ 0' : 'a finite number > 0', String(value)));
    }
  };
  integer('epochs', 1);
  integer('batchSize', 1);
  integer('negatives', 1);
  positive('learningRate', false);
  positive('temperature', false);
  positive('weightDecay', true);
  if (!Number.isFinite(options.seed)) {
    throw new RangeError(invalidArgument('trainModel', 'options.seed', 'a finite number', String(options.seed)));
  }
  if (!['sampled-softmax', 'bce', 'full-ce', 'ctr-bce'].includes(options.loss)) {
    throw new RangeError(invalidArgument('trainModel', 'options.loss', "'sampled-softmax', 'bce', 'full-ce' or 'ctr-bce'", `'${String(options.loss)}'`));
  }
  if (options.patience !== undefined) {
    integer('patience', 1);
  }
  if (options.negativeSampling !== undefined && !['per-position', 'shared'].includes(options.negativeSampling)) {
    throw new RangeError(invalidArgument('trainModel', 'options.negativeSampling', "'per-position' or 'shared'", `'${String(options.negativeSampling)}'`));
  }
  if (options.bucketBatches !== undefined) {
    integer('bucketBatches', 1);
  }
  if (options.workers !== undefined) {
    integer('workers', 1);
    const backend = tf.getBackend();
    if (options.workers > 1 && backend !== 'wasm' && backend !== 'cpu') {
      throw new RangeError(invalidArgument('trainModel', 'options.workers', `1 on the ${backend} backend (worker threads run on the wasm and cpu backends)`, String(options.workers)));
    }
  }
}


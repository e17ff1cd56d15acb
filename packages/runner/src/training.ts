import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LeaveOneOutSplit, SequenceDataset } from '@malloc/data';
import { RankingAccumulator } from '@malloc/metrics';
import { createGru4Rec, createHstu, createRwkv, createSasRec, loadCheckpoint, saveCheckpoint, trainModel, type SequentialModel, type TrainProgress, type TrainResult } from '@malloc/models';
import type { RunConfig } from './config';
import { ctrValidationAuc, type ClickLabels, type CtrSplit } from './evaluate-ctr';
import type { Logger } from './logger';
import { RunInterruptedError } from './interrupt';
import { trainingInterrupted, trainingStarted, unknownModel } from './messages';
import { adoptTrainingState, findBudgetVariant, writeTrainingKey, type TrainingKeyInputs } from './budget-variant';
import { modelRowLabel } from './model-variants';
import { hashJson } from './provenance';
import { canonicalTraining } from './trained-settings';
import { seededSample } from './sampling';
import { trainingEnd } from './train-on-validation';
import { heldOutRanks } from './held-out-ranks';

/** Model ids the runner can train. */
export const MODEL_IDS: readonly string[] = ['sasrec', 'hstu', 'gru4rec', 'rwkv'];

/**
 * Model ids whose cache is a constant-size recurrent state (one state token per layer), so
 * that token, head and precision strategies have nothing to compress in it.
 */
export const RECURRENT_MODEL_IDS: readonly string[] = ['gru4rec', 'rwkv'];

/** Strategies that a recurrent model accepts: the uncompressed state and the recompute reference. */
export const RECURRENT_STRATEGIES: readonly string[] = ['full', 'recompute'];

/**
 * Creates an untrained model of the run's size. HSTU's per-head query/key and value widths
 * are d / heads, as in the public HSTU configs (ML-1M: d = 50, 1 head, dqk = dv = 50).
 * GRU4Rec and RWKV read `maxLength`, `hiddenSize`, `layers` and `dropout`, and ignore the
 * attention fields (`heads`, `kvHeads`, `kvLatentSize`).
 */
export function createModel(modelId: string, config: RunConfig, itemCount: number, seed: number): SequentialModel {
  if (modelId === 'gru4rec' || modelId === 'rwkv') {
    const { maxLength, hiddenSize, layers, dropout } = config.model;
    const create = modelId === 'gru4rec' ? createGru4Rec : createRwkv;
    return create({ itemCount, maxLength, hiddenSize, layers, dropout, ...ctrHeadOf(config) }, seed);
  }
  if (modelId === 'hstu') {
    const headWidth = Math.max(1, Math.floor(config.model.hiddenSize / config.model.heads));
    return createHstu({ itemCount, ...config.model, ...ctrHeadOf(config), queryKeySize: headWidth, valueSize: headWidth }, seed);
  }
  return createSasRec({ itemCount, ...config.model, ...ctrHeadOf(config) }, seed);
}

/** Returns the model configuration field of the click head: on for `task: 'ctr'`, absent otherwise. */
function ctrHeadOf(config: RunConfig): { ctrHead?: true } {
  return config.task === 'ctr' ? { ctrHead: true } : {};
}

/**
 * Inputs of CTR training besides the run configuration: the click labels and the CTR split.
 * The model then has a click head, trains with the `'ctr-bce'` loss on the interactions before
 * the validation and test impressions, and is selected by AUC on the validation impressions.
 */
export interface CtrTrainingPlan {
  labels: ClickLabels;
  split: CtrSplit;
}

/** Summary of the model behind a row: its checkpoint and how it was trained. */
export interface TrainingSummary {
  checkpoint: string;
  reused: boolean;
  epochsRun: number;
  bestEpoch: number | null;
  bestValidation: number | null;
  seconds: number;
  lastTokensPerSecond: number | null;
}

/** Optional callbacks of {@link obtainTrainedModel}. */
export interface TrainingHooks {
  /** Polled after each training step; when it returns true, training stops with a RunInterruptedError. */
  shouldStop?: () => boolean;
  /** Called after each training step. */
  onProgress?: (progress: TrainProgress) => void;
}

/** SHA-256 over a dataset's sequences: changes whenever the processed data changes. */
export function datasetFingerprint(dataset: SequenceDataset): string {
  return hashJson({
    name: dataset.name,
    users: dataset.userCount,
    items: dataset.itemCount,
    offsets: Buffer.from(dataset.offsets.buffer, dataset.offsets.byteOffset, dataset.offsets.byteLength).toString('base64'),
    sequence: Buffer.from(dataset.items.buffer, dataset.items.byteOffset, dataset.items.byteLength).toString('base64'),
  });
}

/**
 * Computes the key of a trained model's checkpoint folder: a hash of everything that changes
 * the trained weights. `training.negativeSampling` enters as `canonicalTraining` writes it,
 * so that `'shared'` keeps the keys of checkpoints written before the option existed.
 *
 * With `training.validationUsers` set, `evaluation.sampleSeed` picks the validation users that
 * select the epoch, so a seed other than the default 0 enters the key as
 * `validationSampleSeed`. With seed 0, `validationUsers: null` or `trainOnValidation` (which
 * validates nothing) it is left out, so checkpoints written before the field existed keep
 * their keys.
 *
 * @param ctrKey - the CTR task's settings that change the labels; empty for next-item training.
 * @returns 16 hexadecimal digits.
 */
export function trainedModelKey(config: RunConfig, modelId: string, fingerprint: string, seed: number, ctrKey: Record<string, unknown> = {}): string {
  return hashJson(trainedModelKeyInputs(config, modelId, fingerprint, seed, ctrKey)).slice(0, 16);
}

/** Returns the values that {@link trainedModelKey} hashes. */
export function trainedModelKeyInputs(config: RunConfig, modelId: string, fingerprint: string, seed: number, ctrKey: Record<string, unknown> = {}): TrainingKeyInputs {
  const training = canonicalTraining(config.training, Object.keys(ctrKey).length === 0 ? 'retrieval' : 'ctr');
  const sampleSeed = config.evaluation.sampleSeed;
  const validated = config.training.validationUsers !== null && config.training.trainOnValidation !== true;
  const validationSample = validated && sampleSeed !== 0 ? { validationSampleSeed: sampleSeed } : {};
  return { modelId, model: config.model, training, fingerprint, seed, ...ctrKey, ...validationSample };
}

/**
 * Returns a trained model for (dataset, model, settings, seed), training it only when the
 * checkpoint cache has no finished model for exactly this configuration and data. An
 * interrupted training resumes from its last epoch checkpoint. A training with no state of its
 * own continues the state of a run that differs only in `training.epochs` or
 * `training.patience` (see {@link findBudgetVariant}), so that raising the budget or the
 * patience does not retrain the epochs already run.
 */
export async function obtainTrainedModel(
  config: RunConfig,
  modelId: string,
  seed: number,
  dataset: SequenceDataset,
  split: LeaveOneOutSplit,
  fingerprint: string,
  logger: Logger,
  hooks: TrainingHooks = {},
  ctr: CtrTrainingPlan | null = null,
): Promise<{ model: SequentialModel; summary: TrainingSummary }> {
  if (!MODEL_IDS.includes(modelId)) {
    throw new RangeError(unknownModel(modelId, MODEL_IDS));
  }

  // The checkpoint folder is keyed by everything that changes the trained weights.
  const ctrKey = ctr === null ? {} : { task: 'ctr', impressions: ctr.split.impressions, labelSource: ctr.labels.source, clickThreshold: ctr.labels.clickThreshold };
  const keyInputs = trainedModelKeyInputs(config, modelId, fingerprint, seed, ctrKey);
  const folderName = `${dataset.name}__${modelId}__${hashJson(keyInputs).slice(0, 16)}__seed${seed}`;
  const checkpoints = join(config.out, 'checkpoints');
  const folder = join(checkpoints, folderName);
  const finalDir = join(folder, 'final');
  if (existsSync(finalDir)) {
    logger.info(`Reusing trained ${modelId} (seed ${seed}) from ${finalDir}`);
    const model = await loadCheckpoint(finalDir, { dataFingerprint: fingerprint });
    return { model, summary: { checkpoint: finalDir, reused: true, epochsRun: 0, bestEpoch: null, bestValidation: null, seconds: 0, lastTokensPerSecond: null } };
  }

  // Without a state of its own, continue the state of a run that differs only in its epoch budget or patience.
  writeTrainingKey(folder, keyInputs);
  if (!existsSync(join(folder, 'train', 'training.json'))) {
    const variant = findBudgetVariant(checkpoints, folderName, keyInputs, logger);
    if (variant !== null) {
      adoptTrainingState(variant, folder, logger);
    }
  }

  // Train with per-epoch checkpoints, selecting the model on the validation split only; a
  // training on the validation items keeps its last epoch instead.
  const model = createModel(modelId, config, dataset.itemCount, seed);
  const refit = ctr === null && config.training.trainOnValidation === true;
  const validationUsers = seededSample(ctr === null ? split.validation.users.length : ctr.split.validation.users.length, config.training.validationUsers, config.evaluation.sampleSeed);
  const training = config.training;
  const loss = ctr === null ? training.loss : 'ctr-bce';
  logger.info(trainingStarted(modelRowLabel(modelId, config.model), seed, dataset.name, training, loss));
  const result: TrainResult = await trainModel(
    model,
    {
      itemCount: dataset.itemCount,
      offsets: dataset.offsets,
      items: dataset.items,
      trainEnd: ctr === null ? trainingEnd(split, refit) : ctr.split.trainEnd,
      ...(dataset.timestamps === null ? {} : { timestamps: dataset.timestamps }),
      ...(ctr === null ? {} : { labels: ctr.labels.labels }),
    },
    {
      epochs: training.epochs,
      batchSize: training.batchSize,
      learningRate: training.learningRate,
      loss,
      negatives: training.negatives,
      negativeSampling: training.negativeSampling,
      temperature: training.temperature,
      weightDecay: training.weightDecay,
      seed,
      patience: training.patience ?? undefined,
      workers: training.workers,
      checkpointDir: join(folder, 'train'),
      logger,
      ...(refit ? {} : { validate: (candidate: SequentialModel) => (ctr === null ? validationNdcg(candidate, dataset, split, validationUsers) : ctrValidationAuc(candidate, dataset, ctr.labels.labels, ctr.split.validation, validationUsers)) }),
      onProgress: (progress) => {
        // The epoch checkpoints already written let the next run resume from the last epoch.
        if (hooks.shouldStop?.() === true) {
          throw new RunInterruptedError(trainingInterrupted(modelId, seed, progress.epoch, progress.step, progress.steps));
        }
        hooks.onProgress?.(progress);
      },
    },
  );
  await saveCheckpoint(model, finalDir, { dataFingerprint: fingerprint, modelId, seed, bestEpoch: result.bestEpoch });
  const last = result.epochs[result.epochs.length - 1];
  return {
    model,
    summary: {
      checkpoint: finalDir,
      reused: false,
      epochsRun: result.epochs.length,
      bestEpoch: result.bestEpoch,
      bestValidation: result.bestValidation,
      seconds: result.seconds,
      lastTokensPerSecond: last?.tokensPerSecond ?? null,
    },
  };
}

/**
 * NDCG@10 on validation users (input s[0..n-2), target s[n-2]) with full ranking and history
 * excluded: the model-selection score. The test split is never used here. Ranks come from
 * {@link heldOutRanks}, batched through `forwardLastBatch`.
 *
 * @param userIndices - indices into `split.validation`, `[users]`.
 * @param batchSize - sequences per encoder pass.
 */
export function validationNdcg(model: SequentialModel, dataset: SequenceDataset, split: LeaveOneOutSplit, userIndices: Int32Array, batchSize = 128): number {
  const accumulator = new RankingAccumulator([10]);
  for (const rank of heldOutRanks(model, dataset, split.validation, userIndices, batchSize)) {
    accumulator.add(rank);
  }
  return accumulator.count === 0 ? 0 : accumulator.means()['ndcg@10'];
}

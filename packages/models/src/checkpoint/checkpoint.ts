import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkpointMismatch, corruptCheckpoint, invalidArgument, missingCheckpoint } from '../messages';
import { createModelOfKind } from '../model/factory';
import { isTrainableModel, type SequentialModel, type TrainableModel } from '../model/types';
import type { EpochRecord } from '../training/train';
import type { AdamW } from '../training/optimizer';
import { readBundle, writeBundle, type StoredArray } from './bundle';

/** Manifest file of a model checkpoint. */
const MODEL_MANIFEST = 'model.json';
/** Manifest file of a resumable training state. */
const TRAINING_MANIFEST = 'training.json';
const MODEL_FORMAT = 'malloc-models-checkpoint';
const TRAINING_FORMAT = 'malloc-models-training-state';
/** Version of both formats; bump it when their layout changes. */
const FORMAT_VERSION = 1;

/** Metadata stored with a checkpoint; `dataFingerprint` identifies the training data. */
export interface CheckpointMeta {
  dataFingerprint: string;
  [key: string]: unknown;
}

/**
 * Saves a model's kind, configuration and weights to `dir`, with metadata.
 *
 * Format (version 1): `model.json` contains `format`, `version`, `kind`, `config`, `meta` and a
 * `binary` entry naming `model-<sha256 prefix>.bin`, its byte size, its SHA-256 and the
 * name, shape and offset of each weight (float32, little-endian). Writes are atomic: the
 * binary and then the manifest are written to temporary files and renamed into place.
 *
 * @param meta - must contain `dataFingerprint` (see `fingerprintTrainingData`); other JSON fields are kept as given.
 * @throws TypeError when the model was not created by this package or `meta.dataFingerprint` is not a string.
 * @example
 * await saveCheckpoint(model, 'checkpoints/ml-1m-sasrec', { dataFingerprint: fingerprintTrainingData(data) });
 */
export async function saveCheckpoint(model: SequentialModel, dir: string, meta: CheckpointMeta): Promise<void> {
  if (!isTrainableModel(model)) {
    throw new TypeError(invalidArgument('saveCheckpoint', 'model', 'a model created by @malloc/models', typeof model));
  }
  if (typeof meta?.dataFingerprint !== 'string') {
    throw new TypeError(invalidArgument('saveCheckpoint', 'meta.dataFingerprint', 'a string', String(meta?.dataFingerprint)));
  }
  const header = { format: MODEL_FORMAT, version: FORMAT_VERSION, kind: model.kind, config: { ...model.config }, meta };
  await writeBundle(dir, MODEL_MANIFEST, header, readVariables(model, ''));
}

/**
 * Loads a model saved by {@link saveCheckpoint}.
 *
 * @param expected - when `dataFingerprint` is given, the checkpoint must have been saved with the same one.
 * @throws Error naming the file and what differs when the checkpoint is missing, corrupt (bad JSON, wrong size, failed checksum, missing or misshaped weight), of another format version, or trained on other data.
 * @example
 * const model = await loadCheckpoint('checkpoints/ml-1m-sasrec', { dataFingerprint });
 */
export async function loadCheckpoint(dir: string, expected: { dataFingerprint?: string } = {}): Promise<SequentialModel> {
  // Read and check the manifest.
  const manifestPath = path.join(dir, MODEL_MANIFEST);
  const bundle = await readBundle(dir, MODEL_MANIFEST);
  if (bundle === null) {
    throw new Error(missingCheckpoint(manifestPath));
  }
  const { header, arrays } = bundle;
  checkFormat(manifestPath, header, MODEL_FORMAT);
  const meta = header['meta'] as CheckpointMeta | undefined;
  if (expected.dataFingerprint !== undefined && meta?.dataFingerprint !== expected.dataFingerprint) {
    throw new Error(checkpointMismatch(manifestPath, 'meta.dataFingerprint', expected.dataFingerprint, String(meta?.dataFingerprint)));
  }

  // Rebuild the model and copy the weights in.
  const model = createModel(manifestPath, header);
  try {
    assignVariables(manifestPath, model, arrays, '');
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** Progress of a training run that a checkpoint can resume. */
export interface TrainingState {
  epochs: EpochRecord[];
  bestEpoch: number;
  bestValidation: number | null;
  /** Epochs since the validation score last improved. */
  sinceImprovement: number;
}

/**
 * Saves everything a training run needs to continue: weights, optimizer moments, epoch
 * records and the best weights so far, as one atomic bundle (`training.json`) in `dir`.
 */
export async function saveTrainingState(
  dir: string,
  model: TrainableModel,
  optimizer: AdamW,
  state: TrainingState,
  bestWeights: readonly Float32Array[] | null,
  dataFingerprint: string,
  options: Record<string, unknown>,
): Promise<void> {
  const optimizerState = optimizer.getState();
  const arrays: StoredArray[] = [...readVariables(model, 'model/')];
  model.variables.forEach((entry, index) => {
    arrays.push({ name: `adam_m/${entry.name}`, shape: entry.variable.shape, data: optimizerState.firstMoments[index] });
    arrays.push({ name: `adam_v/${entry.name}`, shape: entry.variable.shape, data: optimizerState.secondMoments[index] });
    if (bestWeights !== null) {
      arrays.push({ name: `best/${entry.name}`, shape: entry.variable.shape, data: bestWeights[index] });
    }
  });
  const header = {
    format: TRAINING_FORMAT,
    version: FORMAT_VERSION,
    kind: model.kind,
    config: { ...model.config },
    dataFingerprint,
    options,
    state,
    optimizerStep: optimizerState.step,
    hasBestWeights: bestWeights !== null,
  };
  await writeBundle(dir, TRAINING_MANIFEST, header, arrays);
}

/**
 * Restores a training state saved by {@link saveTrainingState} into `model` and `optimizer`.
 *
 * @param savedDefaults - option values that a state saved before the option existed had:
 *   they fill the saved options that lack them before the comparison.
 * @returns the state and the best weights so far; `null` when `dir` contains no training state.
 * @throws Error naming the file and the field when the state belongs to another model configuration, other data or other training options.
 */
export async function loadTrainingState(
  dir: string,
  model: TrainableModel,
  optimizer: AdamW,
  dataFingerprint: string,
  options: Record<string, unknown>,
  savedDefaults: Record<string, unknown> = {},
): Promise<{ state: TrainingState; bestWeights: Float32Array[] | null } | null> {
  // Read the bundle and check that it belongs to this run.
  const manifestPath = path.join(dir, TRAINING_MANIFEST);
  const bundle = await readBundle(dir, TRAINING_MANIFEST);
  if (bundle === null) {
    return null;
  }
  const { header, arrays } = bundle;
  checkFormat(manifestPath, header, TRAINING_FORMAT);
  compareField(manifestPath, 'kind', model.kind, header['kind']);
  compareField(manifestPath, 'config', { ...model.config }, header['config']);
  compareField(manifestPath, 'dataFingerprint', dataFingerprint, header['dataFingerprint']);
  const savedOptions = header['options'] !== null && typeof header['options'] === 'object' ? { ...savedDefaults, ...(header['options'] as Record<string, unknown>) } : header['options'];
  compareField(manifestPath, 'options', options, savedOptions);

  // Restore weights, optimizer moments and the best weights.
  assignVariables(manifestPath, model, arrays, 'model/');
  const moments = (prefix: string): Float32Array[] => model.variables.map((entry) => requireArray(manifestPath, arrays, `${prefix}${entry.name}`, entry.variable.shape).data);
  optimizer.setState({ step: Number(header['optimizerStep']), firstMoments: moments('adam_m/'), secondMoments: moments('adam_v/') });
  const bestWeights = header['hasBestWeights'] === true ? moments('best/') : null;
  return { state: header['state'] as TrainingState, bestWeights };
}

function readVariables(model: TrainableModel, prefix: string): StoredArray[] {
  return model.variables.map((entry) => ({ name: `${prefix}${entry.name}`, shape: entry.variable.shape, data: entry.variable.dataSync() as Float32Array }));
}

function assignVariables(file: string, model: TrainableModel, arrays: Map<string, StoredArray>, prefix: string): void {
  const values = model.variables.map((entry) => requireArray(file, arrays, `${prefix}${entry.name}`, entry.variable.shape));
  tf.tidy(() => {
    model.variables.forEach((entry, index) => entry.variable.assign(tf.tensor(values[index].data, entry.variable.shape, 'float32')));
  });
  model.weightsChanged();
}

function requireArray(file: string, arrays: Map<string, StoredArray>, name: string, shape: readonly number[]): StoredArray {
  const array = arrays.get(name);
  if (array === undefined) {
    throw new Error(corruptCheckpoint(file, `the weight ${name} is missing`));
  }
  if (array.shape.length !== shape.length || array.shape.some((size, axis) => size !== shape[axis])) {
    throw new Error(corruptCheckpoint(file, `the weight ${name} has shape [${array.shape.join(', ')}], the model needs [${shape.join(', ')}]`));
  }
  return array;
}

function checkFormat(file: string, header: Record<string, unknown>, format: string): void {
  if (header['format'] !== format) {
    throw new Error(checkpointMismatch(file, 'format', format, String(header['format'])));
  }
  if (header['version'] !== FORMAT_VERSION) {
    throw new Error(checkpointMismatch(file, 'version', String(FORMAT_VERSION), String(header['version'])));
  }
}

function createModel(file: string, header: Record<string, unknown>): TrainableModel {
  const config = header['config'];
  if (typeof header['kind'] !== 'string' || config === null || typeof config !== 'object') {
    throw new Error(corruptCheckpoint(file, 'its "kind" or "config" field is missing'));
  }
  const model = createModelOfKind(header['kind'], config as Record<string, unknown>, 0);
  if (!isTrainableModel(model)) {
    throw new Error(corruptCheckpoint(file, `kind ${header['kind']} has no trainable weights`));
  }
  return model;
}

/** Throws a mismatch naming the first differing key when two JSON values differ. */
function compareField(file: string, field: string, expected: unknown, received: unknown): void {
  if (stableJson(expected) === stableJson(received)) {
    return;
  }
  if (expected !== null && received !== null && typeof expected === 'object' && typeof received === 'object') {
    const keys = new Set([...Object.keys(expected), ...Object.keys(received)]);
    for (const key of [...keys].sort()) {
      const a = (expected as Record<string, unknown>)[key];
      const b = (received as Record<string, unknown>)[key];
      if (stableJson(a) !== stableJson(b)) {
        throw new Error(checkpointMismatch(file, `${field}.${key}`, stableJson(a), stableJson(b)));
      }
    }
  }
  throw new Error(checkpointMismatch(file, field, stableJson(expected), stableJson(received)));
}

function stableJson(value: unknown): string {
  if (value === undefined) {
    return 'undefined';
  }
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(stableJson).join(',')}]`;
  }
  const entries = Object.keys(value)
    .sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from './logger';
import { budgetVariantAdopted, budgetVariantUnusable } from './messages';
import { canonicalJson } from './provenance';

/** File in a checkpoint folder that records the values its key hashes. */
export const TRAINING_KEY_FILE = 'training-key.json';

/** Manifest of a training state, as `@malloc/models` writes it in a checkpoint folder's `train/`. */
const TRAINING_MANIFEST = 'training.json';

/** Format tag of {@link TRAINING_KEY_FILE}. */
const KEY_FORMAT = 'malloc-training-key';

/** Training fields that do not change the weights after a given epoch: the epoch budget and the patience. */
const BUDGET_FIELDS = ['epochs', 'patience'] as const;

/**
 * Values that a checkpoint key hashes: model id, model and training settings, data
 * fingerprint, seed, the CTR task's label settings and a non-default validation sample seed. `training` contains `epochs` and
 * `patience` among its fields.
 */
export interface TrainingKeyInputs {
  training: Record<string, unknown>;
  [field: string]: unknown;
}

/** A training state of another checkpoint folder that this training can continue. */
export interface BudgetVariant {
  /** The other checkpoint folder. */
  folder: string;
  /** Epochs its state has finished. */
  epochs: number;
}

/**
 * Records the key inputs of a checkpoint folder in {@link TRAINING_KEY_FILE}, once, so that a
 * later run with another epoch budget or patience can find the folder.
 */
export function writeTrainingKey(folder: string, inputs: TrainingKeyInputs): void {
  const path = join(folder, TRAINING_KEY_FILE);
  if (!existsSync(path)) {
    writeFileOnce(path, `${JSON.stringify({ format: KEY_FORMAT, version: 1, inputs }, null, 2)}\n`);
  }
}

/**
 * Returns the epoch after which early stopping ends a training whose epochs scored
 * `validations`, as the training loop of `@malloc/models` decides it. Epoch e + 1 runs only
 * while fewer than `patience` epochs since the best one have failed to improve on it.
 *
 * @param validations - validation score of epochs 1, 2, … in order.
 * @param patience - epochs without improvement before stopping; `null` never stops.
 * @returns the last epoch that training runs, or `null` when it runs every given epoch and
 *   would go on.
 * @example
 * stoppingEpoch([0.1, 0.2, 0.15, 0.18, 0.19], 2); // 4: epochs 3 and 4 did not beat 0.2
 */
export function stoppingEpoch(validations: readonly number[], patience: number | null): number | null {
  if (patience === null) {
    return null;
  }
  let best = -Infinity;
  let sinceImprovement = 0;
  for (let epoch = 1; epoch <= validations.length; epoch++) {
    if (epoch === 1 || validations[epoch - 1] > best) {
      best = validations[epoch - 1];
      sinceImprovement = 0;
    } else {
      sinceImprovement += 1;
    }
    if (sinceImprovement >= patience) {
      return epoch;
    }
  }
  return null;
}

/**
 * Finds a checkpoint folder of the same model, data and seed whose key differs from `inputs`
 * only in `training.epochs` and `training.patience`, and whose training state is one this
 * training passes through. Training draws every epoch's batches and negatives from the seed
 * and the epoch number, so the state after epoch e does not depend on the budget or patience.
 * A state qualifies when it has at most `inputs.training.epochs` epochs and this training's
 * patience would not have stopped before its last epoch. The one with the most epochs wins;
 * ties go to the folder name that sorts first.
 *
 * Folders written before {@link TRAINING_KEY_FILE} existed record no key inputs and are
 * never chosen.
 *
 * @param checkpoints - the run's `checkpoints` folder.
 * @param own - name of this training's checkpoint folder, `<dataset>__<model>__<key>__seed<seed>`.
 */
export function findBudgetVariant(checkpoints: string, own: string, inputs: TrainingKeyInputs, logger: Logger): BudgetVariant | null {
  const parts = own.split('__');
  if (parts.length !== 4 || !existsSync(checkpoints)) {
    return null;
  }
  const [dataset, model, , seed] = parts;
  const expected = canonicalJson(withoutBudget(inputs));
  const epochs = Number(inputs.training['epochs']);
  const patience = (inputs.training['patience'] ?? null) as number | null;

  let found: BudgetVariant | null = null;
  const names = readdirSync(checkpoints).filter((name) => name !== own && name.startsWith(`${dataset}__${model}__`) && name.endsWith(`__${seed}`));
  for (const name of names.sort()) {
    // Same key apart from the budget fields.
    const folder = join(checkpoints, name);
    const recorded = readJson(join(folder, TRAINING_KEY_FILE));
    const recordedInputs = recorded?.['inputs'] as TrainingKeyInputs | undefined;
    if (recorded?.['format'] !== KEY_FORMAT || typeof recordedInputs?.training !== 'object' || canonicalJson(withoutBudget(recordedInputs)) !== expected) {
      continue;
    }

    // A state within this budget that this patience would have reached.
    const state = readJson(join(folder, 'train', TRAINING_MANIFEST))?.['state'] as { epochs?: { validation: number | null }[] } | undefined;
    const validations = (state?.epochs ?? []).map((record) => record.validation);
    if (validations.length === 0 || validations.length > epochs) {
      continue;
    }
    // Without patience nothing stops early, so epochs without a validation score (a training
    // with trainOnValidation) can be continued as well.
    if (patience !== null && validations.some((value) => typeof value !== 'number')) {
      logger.warn(budgetVariantUnusable(folder, 'some of its epochs have no validation score'));
      continue;
    }
    const stop = stoppingEpoch(validations as number[], patience);
    if (stop !== null && stop < validations.length) {
      continue;
    }
    if (found === null || validations.length > found.epochs) {
      found = { folder, epochs: validations.length };
    }
  }
  return found;
}

/**
 * Copies the training state of `variant` into `folder/train`, so that training resumes from
 * its last epoch. The source is read once, and its binary is checked against the manifest's
 * SHA-256 before anything is written. The binary is written before the manifest that names
 * it. Neither replaces a file of that name: a binary's name carries its hash, and a manifest
 * already there belongs to a training that got there first. The source folder is left as it
 * was.
 *
 * @returns whether the state was copied. It is `false` when `folder` meanwhile got a manifest
 *   of its own. It is also `false`, with a warning, when the source changed or failed its
 *   check while it was read, for example because another run was saving an epoch.
 */
export function adoptTrainingState(variant: BudgetVariant, folder: string, logger: Logger): boolean {
  // Read the manifest and the binary it names, and check the binary.
  const source = join(variant.folder, 'train');
  const target = join(folder, 'train');
  let manifest: string;
  let binary: Buffer;
  let binaryFile: string;
  try {
    manifest = readFileSync(join(source, TRAINING_MANIFEST), 'utf8');
    const description = (JSON.parse(manifest) as { binary?: { file?: unknown; sha256?: unknown } }).binary;
    if (typeof description?.file !== 'string' || typeof description.sha256 !== 'string' || description.file.includes('/')) {
      logger.warn(budgetVariantUnusable(variant.folder, 'its training manifest names no binary file'));
      return false;
    }
    binaryFile = description.file;
    binary = readFileSync(join(source, binaryFile));
    const sha256 = createHash('sha256').update(binary).digest('hex');
    if (sha256 !== description.sha256) {
      logger.warn(budgetVariantUnusable(variant.folder, `its binary's SHA-256 ${sha256} does not match the manifest's ${description.sha256}. If another run was saving an epoch there, rerun to try again`));
      return false;
    }
  } catch (error) {
    logger.warn(budgetVariantUnusable(variant.folder, `reading it failed (${(error as Error).message}). If another run was saving an epoch there, rerun to try again`));
    return false;
  }

  // Write the binary, then the manifest. A manifest that another process wrote meanwhile stays.
  writeFileOnce(join(target, binaryFile), binary);
  if (!writeFileOnce(join(target, TRAINING_MANIFEST), manifest)) {
    return false;
  }
  logger.info(budgetVariantAdopted(variant.folder, variant.epochs, folder));
  return true;
}

/**
 * Writes a file atomically unless it exists: the contents go to a temporary file, are synced,
 * and are linked to `path`, which fails instead of replacing a file that appeared meanwhile.
 *
 * @returns whether this call created the file.
 */
function writeFileOnce(path: string, contents: string | Uint8Array): boolean {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temporary, 'wx');
  try {
    writeFileSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return false;
    }
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function withoutBudget(inputs: TrainingKeyInputs): TrainingKeyInputs {
  const training = { ...inputs.training };
  for (const field of BUDGET_FIELDS) {
    delete training[field];
  }
  return { ...inputs, training };
}

/** Parses a JSON object file; `null` when it is missing or not a JSON object. */
function readJson(path: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

import * as tf from '@tensorflow/tfjs';
import { buildCtrBatch, ctrLossAndGradients, type CtrTrainingBatch } from '../ctr/training';
import type { TrainableModel } from '../model/types';
import { deriveSeed, SeededRandom } from '../random';
import { buildTrainingBatch, inputLength, type TrainingBatch, type TrainingData } from '../training/data';
import { drawPerPositionNegatives, drawPositionNegatives, drawSharedNegatives } from '../training/losses';
import { lossAndGradients, type StepSettings } from '../training/step';

/** The part of a training batch that one replica computes. */
export interface TrainingShard {
  /** The shard's users as a padded batch; a `CtrTrainingBatch` (with click labels) for the `'ctr-bce'` loss. */
  readonly batch: TrainingBatch | CtrTrainingBatch;
  /**
   * The shard's part of the negatives drawn for the whole batch: its `[tokens · negatives]`
   * slice of per-position `sampled-softmax` negatives, its own copy of the shared
   * `[negatives]`, or its `[tokens]` slice of the `bce` negatives. It is `null` for `full-ce`
   * and `ctr-bce`, which draw none.
   */
  readonly negativeIds: Int32Array | null;
  /** Seed of the shard's dropout masks. */
  readonly dropoutSeed: number;
  /** The shard's positions divided by the batch's positions: the weight of its mean loss in the batch mean. */
  readonly weight: number;
}

/** Loss and gradients of one shard, both multiplied by the shard's weight. */
export interface ShardGradients {
  /** Weighted mean loss of the shard; the weighted losses of all shards sum to the batch's mean loss. */
  loss: number;
  /** One weighted gradient per variable in `model.variables` order; the caller disposes them. */
  gradients: tf.Tensor[];
}

/**
 * Splits a batch's users into at most `shards` groups by interleaving: the user at row r goes
 * to group r mod `shards`. Batches are sorted by length (see `planEpoch`), so interleaving
 * gives each group users of about the same lengths and about the same number of positions.
 * Groups that would be empty (a batch of fewer users than shards) are left out.
 *
 * @param users - `[batch]` user indices.
 * @returns `min(shards, batch)` groups, each `[≈ batch / shards]`.
 */
export function interleaveUsers(users: Int32Array, shards: number): Int32Array[] {
  const groups: Int32Array[] = [];
  for (let shard = 0; shard < Math.min(shards, users.length); shard++) {
    const size = Math.ceil((users.length - shard) / shards);
    const group = new Int32Array(size); // [size]
    for (let i = 0; i < size; i++) {
      group[i] = users[shard + i * shards];
    }
    groups.push(group);
  }
  return groups;
}

/**
 * Splits one training step into shards for data-parallel training.
 *
 * The negatives are drawn once for the whole batch from `SeededRandom(stepSeed)`, in the same
 * order as a single-process step draws them, and each shard's dropout masks come from
 * `deriveSeed(stepSeed, shard + 1)`. Without dropout, the weighted shard losses and gradients
 * therefore sum to the single-process step's loss and gradients up to float rounding. With
 * dropout the masks differ from the single-process ones but stay the same for a given seed
 * and number of shards.
 *
 * @param users - `[batch]` user indices, as `planEpoch` returns them.
 * @param shards - number of replicas.
 * @param stepSeed - the step's seed, `deriveSeed(seed, epoch, step)`.
 * @returns one shard per non-empty group of {@link interleaveUsers}.
 */
export function planShards(data: TrainingData, users: Int32Array, maxLength: number, shards: number, settings: StepSettings, stepSeed: number): TrainingShard[] {
  // Split the users and build each shard's padded batch.
  const groups = interleaveUsers(users, shards);
  const batches = groups.map((group) => (settings.loss === 'ctr-bce' ? buildCtrBatch(data, group, maxLength) : buildTrainingBatch(data, group, maxLength)));
  const totalTokens = batches.reduce((sum, batch) => sum + batch.rows.length, 0);

  // Draw the batch's negatives once, as the single-process step does.
  const random = new SeededRandom(stepSeed);
  let negatives: (Int32Array | null)[] = batches.map(() => null);
  if (settings.loss === 'sampled-softmax' && (settings.negativeSampling ?? 'per-position') === 'per-position') {
    negatives = splitPositionNegatives(data, users, maxLength, shards, drawPerPositionNegatives(totalTokens, settings.negatives, data.itemCount, random), settings.negatives);
  } else if (settings.loss === 'sampled-softmax') {
    const shared = drawSharedNegatives(settings.negatives, data.itemCount, random); // [negatives]
    // A copy per shard, so that each shard's arrays can be moved to its worker.
    negatives = batches.map(() => shared.slice());
  } else if (settings.loss === 'bce') {
    negatives = splitPositionNegatives(data, users, maxLength, shards, drawPositionNegatives(batchTargets(data, users, maxLength), data.itemCount, random));
  }

  return batches.map((batch, shard) => ({
    batch,
    negativeIds: negatives[shard],
    dropoutSeed: deriveSeed(stepSeed, shard + 1),
    weight: totalTokens === 0 ? 0 : batch.rows.length / totalTokens,
  }));
}

/**
 * Computes a shard's loss and gradients with the single-process step's functions and
 * multiplies both by the shard's weight.
 */
export function shardLossAndGradients(model: TrainableModel, shard: TrainingShard, settings: StepSettings): ShardGradients {
  // Loss and gradients of the shard's mean loss.
  const random = new SeededRandom(shard.dropoutSeed);
  const result =
    settings.loss === 'ctr-bce'
      ? ctrLossAndGradients(model, shard.batch as CtrTrainingBatch, random)
      : lossAndGradients(model, shard.batch, settings, random, shard.negativeIds ?? undefined);
  const loss = result.loss.dataSync()[0];
  result.loss.dispose();

  // Weight both by the shard's share of the batch's positions.
  const gradients = result.gradients.map((gradient) => {
    const weighted = tf.mul(gradient, shard.weight);
    gradient.dispose();
    return weighted;
  });
  return { loss: loss * shard.weight, gradients };
}

/**
 * Targets of a next-item batch in the order of `buildTrainingBatch(data, users, maxLength).rows`:
 * user by user, position by position.
 *
 * @returns `[tokens]`.
 */
function batchTargets(data: TrainingData, users: Int32Array, maxLength: number): Int32Array {
  const targets: number[] = [];
  for (const user of users) {
    const length = inputLength(data, user, maxLength);
    const firstTarget = data.offsets[user] + data.trainEnd[user] - length;
    for (let i = 0; i < length; i++) {
      targets.push(data.items[firstTarget + i]);
    }
  }
  return Int32Array.from(targets);
}

/**
 * Hands each shard the per-position negatives of its users, in the shard batch's row order.
 *
 * @param negativeIds - `[tokens · perPosition]` in the order of {@link batchTargets}, position-major.
 * @param perPosition - negatives per position.
 */
function splitPositionNegatives(data: TrainingData, users: Int32Array, maxLength: number, shards: number, negativeIds: Int32Array, perPosition = 1): Int32Array[] {
  // Sizes first, then one copy of each user's slice into its shard.
  const lengths = Array.from(users, (user) => inputLength(data, user, maxLength) * perPosition);
  const sizes = new Array<number>(Math.min(shards, users.length)).fill(0);
  lengths.forEach((length, row) => (sizes[row % shards] += length));
  const parts = sizes.map((size) => new Int32Array(size));
  const filled = new Array<number>(parts.length).fill(0);
  let start = 0;
  lengths.forEach((length, row) => {
    const shard = row % shards;
    parts[shard].set(negativeIds.subarray(start, start + length), filled[shard]);
    filled[shard] += length;
    start += length;
  });
  return parts;
}

import { invalidArgument } from '../messages';
import type { EncoderBatch } from '../model/types';
import type { SeededRandom } from '../random';

/** Interaction sequences for training, in compressed sparse row form. */
export interface TrainingData {
  /** Number of items; ids are 1..itemCount. */
  itemCount: number;
  /** Start of each user's items in `items`, `[users + 1]`; user u owns `items[offsets[u] .. offsets[u + 1])`. */
  offsets: Int32Array;
  /** Item ids of all users, each user's in chronological order, `[interactions]`. */
  items: Int32Array;
  /** Number of leading items of each user used for training, `[users]`; users with fewer than 2 are skipped. */
  trainEnd: Int32Array;
  /** Timestamp of each interaction in seconds, aligned with `items`; read by models that use time (HSTU). */
  timestamps?: Float64Array;
  /** Click label (0 or 1) of each interaction, aligned with `items`; read by the `'ctr-bce'` loss. */
  labels?: Uint8Array;
}

/**
 * Checks the shape and ranges of training data once, so that a bad id fails here with its
 * user and index instead of inside a training step.
 *
 * @throws RangeError naming the first inconsistent field, user or id.
 */
export function validateTrainingData(where: string, data: TrainingData, itemCount: number): void {
  const { offsets, items, trainEnd } = data;
  if (!(offsets instanceof Int32Array) || !(items instanceof Int32Array) || !(trainEnd instanceof Int32Array)) {
    throw new TypeError(invalidArgument(where, 'data', 'offsets, items and trainEnd as Int32Array', 'other array types'));
  }
  if (data.itemCount !== itemCount) {
    throw new RangeError(invalidArgument(where, 'data.itemCount', `the model's itemCount ${itemCount}`, String(data.itemCount)));
  }
  const users = trainEnd.length;
  if (offsets.length !== users + 1 || offsets[0] !== 0 || offsets[users] !== items.length) {
    throw new RangeError(invalidArgument(where, 'data.offsets', `[users + 1] = [${users + 1}] entries from 0 to items.length ${items.length}`, `${offsets.length} entries from ${offsets[0]} to ${offsets[offsets.length - 1]}`));
  }
  if (data.timestamps !== undefined && (!(data.timestamps instanceof Float64Array) || data.timestamps.length !== items.length)) {
    throw new RangeError(invalidArgument(where, 'data.timestamps', `a Float64Array of items.length ${items.length}`, String(data.timestamps?.length)));
  }
  for (let user = 0; user < users; user++) {
    const length = offsets[user + 1] - offsets[user];
    if (length < 0) {
      throw new RangeError(invalidArgument(where, 'data.offsets', 'non-decreasing offsets', `offsets[${user + 1}] = ${offsets[user + 1]} < offsets[${user}] = ${offsets[user]}`));
    }
    if (!Number.isInteger(trainEnd[user]) || trainEnd[user] < 0 || trainEnd[user] > length) {
      throw new RangeError(invalidArgument(where, `data.trainEnd[${user}]`, `an integer in [0, ${length}]`, String(trainEnd[user])));
    }
    for (let i = offsets[user]; i < offsets[user] + trainEnd[user]; i++) {
      if (items[i] < 1 || items[i] > itemCount) {
        throw new RangeError(invalidArgument(where, 'data.items', `ids in 1..${itemCount}`, `${items[i]} for user ${user} at index ${i - offsets[user]}`));
      }
    }
  }
}

/** Users with at least one (input, target) pair, i.e. `trainEnd ≥ 2`. */
export function trainableUsers(data: TrainingData): Int32Array {
  const users: number[] = [];
  for (let user = 0; user < data.trainEnd.length; user++) {
    if (data.trainEnd[user] >= 2) {
      users.push(user);
    }
  }
  return Int32Array.from(users);
}

/** Number of input positions of a user in training: `min(trainEnd - 1, maxLength)`. */
export function inputLength(data: TrainingData, user: number, maxLength: number): number {
  return Math.min(data.trainEnd[user] - 1, maxLength);
}

/**
 * Splits the users into batches for one epoch. Users are shuffled and taken in groups of
 * `bucketBatches · batchSize`. Each group is sorted by input length and cut into batches,
 * and the batches are shuffled. A batch then contains sequences of similar length, so less
 * padding is computed, while each epoch still mixes users differently.
 *
 * @param users - `[users]` trainable user indices.
 * @returns batches of user indices.
 */
export function planEpoch(data: TrainingData, users: Int32Array, maxLength: number, batchSize: number, bucketBatches: number, random: SeededRandom): Int32Array[] {
  const shuffled = random.shuffle(users.slice());
  const groupSize = batchSize * Math.max(1, bucketBatches);
  const batches: Int32Array[] = [];
  for (let start = 0; start < shuffled.length; start += groupSize) {
    const group = Array.from(shuffled.subarray(start, start + groupSize));
    group.sort((a, b) => inputLength(data, b, maxLength) - inputLength(data, a, maxLength) || a - b);
    for (let i = 0; i < group.length; i += batchSize) {
      batches.push(Int32Array.from(group.slice(i, i + batchSize)));
    }
  }
  return random.shuffle(batches);
}

/** A right-padded training batch with next-item targets. */
export interface TrainingBatch {
  readonly encoder: EncoderBatch;
  /** Next item at each position, `[batch, len]` row-major, 0 at padding. */
  readonly targets: Int32Array;
  /** Flat indices into `[batch · len]` of the positions with a target, `[tokens]`. */
  readonly rows: Int32Array;
}

/**
 * Builds a training batch: for each user, the inputs are the newest `maxLength` items of
 * `items[0 .. trainEnd - 1)` and the targets are the items that follow each of them. With
 * timestamps, each row's request time is the timestamp of its last target, the item after
 * its last input.
 *
 * @param users - `[batch]` user indices, each with `trainEnd ≥ 2`.
 */
export function buildTrainingBatch(data: TrainingData, users: Int32Array, maxLength: number): TrainingBatch {
  // Width of the batch: the longest input among its users.
  let len = 0;
  for (const user of users) {
    len = Math.max(len, inputLength(data, user, maxLength));
  }

  // Right-pad each user's window; positions count from 0 at the first kept input.
  const items = new Int32Array(users.length * len); // [batch, len]
  const positions = new Int32Array(users.length * len); // [batch, len]
  const targets = new Int32Array(users.length * len); // [batch, len]
  const timestamps = data.timestamps === undefined ? null : new Float64Array(users.length * len); // [batch, len]
  const requestTimes = data.timestamps === undefined ? null : new Float64Array(users.length); // [batch]
  const rows: number[] = [];
  users.forEach((user, row) => {
    const length = inputLength(data, user, maxLength);
    const end = data.offsets[user] + data.trainEnd[user];
    const firstInput = end - 1 - length;
    for (let i = 0; i < length; i++) {
      const flat = row * len + i;
      items[flat] = data.items[firstInput + i];
      targets[flat] = data.items[firstInput + i + 1];
      positions[flat] = i;
      if (timestamps !== null && data.timestamps !== undefined) {
        timestamps[flat] = data.timestamps[firstInput + i];
      }
      rows.push(flat);
    }
    if (requestTimes !== null && data.timestamps !== undefined) {
      requestTimes[row] = data.timestamps[end - 1];
    }
  });
  return { encoder: { batch: users.length, len, items, positions, timestamps, requestTimes }, targets, rows: Int32Array.from(rows) };
}

import { invalidArgument, noTimestamps, stepSample } from './messages';
import { mulberry32 } from './prng';
import type { EvalSplit } from './split';
import type { SequenceDataset } from './types';

/** The cut of {@link temporalSplit}: a timestamp, or the fraction of interactions to hold out. */
export type TemporalCut = { cutTimestamp: number } | { testFraction: number };

/** A split of every interaction by one global time cut. */
export interface TemporalSplit {
  /** Interactions at or after this time, in seconds, are test interactions. */
  cutTimestamp: number;
  /**
   * Leading items of each user before the cut, `[userCount]`. Sequences are chronological, so
   * the training part of user `u` is the prefix `items[offsets[u] .. offsets[u] + trainEnd[u])`.
   */
  trainEnd: Int32Array;
  /**
   * One request per test interaction with a non-empty history: for request `j` of user
   * `users[j]`, the input is the user's first `inputEnd[j]` items and the target is
   * `targets[j]`. Users may repeat, in ascending order, with increasing `inputEnd`.
   */
  test: EvalSplit;
  /** Interactions before the cut. */
  trainInteractions: number;
  /** Interactions at or after the cut, including those without history. */
  testInteractions: number;
  /** Test interactions that are a user's first, so they have no input and no request. */
  testWithoutHistory: number;
}

/** A seeded sample of users, as a dataset of its own. */
export interface UserSample {
  /** The sampled users, with the item ids of the original dataset. */
  dataset: SequenceDataset;
  /** Indices of the sampled users in the original dataset, `[count]`, ascending. */
  users: Int32Array;
  /** Seed of the sample, so that the same sample can be drawn again. */
  seed: number;
}

/**
 * Splits by a global time cut: interactions before `cutTimestamp` are training data, and every
 * later one is a test target predicted from the whole history before it.
 *
 * A global cut keeps future interactions of other users out of training, which leave-one-out
 * does not. With `testFraction`, the cut is the timestamp of the interaction at rank
 * ⌊n · (1 − testFraction)⌋ in ascending time order, so every interaction that shares that
 * timestamp is a test interaction and the test share can exceed `testFraction`.
 *
 * @see Zaiqiao Meng, Richard McCreadie, Craig Macdonald and Iadh Ounis, "Exploring Data
 *   Splitting Strategies for the Evaluation of Recommendation Models", RecSys 2020,
 *   arXiv:2007.13237 (the global temporal split).
 * @param dataset - Chronological sequences with timestamps.
 * @param cut - `{ cutTimestamp }` in seconds, or `{ testFraction }` with 0 < f < 1.
 * @throws TypeError when the dataset has no timestamps.
 * @throws RangeError when the cut is not a finite number, or the fraction is outside (0, 1).
 * @example
 * ```ts
 * const split = temporalSplit(dataset, { testFraction: 0.1 });
 * // split.trainEnd[u] items of user u are before split.cutTimestamp.
 * ```
 */
export function temporalSplit(dataset: SequenceDataset, cut: TemporalCut): TemporalSplit {
  // Validate and find the cut.
  const where = 'temporalSplit';
  const { offsets, items, timestamps, userCount } = dataset;
  if (timestamps === null) {
    throw new TypeError(noTimestamps(where, dataset.name));
  }
  let cutTimestamp: number;
  if ('cutTimestamp' in cut) {
    if (typeof cut.cutTimestamp !== 'number' || !Number.isFinite(cut.cutTimestamp)) {
      throw new RangeError(invalidArgument(where, 'cutTimestamp', 'a finite number of seconds', cut.cutTimestamp));
    }
    cutTimestamp = cut.cutTimestamp;
  } else {
    const fraction = cut.testFraction;
    if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
      throw new RangeError(invalidArgument(where, 'testFraction', 'a number with 0 < testFraction < 1', fraction));
    }
    const sorted = Float64Array.from(timestamps).sort(); // [interactions]
    cutTimestamp = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * (1 - fraction)))];
  }

  // Training prefix of each user, and the test requests after it.
  const trainEnd = new Int32Array(userCount); // [userCount]
  let testInteractions = 0;
  let testWithoutHistory = 0;
  for (let user = 0; user < userCount; user++) {
    let position = offsets[user];
    while (position < offsets[user + 1] && timestamps[position] < cutTimestamp) {
      position++;
    }
    trainEnd[user] = position - offsets[user];
    testInteractions += offsets[user + 1] - position;
    if (trainEnd[user] === 0 && position < offsets[user + 1]) {
      testWithoutHistory++;
    }
  }
  const requests = testInteractions - testWithoutHistory;
  const test: EvalSplit = {
    users: new Int32Array(requests), // [requests]
    inputEnd: new Int32Array(requests), // [requests]
    targets: new Int32Array(requests), // [requests]
  };
  let j = 0;
  for (let user = 0; user < userCount; user++) {
    const length = offsets[user + 1] - offsets[user];
    for (let end = Math.max(1, trainEnd[user]); end < length; end++) {
      test.users[j] = user;
      test.inputEnd[j] = end;
      test.targets[j] = items[offsets[user] + end];
      j++;
    }
  }

  return { cutTimestamp, trainEnd, test, trainInteractions: items.length - testInteractions, testInteractions, testWithoutHistory };
}

/**
 * Draws `count` distinct users uniformly at random with a seeded generator (mulberry32) and
 * returns them as a dataset.
 *
 * The sampled users keep their order and their sequences. Item ids, `itemCount` and
 * `rawItemIds` are unchanged, so that a model trained on the full catalogue can score the
 * sample. `source.params.sample` records the count, the seed and the original user count.
 *
 * @param dataset - Dataset to sample from.
 * @param count - Number of users, from 0 to `userCount`.
 * @param seed - Integer seed; the same seed and dataset give the same sample.
 * @throws RangeError when `count` is not an integer in [0, userCount] or `seed` is not an integer.
 * @example
 * ```ts
 * const { dataset: small } = sampleUsers(ml20m, 10_000, 7);
 * ```
 */
export function sampleUsers(dataset: SequenceDataset, count: number, seed: number): UserSample {
  // Validate.
  const where = 'sampleUsers';
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > dataset.userCount) {
    throw new RangeError(invalidArgument(where, 'count', `an integer from 0 to ${dataset.userCount}`, count));
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new RangeError(invalidArgument(where, 'seed', 'an integer', seed));
  }

  // Partial Fisher-Yates shuffle: the first `count` entries are the sample.
  const random = mulberry32(seed);
  const order = new Int32Array(dataset.userCount); // [userCount]
  for (let user = 0; user < order.length; user++) {
    order[user] = user;
  }
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (order.length - i));
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  const users = order.slice(0, count).sort(); // [count]

  // Copy the sampled sequences into new CSR arrays.
  const offsets = new Int32Array(count + 1); // [count + 1]
  for (let k = 0; k < count; k++) {
    offsets[k + 1] = offsets[k] + dataset.offsets[users[k] + 1] - dataset.offsets[users[k]];
  }
  const total = offsets[count];
  const items = new Int32Array(total); // [interactions]
  const timestamps = dataset.timestamps === null ? null : new Float64Array(total); // [interactions]
  const ratings = dataset.ratings === null ? null : new Float32Array(total); // [interactions]
  const sourceLabels = dataset.labels ?? null;
  const labels = sourceLabels === null ? null : new Uint8Array(total); // [interactions]
  for (let k = 0; k < count; k++) {
    const start = dataset.offsets[users[k]];
    const end = dataset.offsets[users[k] + 1];
    items.set(dataset.items.subarray(start, end), offsets[k]);
    timestamps?.set((dataset.timestamps as Float64Array).subarray(start, end), offsets[k]);
    ratings?.set((dataset.ratings as Float32Array).subarray(start, end), offsets[k]);
    labels?.set((sourceLabels as Uint8Array).subarray(start, end), offsets[k]);
  }

  const sampled: SequenceDataset = {
    ...dataset,
    userCount: count,
    offsets,
    items,
    timestamps,
    ratings,
    labels,
    rawUserIds: Array.from(users, (user) => dataset.rawUserIds[user]),
    source: { ...dataset.source, params: { ...dataset.source.params, sample: { count, seed, fromUsers: dataset.userCount } } },
    report: { ...dataset.report, steps: [...dataset.report.steps, stepSample(count, dataset.userCount, seed)] },
  };
  return { dataset: sampled, users, seed };
}

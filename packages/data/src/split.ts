import type { SequenceDataset } from './types';

/**
 * Evaluation requests: for user `users[j]` (with `start = offsets[users[j]]`), the input is
 * `items[start .. start + inputEnd[j])` and the target is `targets[j]`.
 */
export interface EvalSplit {
  /** Internal user indices, `[evaluated users]`, ascending. */
  users: Int32Array;
  /** Input length of each request, `[evaluated users]`. */
  inputEnd: Int32Array;
  /** Held-out internal item id of each request, `[evaluated users]`; never 0. */
  targets: Int32Array;
}

/** The leave-one-out split by time of a dataset. */
export interface LeaveOneOutSplit {
  /**
   * Number of leading items of each user usable for training, `[userCount]`: n − 2, or 0 when
   * n < 3. Training targets therefore stop at the third-last item.
   */
  trainEnd: Int32Array;
  /** Validation: input s[0 .. n−2), target s[n−2]. */
  validation: EvalSplit;
  /** Test: input s[0 .. n−1), target s[n−1]; the validation item is part of the input. */
  test: EvalSplit;
  /** Users with fewer than 3 interactions: not evaluated, only counted. */
  usersTooShort: number;
}

/**
 * Leave-one-out split by time: each user's last item is the test target, the one before it the
 * validation target, and the rest is training data.
 *
 * The test input includes the validation item, because at test time everything before the
 * last item is history; this is not leakage. Users with fewer than 3 interactions get
 * `trainEnd = 0` and appear in neither evaluation set.
 *
 * @see Wang-Cheng Kang and Julian McAuley, "Self-Attentive Sequential Recommendation",
 *   ICDM 2018, arXiv:1808.09781 (the split used by SASRec and later sequential recommenders).
 * @param dataset - Chronological sequences.
 * @returns Index arrays into the dataset; no item array is copied.
 * @example
 * ```ts
 * // One user with items [11, 12, 13, 14, 15]:
 * const split = leaveOneOut(dataset);
 * // split.trainEnd = [3]; validation: inputEnd [3], target 14; test: inputEnd [4], target 15.
 * ```
 */
export function leaveOneOut(dataset: SequenceDataset): LeaveOneOutSplit {
  const { offsets, items, userCount } = dataset;

  // Users long enough to evaluate.
  const trainEnd = new Int32Array(userCount); // [userCount]
  let evaluated = 0;
  for (let user = 0; user < userCount; user++) {
    const length = offsets[user + 1] - offsets[user];
    if (length >= 3) {
      trainEnd[user] = length - 2;
      evaluated++;
    }
  }

  // One validation and one test request per evaluated user.
  const validation = emptySplit(evaluated);
  const test = emptySplit(evaluated);
  let j = 0;
  for (let user = 0; user < userCount; user++) {
    const length = offsets[user + 1] - offsets[user];
    if (length < 3) {
      continue;
    }
    validation.users[j] = user;
    validation.inputEnd[j] = length - 2;
    validation.targets[j] = items[offsets[user] + length - 2];
    test.users[j] = user;
    test.inputEnd[j] = length - 1;
    test.targets[j] = items[offsets[user] + length - 1];
    j++;
  }
  return { trainEnd, validation, test, usersTooShort: userCount - evaluated };
}

function emptySplit(size: number): EvalSplit {
  return {
    users: new Int32Array(size), // [evaluated users]
    inputEnd: new Int32Array(size), // [evaluated users]
    targets: new Int32Array(size), // [evaluated users]
  };
}

import type { LeaveOneOutSplit } from '@malloc/data';
import type { TaskName, TrainingSettings } from './config';
import { trainOnValidationWithCtr, trainOnValidationWithPatience } from './messages';

/**
 * Checks that `training.trainOnValidation` fits the rest of the run. A model trained on the
 * validation targets cannot be stopped by them, so `training.patience` must be null. The CTR
 * task validates on impressions of its own, so it rejects the setting.
 *
 * @throws RangeError naming the conflicting field and what to change.
 */
export function checkTrainOnValidation(training: TrainingSettings, task: TaskName): void {
  if (training.trainOnValidation !== true) {
    return;
  }
  if (task === 'ctr') {
    throw new RangeError(trainOnValidationWithCtr());
  }
  if (training.patience !== null) {
    throw new RangeError(trainOnValidationWithPatience(training.patience));
  }
}

/**
 * Returns each user's number of leading items that training may use as inputs and targets.
 *
 * By default that is the split's `trainEnd` (n − 2), so training targets stop before the
 * validation item. With `trainOnValidation`, every evaluated user trains on n − 1 items, so
 * the validation item becomes the last training target, as in generative-recommenders
 * (`ignore_last_n=1`). The test item stays out of training either way. Users with fewer than
 * 3 items keep 0. Users with exactly 3 items go from 1 to 2, so they train only with the
 * setting, because a training sequence needs at least 2 items.
 *
 * @see Zhai et al., "Actions Speak Louder than Words", ICML 2024, arXiv:2402.17152 (the
 *   reference code trains on all but each user's last item).
 * @param split - the leave-one-out split of the dataset.
 * @returns `[userCount]`; the split's own array when `trainOnValidation` is false.
 * @example
 * ```ts
 * // One user with items [11, 12, 13, 14, 15]:
 * trainingEnd(split, false); // [3]: targets 12, 13
 * trainingEnd(split, true); // [4]: targets 12, 13, 14; item 15 is only ever the test target
 * ```
 */
export function trainingEnd(split: LeaveOneOutSplit, trainOnValidation: boolean): Int32Array {
  if (!trainOnValidation) {
    return split.trainEnd;
  }
  const end = Int32Array.from(split.trainEnd); // [userCount]
  const { users, inputEnd } = split.test;
  for (let j = 0; j < users.length; j++) {
    end[users[j]] = inputEnd[j];
  }
  return end;
}

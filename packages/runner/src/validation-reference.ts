import type { LeaveOneOutSplit, SequenceDataset } from '@malloc/data';
import { RankingAccumulator, rankOfTarget } from '@malloc/metrics';
import type { SequentialModel } from '@malloc/models';

/**
 * Computes validation NDCG@10 with one `forwardLast` call per user: the plain route that
 * `validationNdcg` (training.ts) must match, kept for its test and its speed benchmark.
 *
 * @param userIndices - indices into `split.validation`, `[users]`.
 */
export function perUserValidationNdcg(model: SequentialModel, dataset: SequenceDataset, split: LeaveOneOutSplit, userIndices: Int32Array): number {
  const accumulator = new RankingAccumulator([10]);
  for (const j of userIndices) {
    const start = dataset.offsets[split.validation.users[j]];
    const end = start + split.validation.inputEnd[j];
    const first = Math.max(start, end - model.config.maxLength);
    const timestamps = dataset.timestamps?.subarray(first, end);
    const hidden = model.forwardLast(dataset.items.subarray(first, end), { timestamps, requestTime: dataset.timestamps?.[end] });
    accumulator.add(rankOfTarget(model.scoreAll(hidden), split.validation.targets[j], { exclude: dataset.items.subarray(start, end) }));
  }
  return accumulator.count === 0 ? 0 : accumulator.means()['ndcg@10'];
}

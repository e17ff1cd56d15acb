import type { EvalSplit, SequenceDataset } from '@malloc/data';
import { rankOfTarget } from '@malloc/metrics';
import type { SequentialModel } from '@malloc/models';

/**
 * Ranks each request's held-out item among the whole catalogue, with the items of the user's
 * input excluded (never the target), as the validation and the `full` strategy rank it. The
 * input is capped to the model's newest `maxLength` items. With timestamps, the held-out
 * item's timestamp is the request time, which HSTU with `queryTime: 'next'` reads. The inputs
 * run through `forwardLastBatch` in batches of similar length, which equals `forwardLast` per
 * user within float32 rounding and costs fewer calls into the tensor engine.
 *
 * @param requests - `split.validation` or `split.test` of `leaveOneOut(dataset)`.
 * @param userIndices - indices into `requests`, `[users]`.
 * @param batchSize - sequences per encoder pass.
 * @returns the rank of each request's target, `[users]`, ties counted half.
 */
export function heldOutRanks(model: SequentialModel, dataset: SequenceDataset, requests: EvalSplit, userIndices: Int32Array, batchSize = 128): Float64Array {
  const maxLength = model.config.maxLength;
  const times = dataset.timestamps;

  // Each user's input, its newest maxLength items, their timestamps and the request time.
  const inputs: Int32Array[] = [];
  const capped: Int32Array[] = [];
  const timestamps: Float64Array[] = [];
  const requestTimes = new Float64Array(userIndices.length); // [users]
  userIndices.forEach((j, row) => {
    const start = dataset.offsets[requests.users[j]];
    const end = start + requests.inputEnd[j];
    const first = Math.max(start, end - maxLength);
    inputs.push(dataset.items.subarray(start, end));
    capped.push(dataset.items.subarray(first, end));
    if (times !== null) {
      timestamps.push(times.subarray(first, end));
      requestTimes[row] = times[end];
    }
  });

  // Last hidden state of every input, then full ranking against the held-out item.
  const ranks = new Float64Array(userIndices.length); // [users]
  if (capped.length === 0) {
    return ranks;
  }
  const d = model.config.hiddenSize;
  const hidden = model.forwardLastBatch(capped, { batchSize, ...(times === null ? {} : { timestamps, requestTimes }) }); // [users, d]
  userIndices.forEach((j, row) => {
    ranks[row] = rankOfTarget(model.scoreAll(hidden.subarray(row * d, (row + 1) * d)), requests.targets[j], { exclude: inputs[row] });
  });
  return ranks;
}

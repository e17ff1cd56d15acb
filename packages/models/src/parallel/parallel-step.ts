import * as tf from '@tensorflow/tfjs';
import { nonFiniteLoss } from '../messages';
import type { TrainableModel } from '../model/types';
import { deriveSeed, SeededRandom } from '../random';
import { planEpoch, type TrainingData } from '../training/data';
import type { AdamW } from '../training/optimizer';
import type { StepSettings } from '../training/step';
import type { EpochRecord, TrainOptions } from '../training/train';
import type { ReplicaPool } from './pool';
import { planShards, shardLossAndGradients, type TrainingShard } from './shards';

/** Seconds of the parts of data-parallel steps, summed over the steps that received it. */
export interface StepTimings {
  /** The main thread's own shard (forward, backward, weighting). */
  localSeconds: number;
  /** Waiting for the workers after the main thread's shard. */
  waitSeconds: number;
  /** Serial rest: summing the gradients, the AdamW update and publishing the weights. */
  updateSeconds: number;
}

/**
 * Runs one data-parallel optimisation step. The workers of `pool` compute shards 1.. while
 * the main thread computes shard 0. The weighted gradients are then summed in shard order,
 * and the main thread applies the AdamW update to its model and publishes the new weights.
 *
 * @param shards - from `planShards`, at most `pool.threads + 1`.
 * @param timings - when given, receives the seconds of each part of the step.
 * @returns the batch's mean loss.
 * @throws Error naming the worker and its message when a worker fails.
 */
export async function parallelTrainStep(
  model: TrainableModel,
  optimizer: AdamW,
  pool: ReplicaPool,
  shards: readonly TrainingShard[],
  settings: StepSettings,
  timings?: StepTimings,
): Promise<number> {
  // Send shards 1.. to the workers, then compute shard 0 here while they run.
  const started = performance.now();
  const remote = pool.computeShards(shards.slice(1), settings);
  let local: ReturnType<typeof shardLossAndGradients>;
  try {
    local = shardLossAndGradients(model, shards[0], settings);
  } catch (error) {
    await remote.catch(() => undefined);
    throw error;
  }
  const localDone = performance.now();
  let remoteLosses: number[];
  try {
    remoteLosses = await remote;
  } catch (error) {
    local.gradients.forEach((gradient) => gradient.dispose());
    throw error;
  }

  // Sum the weighted gradients in shard order. The optimizer consumes (disposes) the sums.
  const remoteDone = performance.now();
  const sums = local.gradients;
  remoteLosses.forEach((_, index) => {
    const gradients = pool.gradientsOf(index);
    sums.forEach((sum, variable) => {
      sums[variable] = tf.add(sum, gradients[variable]);
      sum.dispose();
      gradients[variable].dispose();
    });
  });
  optimizer.apply(sums);
  model.weightsChanged();
  pool.publishWeights(model);
  if (timings !== undefined) {
    timings.localSeconds += (localDone - started) / 1000;
    timings.waitSeconds += (remoteDone - localDone) / 1000;
    timings.updateSeconds += (performance.now() - remoteDone) / 1000;
  }
  return remoteLosses.reduce((total, loss) => total + loss, local.loss);
}

/**
 * Runs one epoch of data-parallel steps, planned like the single-process epoch (same
 * shuffling and length bucketing), and returns its record without validation.
 *
 * @param pool - `replicas - 1` worker threads; the main thread is the first replica.
 */
export async function runParallelEpoch(
  model: TrainableModel,
  optimizer: AdamW,
  pool: ReplicaPool,
  data: TrainingData,
  users: Int32Array,
  settings: StepSettings,
  options: TrainOptions,
  epoch: number,
): Promise<EpochRecord> {
  const started = performance.now();
  const maxLength = model.config.maxLength;
  const planRandom = new SeededRandom(deriveSeed(options.seed, epoch, 0));
  const batches = planEpoch(data, users, maxLength, options.batchSize, options.bucketBatches ?? 16, planRandom);
  let lossSum = 0;
  let tokens = 0;
  for (let step = 0; step < batches.length; step++) {
    const shards = planShards(data, batches[step], maxLength, pool.threads + 1, settings, deriveSeed(options.seed, epoch, step + 1));
    // Count before the step: posting a shard to a worker moves its arrays out of this thread.
    const batchTokens = shards.reduce((sum, shard) => sum + shard.batch.rows.length, 0);
    const loss = await parallelTrainStep(model, optimizer, pool, shards, settings);
    if (!Number.isFinite(loss)) {
      throw new Error(nonFiniteLoss(epoch, step + 1, loss));
    }
    lossSum += loss * batchTokens;
    tokens += batchTokens;
    options.onProgress?.({ epoch, epochs: options.epochs, step: step + 1, steps: batches.length, loss });
  }
  const seconds = (performance.now() - started) / 1000;
  return { epoch, loss: tokens === 0 ? 0 : lossSum / tokens, seconds, tokensPerSecond: seconds === 0 ? 0 : tokens / seconds, validation: null };
}

import { performance } from 'node:perf_hooks';
import { needsCalibration, type CalibrationSummary, type CompressionStrategy, type KVCache } from '@malloc/compression';
import type { SequenceDataset } from '@malloc/data';
import type { SequentialModel } from '@malloc/models';
import type { CellPlan } from './cells';
import type { Logger } from './logger';
import { calibrated, noCalibrationUsers } from './messages';
import { seededSample } from './sampling';

/** Training histories of a seeded sample of users, for calibration. */
export interface CalibrationHistories {
  /** Internal user indices, ascending. */
  users: Int32Array;
  /** Per user, the newest `maxLength` items of the training part, `[n_u]`. */
  histories: Int32Array[];
  /** Per user, the timestamps of those items in seconds; `undefined` when the dataset has none. */
  timestamps: Float64Array[] | undefined;
}

/**
 * Picks up to `count` users with a non-empty training part (a seeded sample, as for test
 * users) and returns the training part of each, capped at the newest `maxLength` items.
 * The training part of a leave-one-out split ends before the validation and test targets,
 * so no held-out item reaches a calibration cache.
 *
 * @param trainEnd - `[userCount]` length of each user's training part (`leaveOneOut(...).trainEnd`).
 */
export function calibrationHistories(dataset: SequenceDataset, trainEnd: Int32Array, count: number, seed: number, maxLength: number): CalibrationHistories {
  // Users whose training part contains at least one item, then a seeded sample of them.
  const eligible: number[] = [];
  for (let user = 0; user < trainEnd.length; user++) {
    if (trainEnd[user] >= 1) {
      eligible.push(user);
    }
  }
  const picked = seededSample(eligible.length, count, seed);
  const users = Int32Array.from(picked, (index) => eligible[index]); // [picked]

  // The newest maxLength items of each training part.
  const histories: Int32Array[] = [];
  const timestamps: Float64Array[] = [];
  for (const user of users) {
    const end = dataset.offsets[user] + trainEnd[user];
    const start = Math.max(dataset.offsets[user], end - maxLength);
    histories.push(dataset.items.subarray(start, end));
    if (dataset.timestamps !== null) {
      timestamps.push(dataset.timestamps.subarray(start, end));
    }
  }
  return { users, histories, timestamps: dataset.timestamps === null ? undefined : timestamps };
}

/** Inputs of {@link calibrateStrategies}. */
export interface CalibrationOptions {
  model: SequentialModel;
  dataset: SequenceDataset;
  /** `[userCount]` length of each user's training part. */
  trainEnd: Int32Array;
  /** Calibration users to sample (`evaluation.calibrationUsers`). */
  calibrationUsers: number;
  /** Seed of the sample (`evaluation.sampleSeed`). */
  sampleSeed: number;
  logger: Logger;
}

/**
 * Calibrates every strategy that needs it (`calibrate`) on the full caches of a seeded
 * sample of training users, prefilled once and shared by all such cells. Strategies without
 * calibration get `null`. A calibration that throws gets its Error, so that only its cell fails.
 *
 * @returns one entry per strategy: the calibration summary, `null`, or the Error.
 */
export function calibrateStrategies(strategies: readonly (CompressionStrategy | null)[], cells: readonly CellPlan[], options: CalibrationOptions): (CalibrationSummary | Error | null)[] {
  let caches: KVCache[] | null = null;
  return strategies.map((strategy, c) => {
    if (strategy === null || !needsCalibration(strategy)) {
      return null;
    }
    try {
      // Prefill the calibration users once, on the first cell that needs them.
      if (caches === null) {
        const sample = calibrationHistories(options.dataset, options.trainEnd, options.calibrationUsers, options.sampleSeed, options.model.config.maxLength);
        if (sample.histories.length === 0) {
          throw new RangeError(noCalibrationUsers(cells[c].strategy));
        }
        // The request time that HSTU with queryTime 'next' reads is the last training item's own
        // timestamp, because the next item's time belongs to the held-out validation item.
        caches = sample.histories.map((history, u) => {
          const times = sample.timestamps?.[u];
          const requestTime = times === undefined || times.length === 0 ? {} : { requestTime: times[times.length - 1] };
          return options.model.prefill(history, { timestamps: times, ...requestTime }).cache;
        });
      }

      // Fit the shared state.
      const started = performance.now();
      const summary = strategy.calibrate(caches, { stats: null, logger: options.logger });
      options.logger.info(calibrated(cells[c].strategy, cells[c].setting, summary.users, summary.sharedBytes, (performance.now() - started) / 1000));
      return summary;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  });
}

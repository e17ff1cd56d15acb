import type { SequenceDataset } from '@malloc/data';
import type { SequentialModel } from '@malloc/models';
import { needsAttentionStats, cellKey, type CellPlan } from './cells';
import type { RunConfig } from './config';
import type { TrainedSettings } from './trained-settings';
import { clickLabels, ctrSplit, DEFAULT_CLICK_THRESHOLD, DEFAULT_IMPRESSIONS, evaluateCtrCells } from './evaluate-ctr';
import type { Logger } from './logger';
import { cellFailed, ctrOneShotOnly, formatSeconds } from './messages';
import type { ProgressReporter } from './progress';
import { appendResultRow, type ResultRow } from './results-store';
import type { RowContext } from './rows';
import { DEFAULT_CALIBRATION_USERS } from './streaming-evaluation';
import { buildCtrRow } from './rows-ctr';
import type { CtrTrainingPlan, TrainingSummary } from './training';

/**
 * Labels and splits a dataset for a CTR run, before anything is trained or written.
 *
 * @throws TypeError naming the dataset when it has neither click labels nor ratings.
 * @throws RangeError when the configuration requests the streaming protocol, which the CTR task does not implement.
 */
export function prepareCtrRun(dataset: SequenceDataset, config: RunConfig, logger: Logger): CtrTrainingPlan {
  if ((config.evaluation.protocol ?? 'one-shot') !== 'one-shot') {
    throw new RangeError(ctrOneShotOnly(config.evaluation.protocol ?? ''));
  }
  const labels = clickLabels(dataset, config.evaluation.clickThreshold ?? DEFAULT_CLICK_THRESHOLD);
  const split = ctrSplit(dataset, config.evaluation.impressions ?? DEFAULT_IMPRESSIONS);
  const clicks = labels.labels.reduce((sum, label) => sum + label, 0);
  const rule = labels.source === 'labels' ? 'the dataset labels' : `rating ≥ ${labels.clickThreshold}`;
  logger.info(
    `CTR task: ${split.impressions} impressions per user, clicks by ${rule} (${((100 * clicks) / Math.max(1, labels.labels.length)).toFixed(1)} % of interactions); ` +
      `${split.test.users.length} test users, ${split.validation.users.length} validation users, ${split.usersTooShort} users with no history before their impressions are not evaluated`,
  );
  return { labels, split };
}

/** Inputs of {@link runCtrGroup}: one trained model and the pending cells of its (model, seed) group. */
export interface CtrGroupOptions {
  model: SequentialModel;
  modelId: string;
  seed: number;
  dataset: SequenceDataset;
  plan: CtrTrainingPlan;
  /** Indices into the test part of the split of the users to evaluate. */
  userIndices: Int32Array;
  cells: readonly CellPlan[];
  config: RunConfig;
  summary: TrainingSummary;
  /** Canonical settings that trained the model, recorded in every row as `training.settings`. */
  settings: TrainedSettings;
  /** Row fields that do not depend on the group. */
  run: Pick<RowContext, 'runId' | 'backend' | 'provenance'> & { fingerprint: string };
  resultsPath: string;
  logger: Logger;
  progress: ProgressReporter;
  shouldStop: () => boolean;
}

/**
 * Evaluates the pending CTR cells of one (model, seed) group on the test impressions and
 * appends one row per cell to the results file as soon as it is built.
 *
 * @returns the rows written and how many of them are failed cells.
 */
export function runCtrGroup(options: CtrGroupOptions): { rows: ResultRow[]; failed: number } {
  const { model, modelId, seed, dataset, plan, userIndices, cells, config, logger, progress } = options;

  // Score every cell on the same users.
  progress.start('users', userIndices.length, `${modelId} seed ${seed}, ${cells.length} cells`);
  logger.info(`Evaluating ${cells.length} CTR cells of ${modelId} (seed ${seed}) on ${userIndices.length} test users`);
  const evaluation = evaluateCtrCells({
    model,
    dataset,
    labels: plan.labels.labels,
    part: plan.split.test,
    userIndices,
    cells,
    recordStats: needsAttentionStats(cells),
    statsWindow: config.evaluation.statsWindow,
    logger,
    shouldStop: options.shouldStop,
    onUser: (done) => progress.update('users', done),
    calibration: { trainEnd: plan.split.trainEnd, calibrationUsers: config.evaluation.calibrationUsers ?? DEFAULT_CALIBRATION_USERS, sampleSeed: config.evaluation.sampleSeed },
  });
  progress.stop('users');
  logger.info(`Evaluated ${evaluation.usersEvaluated} users in ${formatSeconds(evaluation.seconds)}`);

  // One row per cell.
  const context: RowContext = {
    runId: options.run.runId,
    dataset: dataset.name,
    model: modelId,
    seed,
    backend: options.run.backend,
    excludeHistory: false,
    warmupUsers: config.evaluation.warmupUsers,
    bootstrapResamples: config.evaluation.bootstrapResamples,
    sampleSeed: config.evaluation.sampleSeed,
    training: { ...options.summary, settings: options.settings, loss: 'ctr-bce', validationMetric: 'auc', evaluationSeconds: evaluation.seconds },
    dataSource: { ...dataset.source, fingerprint: options.run.fingerprint, usersTooShort: plan.split.usersTooShort },
    provenance: options.run.provenance,
  };
  const settings = { impressionsPerUser: plan.split.impressions, labelSource: plan.labels.source, clickThreshold: plan.labels.clickThreshold, usersTooShort: plan.split.usersTooShort };
  const full = evaluation.measurements.find((measurement) => measurement.cell.strategy === 'full' && measurement.error === null);
  const rows: ResultRow[] = [];
  let failed = 0;
  for (const measurement of evaluation.measurements) {
    const key = cellKey(dataset.name, modelId, measurement.cell, seed);
    const row = buildCtrRow(measurement, context, key, settings, full);
    appendResultRow(options.resultsPath, row);
    rows.push(row);
    if (row.status === 'failed') {
      failed++;
      logger.warn(cellFailed(key, row.error ?? 'unknown error'));
    }
  }
  return { rows, failed };
}

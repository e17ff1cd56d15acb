import { performance } from 'node:perf_hooks';
import { cacheBytes, maxCachedTokens, silentLogger, type CalibrationSummary, type CompressionStrategy } from '@malloc/compression';
import type { SequenceDataset } from '@malloc/data';
import { auc, gauc, logLossFromLogits } from '@malloc/metrics';
import type { SequentialModel } from '@malloc/models';
import { calibrateStrategies } from './calibration';
import { instantiate, type CellPlan } from './cells';
import { RunInterruptedError } from './interrupt';
import type { Logger } from './logger';
import { ctrNeedsLabels, ctrSingleClass, evaluationInterrupted, progressLine, warningsSuppressed } from './messages';
import { createOnceLogger, type OnceLogger } from './once-logger';

/** Default number of a user's last interactions held out as that user's impressions. */
export const DEFAULT_IMPRESSIONS = 10;

/** Default rating at or above which an interaction counts as a click (MovieLens: 4 of 5 stars). */
export const DEFAULT_CLICK_THRESHOLD = 4;

/** Click label of every interaction and where it came from. */
export interface ClickLabels {
  /** 1 for a click, 0 otherwise, aligned with `dataset.items`, `[interactions]`. */
  labels: Uint8Array;
  /** `labels`: the dataset's own label column; `ratings`: rating ≥ `clickThreshold`. */
  source: 'labels' | 'ratings';
  /** The threshold applied to ratings, or `null` when the dataset's labels were used. */
  clickThreshold: number | null;
}

/**
 * Labels every interaction as a click or not: the dataset's `labels` when it has them, else
 * `rating ≥ clickThreshold`.
 *
 * @throws TypeError naming the dataset when it has neither labels nor ratings (the ML-1M
 *   sequences file, the synthetic generator).
 */
export function clickLabels(dataset: SequenceDataset, clickThreshold: number = DEFAULT_CLICK_THRESHOLD): ClickLabels {
  if (dataset.labels !== undefined && dataset.labels !== null) {
    return { labels: dataset.labels, source: 'labels', clickThreshold: null };
  }
  if (dataset.ratings === null) {
    throw new TypeError(ctrNeedsLabels(dataset.name));
  }
  const labels = Uint8Array.from(dataset.ratings, (rating) => (rating >= clickThreshold ? 1 : 0)); // [interactions]
  return { labels, source: 'ratings', clickThreshold };
}

/** Users of one evaluation part of a {@link CtrSplit}: a history followed by impressions. */
export interface CtrEvalSplit {
  /** Dataset user index of each evaluated user, `[users]`. */
  users: Int32Array;
  /** Length of each user's history: interactions `[0, historyEnd)` of the user, `[users]`. */
  historyEnd: Int32Array;
  /** The impressions are interactions `[historyEnd, impressionEnd)` of the user, `[users]`. */
  impressionEnd: Int32Array;
}

/** Chronological split of the CTR task. */
export interface CtrSplit {
  /** Impressions held out per user in each of validation and test. */
  impressions: number;
  /** Leading interactions of each user used for training, `[userCount]`. */
  trainEnd: Int32Array;
  /** History `[0, n − 2m)` and impressions `[n − 2m, n − m)`. Users with `n ≤ 2m` are left out. */
  validation: CtrEvalSplit;
  /** History `[0, n − m)` and impressions `[n − m, n)`. Users with `n ≤ m` are left out. */
  test: CtrEvalSplit;
  /** Users with at most `impressions` interactions, who have no test history. */
  usersTooShort: number;
}

/**
 * Splits every user's sequence by time for the CTR task, with m = `impressions`: the last m
 * interactions are the test impressions, the m before them the validation impressions, and
 * training uses only what comes before both, so neither model selection nor the test scores
 * an impression whose label was trained on. The test history includes the validation part, as leave-one-out includes
 * the validation item in the test input.
 */
export function ctrSplit(dataset: SequenceDataset, impressions: number = DEFAULT_IMPRESSIONS): CtrSplit {
  const m = impressions;
  const trainEnd = new Int32Array(dataset.userCount); // [userCount]
  const test: number[][] = [[], [], []];
  const validation: number[][] = [[], [], []];
  let usersTooShort = 0;
  for (let user = 0; user < dataset.userCount; user++) {
    const n = dataset.offsets[user + 1] - dataset.offsets[user];
    trainEnd[user] = Math.max(0, n - 2 * m);
    if (n - m < 1) {
      usersTooShort++;
      continue;
    }
    test[0].push(user);
    test[1].push(n - m);
    test[2].push(n);
    if (n - 2 * m >= 1) {
      validation[0].push(user);
      validation[1].push(n - 2 * m);
      validation[2].push(n - m);
    }
  }
  const part = (columns: number[][]): CtrEvalSplit => ({ users: Int32Array.from(columns[0]), historyEnd: Int32Array.from(columns[1]), impressionEnd: Int32Array.from(columns[2]) });
  return { impressions: m, trainEnd, validation: part(validation), test: part(test), usersTooShort };
}

/** One user's history and impressions, the history capped so the impressions fit the model. */
interface UserImpressions {
  history: Int32Array; // [len]
  historyTimes: Float64Array | undefined; // [len]
  candidates: Int32Array; // [k]
  candidateTimes: Float64Array | undefined; // [k]
  labels: Uint8Array; // [k]
}

/**
 * Cuts a user's history and impressions out of the dataset. The history keeps its newest
 * `maxLength − 1` items, because every candidate is scored at the position after the history.
 */
function userImpressions(dataset: SequenceDataset, labels: Uint8Array, part: CtrEvalSplit, j: number, maxLength: number): UserImpressions {
  const start = dataset.offsets[part.users[j]];
  const historyStart = start + Math.max(0, part.historyEnd[j] - (maxLength - 1));
  const historyEnd = start + part.historyEnd[j];
  const impressionEnd = start + part.impressionEnd[j];
  return {
    history: dataset.items.subarray(historyStart, historyEnd),
    historyTimes: dataset.timestamps?.subarray(historyStart, historyEnd),
    candidates: dataset.items.subarray(historyEnd, impressionEnd),
    candidateTimes: dataset.timestamps?.subarray(historyEnd, impressionEnd),
    labels: labels.subarray(historyEnd, impressionEnd),
  };
}

/**
 * AUC of the model on a part of the split with the full cache: the model-selection score of
 * CTR training. Returns 0.5 (a constant scorer) when the impressions hold only one class.
 *
 * @param userIndices - indices into `part`'s arrays of the users to score.
 */
export function ctrValidationAuc(model: SequentialModel, dataset: SequenceDataset, labels: Uint8Array, part: CtrEvalSplit, userIndices: Int32Array): number {
  const allLabels: number[] = [];
  const allLogits: number[] = [];
  for (const j of userIndices) {
    const user = userImpressions(dataset, labels, part, j, model.config.maxLength);
    const { cache } = model.prefill(user.history, { timestamps: user.historyTimes });
    const logits = model.scoreImpressions(cache, user.candidates, user.candidateTimes === undefined ? {} : { timestamps: user.candidateTimes });
    allLabels.push(...user.labels);
    allLogits.push(...logits);
  }
  const positives = allLabels.reduce((sum, label) => sum + label, 0);
  return positives === 0 || positives === allLabels.length ? 0.5 : auc(allLabels, allLogits);
}

/** Timings of one CTR cell in milliseconds, one entry per evaluated user and phase. */
export interface CtrPhaseSamples {
  prefill: number[];
  compress: number[];
  /** The candidates' pass through the model and the click head. */
  score: number[];
}

/** Impressions and logits gathered for one cell. */
export interface CtrCellMeasurement {
  cell: CellPlan;
  error: string | null;
  /** Evaluated user index (position in `userIndices`) of each impression. */
  users: number[];
  labels: number[];
  logits: number[];
  storedBytes: number;
  fullBytes: number;
  cachedTokens: number;
  /** Users whose impressions were scored. */
  usersScored: number;
  /** Methods with calibration: the calibration users and the bytes of the shared state. */
  calibration?: CalibrationSummary;
  samples: CtrPhaseSamples;
}

/** Result of {@link evaluateCtrCells}. */
export interface CtrEvaluationResult {
  measurements: CtrCellMeasurement[];
  usersEvaluated: number;
  seconds: number;
}

/** Options of {@link evaluateCtrCells}. */
export interface CtrEvaluateOptions {
  model: SequentialModel;
  dataset: SequenceDataset;
  labels: Uint8Array;
  part: CtrEvalSplit;
  /** Indices into `part`'s arrays of the users to evaluate, in order. */
  userIndices: Int32Array;
  cells: readonly CellPlan[];
  recordStats: boolean;
  statsWindow: number;
  logger?: Logger;
  /** Polled before each user; when it returns true, evaluation stops with a RunInterruptedError. */
  shouldStop?: () => boolean;
  /** Called after each user with the count of users done and the total. */
  onUser?: (done: number, total: number) => void;
  /** Training part of every user (`ctrSplit(...).trainEnd`) and the sample size, for methods that need calibration. */
  calibration?: { trainEnd: Int32Array; calibrationUsers: number; sampleSeed: number };
}

/**
 * Evaluates every cell on the CTR task (M-FALCON serving). Per user, the history is prefilled
 * once. Each cache cell compresses that cache from the history alone (never the impressions)
 * and scores all impressions against it with `scoreImpressions`. Each candidate sits at the
 * position after the history and attends to the cache and to itself only. The `recompute`
 * cell runs one full forward pass over history + [candidate] per impression instead.
 */
export function evaluateCtrCells(options: CtrEvaluateOptions): CtrEvaluationResult {
  const { model, dataset, labels, part, userIndices, cells } = options;
  const logger = options.logger ?? silentLogger;
  const started = performance.now();
  const maxLength = model.config.maxLength;

  // One fresh strategy instance and measurement per cell.
  const measurements: CtrCellMeasurement[] = cells.map((cell) => ({
    cell,
    error: null,
    users: [],
    labels: [],
    logits: [],
    storedBytes: 0,
    fullBytes: 0,
    cachedTokens: 0,
    usersScored: 0,
    samples: { prefill: [], compress: [], score: [] },
  }));
  const strategies: (CompressionStrategy | null)[] = cells.map((cell) => (cell.kind === 'cache' ? instantiate(cell) : null));
  const cellLoggers: OnceLogger[] = cells.map(() => createOnceLogger(logger));

  // Methods with calibration fit their shared state on training histories, which end before every impression.
  if (options.calibration !== undefined) {
    const calibrationOptions = { model, dataset, logger, ...options.calibration };
    calibrateStrategies(strategies, cells, calibrationOptions).forEach((result, c) => {
      if (result instanceof Error) {
        measurements[c].error = result.message;
      } else if (result !== null) {
        measurements[c].calibration = result;
      }
    });
  }

  let lastProgress = performance.now();
  for (let n = 0; n < userIndices.length; n++) {
    if (options.shouldStop?.() === true) {
      throw new RunInterruptedError(evaluationInterrupted(n, userIndices.length));
    }
    options.onUser?.(n, userIndices.length);
    const user = userImpressions(dataset, labels, part, userIndices[n], maxLength);

    // Prefill the history once; every cache cell compresses the same full cache.
    const prefillStart = performance.now();
    const prefilled = model.prefill(user.history, { timestamps: user.historyTimes, recordStats: options.recordStats, statsWindow: options.statsWindow });
    const prefillMs = performance.now() - prefillStart;
    const fullBytes = cacheBytes(prefilled.cache);

    for (let c = 0; c < cells.length; c++) {
      const measurement = measurements[c];
      if (measurement.error !== null) {
        continue;
      }
      try {
        const logits = scoreCell(measurement, strategies[c], prefilled, prefillMs, model, user, cellLoggers[c]);
        for (let i = 0; i < logits.length; i++) {
          measurement.users.push(n);
          measurement.labels.push(user.labels[i]);
          measurement.logits.push(logits[i]);
        }
        measurement.fullBytes += fullBytes;
        measurement.usersScored++;
      } catch (error) {
        // The cell stops here; bench records the message in a failed row and logs it.
        measurement.error = error instanceof Error ? error.message : String(error);
      }
    }

    // Progress every 10 s.
    if (performance.now() - lastProgress > 10_000) {
      lastProgress = performance.now();
      logger.info(progressLine('  users evaluated', n + 1, userIndices.length, (lastProgress - started) / 1000));
    }
  }

  // Repeated per-user warnings were shown once; log how many more there were.
  cellLoggers.forEach((cellLogger, c) => {
    if (cellLogger.suppressed > 0) {
      logger.warn(warningsSuppressed(cells[c].strategy, cells[c].setting, cellLogger.suppressed));
    }
  });

  options.onUser?.(userIndices.length, userIndices.length);
  return { measurements, usersEvaluated: userIndices.length, seconds: (performance.now() - started) / 1000 };
}

function scoreCell(
  measurement: CtrCellMeasurement,
  strategy: CompressionStrategy | null,
  prefilled: ReturnType<SequentialModel['prefill']>,
  prefillMs: number,
  model: SequentialModel,
  user: UserImpressions,
  logger: Logger,
): Float32Array {
  const samples = measurement.samples;

  // Recompute: no cache, one full forward pass over history + [candidate] per impression.
  if (strategy === null) {
    const scoreStart = performance.now();
    const sequences = Array.from(user.candidates, (candidate) => Int32Array.from([...user.history, candidate]));
    const historyTimes = user.historyTimes;
    const candidateTimes = user.candidateTimes;
    const timestamps = historyTimes === undefined || candidateTimes === undefined ? undefined : Array.from(candidateTimes, (time) => Float64Array.from([...historyTimes, time]));
    const hidden = model.forwardLastBatch(sequences, timestamps === undefined ? {} : { timestamps }); // [k, d]
    const logits = model.clickLogits(hidden); // [k]
    samples.score.push(performance.now() - scoreStart);
    const historyLength = user.history.length;
    measurement.storedBytes += historyLength * Int32Array.BYTES_PER_ELEMENT + (historyTimes === undefined ? 0 : historyLength * Float64Array.BYTES_PER_ELEMENT);
    return logits;
  }

  // Compress the prefilled cache. The strategy gets the history only, never the impressions.
  samples.prefill.push(prefillMs);
  const compressStart = performance.now();
  const compressed = strategy.compress(prefilled.cache, { stats: prefilled.stats, logger });
  samples.compress.push(performance.now() - compressStart);
  measurement.storedBytes += cacheBytes(compressed);
  measurement.cachedTokens += maxCachedTokens(compressed);

  // Score every impression against the compressed cache.
  const scoreStart = performance.now();
  const logits = model.scoreImpressions(compressed, user.candidates, user.candidateTimes === undefined ? {} : { timestamps: user.candidateTimes });
  samples.score.push(performance.now() - scoreStart);
  return logits;
}

/** Per-user AUC and LogLoss of one cell, in the order users were evaluated. */
export interface CtrUserValues {
  /** AUC of each user whose impressions have both labels, `[gaucUsersUsed]`. */
  auc: number[];
  /** Evaluated user index of each entry of `auc`. */
  aucUsers: number[];
  /** Mean LogLoss of each user's impressions, `[users]`. */
  logloss: number[];
}

/**
 * Computes each user's AUC (users with both labels only) and mean LogLoss. Every user has the
 * same number of impressions, so the mean of `auc` is GAUC and the mean of `logloss` is the
 * LogLoss over all impressions. Bootstrap intervals and paired tests use these values.
 *
 * @param measurement - impressions grouped by user: each user's impressions are contiguous.
 */
export function ctrUserValues(measurement: Pick<CtrCellMeasurement, 'users' | 'labels' | 'logits'>): CtrUserValues {
  const values: CtrUserValues = { auc: [], aucUsers: [], logloss: [] };
  let start = 0;
  while (start < measurement.users.length) {
    // One user's run of impressions.
    let end = start + 1;
    while (end < measurement.users.length && measurement.users[end] === measurement.users[start]) {
      end++;
    }
    const labels = measurement.labels.slice(start, end);
    const logits = measurement.logits.slice(start, end);
    const clicks = labels.reduce((sum, label) => sum + label, 0);

    values.logloss.push(logLossFromLogits(labels, logits));
    if (clicks > 0 && clicks < labels.length) {
      values.auc.push(auc(labels, logits));
      values.aucUsers.push(measurement.users[start]);
    }
    start = end;
  }
  return values;
}

/** AUC, GAUC and LogLoss of one cell, with the GAUC user counts. */
export interface CtrMetrics {
  auc: number;
  gauc: number;
  logloss: number;
  /** Users whose impressions have both labels, who enter GAUC. */
  gaucUsersUsed: number;
  /** Users whose impressions all have the same label, left out of GAUC. */
  gaucUsersSkipped: number;
  impressions: number;
  /** Fraction of impressions that are clicks. */
  clickRate: number;
}

/**
 * Computes the CTR metrics of a measurement: AUC over all impressions, GAUC (per-user AUC
 * weighted by impressions, users with one class skipped and counted) and LogLoss of
 * sigmoid(logit).
 *
 * @throws RangeError when the impressions hold only clicks or only non-clicks.
 */
export function ctrMetrics(measurement: Pick<CtrCellMeasurement, 'users' | 'labels' | 'logits'>): CtrMetrics {
  const positives = measurement.labels.reduce((sum, label) => sum + label, 0);
  const count = measurement.labels.length;
  if (positives === 0 || positives === count) {
    throw new RangeError(ctrSingleClass('evaluated', positives, count - positives));
  }
  const grouped = gauc(measurement.users, measurement.labels, measurement.logits);
  return {
    auc: auc(measurement.labels, measurement.logits),
    gauc: grouped.gauc,
    logloss: logLossFromLogits(measurement.labels, measurement.logits),
    gaucUsersUsed: grouped.usersUsed,
    gaucUsersSkipped: grouped.usersSkipped,
    impressions: count,
    clickRate: positives / count,
  };
}

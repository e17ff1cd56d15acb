import { performance } from 'node:perf_hooks';
import { cacheBytes, maxCachedTokens, silentLogger, type AttentionStats, type CalibrationSummary, type CompressionStrategy, type KVCache } from '@malloc/compression';
import type { EvalSplit, SequenceDataset } from '@malloc/data';
import { RankingAccumulator, rankOfTarget } from '@malloc/metrics';
import type { SequentialModel } from '@malloc/models';
import { instantiate, type CellPlan } from './cells';
import type { EvaluationSettings } from './config';
import type { Logger } from './logger';
import { RunInterruptedError } from './interrupt';
import { evaluationInterrupted, invalidPrefillWindow, progressLine, warningsSuppressed } from './messages';
import { createOnceLogger, type OnceLogger } from './once-logger';
import { calibrateStrategies } from './calibration';
import { DEFAULT_CALIBRATION_USERS, DEFAULT_CHUNK_SIZE, runStreamingCell } from './streaming-evaluation';
import { DEFAULT_PREFILL_WINDOW, UserRequests, type UserRequest } from './user-requests';
import { macModelOf, measureRequest, retrievalRequestMacs, type MeasuredRequest } from './request-macs';

/** Timings of one cell in milliseconds, one entry per evaluated user and phase. */
export interface PhaseSamples {
  prefill: number[];
  compress: number[];
  append: number[];
  score: number[];
  /** Ranking of the target among the scores, history excluded when configured. */
  rank: number[];
}

/** Measurements of one cell over the evaluated users. */
export interface CellMeasurement {
  cell: CellPlan;
  error: string | null;
  ranking: RankingAccumulator;
  /** Ranking of the tail users only (the longest 10 % of histories). */
  tailRanking: RankingAccumulator;
  storedBytes: number;
  fullBytes: number;
  cachedTokens: number;
  users: number;
  samples: PhaseSamples;
  /** Methods with calibration: the calibration users and the bytes of the shared state. */
  calibration?: CalibrationSummary;
  /** Streaming protocol: the most tokens one head stored after any chunk's compression. */
  streamPeakTokens?: number;
  /** Sum over users of the analytical MACs per request; absent when the model has no MAC model. */
  macsTotal?: number;
}

/** The result of evaluating one trained model on a split. */
export interface EvaluationResult {
  measurements: CellMeasurement[];
  usersEvaluated: number;
  usersSkipped: number;
  tailUsers: number;
  seconds: number;
}

export interface EvaluateOptions {
  model: SequentialModel;
  dataset: SequenceDataset;
  split: EvalSplit;
  /** Indices into the split's arrays of the users to evaluate, in order. */
  userIndices: Int32Array;
  cells: readonly CellPlan[];
  settings: EvaluationSettings;
  recordStats: boolean;
  logger?: Logger;
  /** Polled before each user; when it returns true, evaluation stops with a RunInterruptedError. */
  shouldStop?: () => boolean;
  /** Called after each user with the count of users done and the total. */
  onUser?: (done: number, total: number) => void;
  /** Training part of every user (`leaveOneOut(...).trainEnd`), for methods that need calibration. */
  calibration?: { trainEnd: Int32Array };
  /**
   * Consecutive users whose histories are prefilled in one `prefillBatch` call. Each user's
   * cache equals a `prefill` of its history within 1e-5, bit-identical on the cpu backend.
   * Above 1, a user's prefill time is the call's time divided by its users.
   * Default value: 1
   * @minimum 1
   */
  prefillWindow?: number;
}

/**
 * Evaluates every cell on the same users with the serving protocol. The capped input is split
 * into history and request, and the history is prefilled once per user. Each cell compresses
 * that cache from the history alone, appends the request and scores the whole catalogue. The
 * `recompute` cell runs one full forward pass instead. Ranking uses the documented tie policy
 * and, when `excludeHistory` is set, never ranks an item of the user's input except the target.
 */
export function evaluateCells(options: EvaluateOptions): EvaluationResult {
  const { model, dataset, split, userIndices, cells, settings } = options;
  const logger = options.logger ?? silentLogger;
  const started = performance.now();
  const tail = tailUserMask(split, userIndices);
  const macModel = macModelOf(model);

  // One fresh strategy instance and accumulator per cell.
  const measurements: CellMeasurement[] = cells.map((cell) => ({
    cell,
    error: null,
    ranking: new RankingAccumulator(settings.ks),
    tailRanking: new RankingAccumulator(settings.ks),
    storedBytes: 0,
    fullBytes: 0,
    cachedTokens: 0,
    users: 0,
    samples: { prefill: [], compress: [], append: [], score: [], rank: [] },
  }));
  const strategies: (CompressionStrategy | null)[] = cells.map((cell) => (cell.kind === 'cache' ? instantiate(cell) : null));
  const cellLoggers: OnceLogger[] = cells.map(() => createOnceLogger(logger));

  // Methods with calibration fit their shared state on training users before the first test user.
  if (options.calibration !== undefined) {
    const calibrationOptions = { model, dataset, trainEnd: options.calibration.trainEnd, calibrationUsers: settings.calibrationUsers ?? DEFAULT_CALIBRATION_USERS, sampleSeed: settings.sampleSeed, logger };
    calibrateStrategies(strategies, cells, calibrationOptions).forEach((result, c) => {
      if (result instanceof Error) {
        measurements[c].error = result.message;
      } else if (result !== null) {
        measurements[c].calibration = result;
      }
    });
  }

  const prefillWindow = options.prefillWindow ?? DEFAULT_PREFILL_WINDOW;
  if (!Number.isInteger(prefillWindow) || prefillWindow < 1) {
    throw new RangeError(invalidPrefillWindow(prefillWindow));
  }
  const requests = new UserRequests(model, dataset, split, userIndices, { ...settings, recordStats: options.recordStats }, prefillWindow);
  let usersSkipped = 0;
  let usersEvaluated = 0;
  let lastProgress = performance.now();
  for (let n = 0; n < userIndices.length; n++) {
    if (options.shouldStop?.() === true) {
      throw new RunInterruptedError(evaluationInterrupted(n, userIndices.length));
    }
    options.onUser?.(n, userIndices.length);

    // Take the user's history and request. The history was prefilled once, so every cache cell
    // compresses the same full cache, whose measured size is also the reference of recompute.
    const prepared = requests.get(n);
    if (prepared === null) {
      usersSkipped++;
      continue;
    }
    const { capped, request, historyLength, timestamps, requestTimes, targetTime, exclude, target, prefilled, prefillMs } = prepared;
    const fullBytes = cacheBytes(prefilled.cache);

    for (let c = 0; c < cells.length; c++) {
      const measurement = measurements[c];
      if (measurement.error !== null) {
        continue;
      }
      try {
        const strategy = strategies[c];
        const tokensBefore = measurement.cachedTokens;
        // NOTE: streaming cells measure nothing, so a variant's MACs there assume every row of the newest chunk cached and expected LSH bucket sizes.
        let measured: MeasuredRequest = {};
        const scores =
          strategy !== null && settings.protocol === 'streaming'
            ? runStreamingCell({
                measurement,
                strategy,
                model,
                history: capped.subarray(0, historyLength),
                historyTimes: timestamps?.subarray(0, historyLength),
                request,
                requestTimes,
                targetTime,
                chunkSize: settings.chunkSize ?? DEFAULT_CHUNK_SIZE,
                statsWindow: settings.statsWindow,
                recordStats: options.recordStats,
                logger: cellLoggers[c],
              })
            : runCell(measurement, strategy, prefilled, prefillMs, model, capped, request, historyLength, { timestamps, requestTimes, targetTime }, cellLoggers[c], (cache, grown) => {
                measured = macModel === null ? {} : measureRequest(macModel, cache, grown, request.length);
              });
        const rankStart = performance.now();
        const rank = rankOfTarget(scores, target, { exclude });
        measurement.samples.rank.push(performance.now() - rankStart);
        measurement.ranking.add(rank);
        if (tail[n] === 1) {
          measurement.tailRanking.add(rank);
        }
        measurement.fullBytes += fullBytes;
        measurement.users++;
        if (macModel !== null) {
          // Per-user MACs, because recompute's cost grows with the square of the history.
          const cached = strategy === null ? null : measurement.cachedTokens - tokensBefore;
          measurement.macsTotal = (measurement.macsTotal ?? 0) + retrievalRequestMacs(macModel, historyLength, request.length, cached, measured);
        }
      } catch (error) {
        // The cell stops here; bench records the message in a failed row and logs it.
        measurement.error = error instanceof Error ? error.message : String(error);
      }
    }
    usersEvaluated++;

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
  const tailUsers = tail.reduce((sum, flag) => sum + flag, 0);
  return { measurements, usersEvaluated, usersSkipped, tailUsers, seconds: (performance.now() - started) / 1000 };
}

function runCell(
  measurement: CellMeasurement,
  strategy: CompressionStrategy | null,
  prefilled: { cache: KVCache; stats: AttentionStats | null },
  prefillMs: number,
  model: SequentialModel,
  capped: Int32Array,
  request: Int32Array,
  historyLength: number,
  times: Pick<UserRequest, 'timestamps' | 'requestTimes' | 'targetTime'>,
  logger: Logger,
  onAppended: (cache: KVCache, grown: KVCache) => void,
): Float32Array {
  const samples = measurement.samples;
  const { timestamps, requestTimes, targetTime } = times;

  // Recompute: no cache, one full forward pass over history + request per request.
  if (strategy === null) {
    const forwardStart = performance.now();
    const hidden = model.forwardLast(capped, { timestamps, requestTime: targetTime });
    samples.append.push(performance.now() - forwardStart);
    const scoreStart = performance.now();
    const scores = model.scoreAll(hidden);
    samples.score.push(performance.now() - scoreStart);
    // Only a model that reads timestamps needs them stored beside the item ids.
    const timeBytes = timestamps === undefined || !readsTimestamps(model) ? 0 : historyLength * Float64Array.BYTES_PER_ELEMENT;
    measurement.storedBytes += historyLength * Int32Array.BYTES_PER_ELEMENT + timeBytes;
    return scores;
  }

  // Compress the prefilled cache. The strategy gets the history only, never the request.
  samples.prefill.push(prefillMs);
  const compressStart = performance.now();
  const compressed = strategy.compress(prefilled.cache, { stats: prefilled.stats, logger });
  samples.compress.push(performance.now() - compressStart);
  measurement.storedBytes += cacheBytes(compressed);
  measurement.cachedTokens += maxCachedTokens(compressed);

  // Append the request against the compressed cache, then score the catalogue.
  const appendStart = performance.now();
  const appended = model.append(compressed, request, { timestamps: requestTimes, requestTime: targetTime });
  samples.append.push(performance.now() - appendStart);
  onAppended(compressed, appended.cache);
  const d = appended.hidden.length / request.length;
  const last = appended.hidden.subarray((request.length - 1) * d); // [d]
  const scoreStart = performance.now();
  const scores = model.scoreAll(last);
  samples.score.push(performance.now() - scoreStart);
  return scores;
}

/**
 * Marks the tail users: the longest 10 % of input histories (at least one user), ties broken
 * by the lower position in `userIndices`. Returns a 0/1 flag per entry of `userIndices`.
 */
export function tailUserMask(split: EvalSplit, userIndices: Int32Array): Uint8Array {
  const count = userIndices.length;
  const order = Array.from({ length: count }, (_, n) => n);
  const lengthOf = (n: number): number => split.inputEnd[userIndices[n]];
  order.sort((a, b) => lengthOf(b) - lengthOf(a) || a - b);
  const tailCount = count === 0 ? 0 : Math.max(1, Math.ceil(count * 0.1));
  const mask = new Uint8Array(count);
  for (let i = 0; i < tailCount; i++) {
    mask[order[i]] = 1;
  }
  return mask;
}

/** Tells whether a model reads timestamps: HSTU unless it was built with `timeBias: false`. */
function readsTimestamps(model: SequentialModel): boolean {
  return model.kind === 'hstu' && (model.config as { timeBias?: boolean }).timeBias !== false;
}

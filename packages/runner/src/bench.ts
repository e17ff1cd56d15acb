import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DATASET_IDS, leaveOneOut, loadDataset, type SequenceDataset } from '@malloc/data';
import { initBackend } from '@malloc/models';
import { buildSite } from '@malloc/report';
import { writeMethodCatalogue } from './method-catalogue';
import { complexityCurves, writeComplexityCurves } from './complexity-curves';
import { cellKey, needsAttentionStats, planCells, type CellPlan, type ExtraMethod } from './cells';
import { checkSequenceVariantModels, checkTimeBiasModels, modelRowLabel } from './model-variants';
import { findLabelConflicts } from './label-conflicts';
import { runConfigHash, trainedSettings } from './trained-settings';
import type { RunConfig } from './config';
import { prepareCtrRun, runCtrGroup } from './bench-ctr';
import { evaluateCells } from './evaluate';
import { RunInterruptedError, type StopRequest } from './interrupt';
import type { Logger } from './logger';
import { benchInterrupted, cellFailed, cellSkipped, labelConflict, noNewRows, queryTimeWithoutTimestamps, timeBiasWithoutTimestamps, unreadableRunConfig, formatSeconds, shardPlan, strategyForRecurrentModel, unknownDataset, unknownModel } from './messages';
import { silentProgress, type ProgressReporter } from './progress';
import { describeMachine, readGitCommit, readPackageVersions } from './provenance';
import { appendResultRow, readResults, writeNewFileAtomic, type ResultRow } from './results-store';
import { buildRow } from './rows';
import { DEFAULT_CHUNK_SIZE, protocolKeySuffix } from './streaming-evaluation';
import { formatCtrSummaryTable } from './rows-ctr';
import { seededSample } from './sampling';
import { assignShards, groupKey, type Shard } from './shard';
import { formatSummaryTable } from './summary';
import { MODEL_IDS, RECURRENT_MODEL_IDS, RECURRENT_STRATEGIES, datasetFingerprint, obtainTrainedModel } from './training';
import { checkTrainOnValidation } from './train-on-validation';

/** Outcome of one bench run. */
export interface BenchOutcome {
  runId: string;
  resultsPath: string;
  rowsWritten: ResultRow[];
  cellsSkipped: number;
  cellsFailed: number;
  sitePath: string | null;
  summary: string;
}

/** Options of {@link runBench} besides the configuration. */
export interface BenchOptions {
  /** Run only this shard's (model, seed) groups; see `assignShards`. */
  shard?: Shard;
  /** Polled between users, training steps and groups; when set, the run stops with a RunInterruptedError. */
  stop?: StopRequest;
  /** Methods outside the compression registry that this run may select (for example in tests). */
  extraMethods?: readonly ExtraMethod[];
  /** Receives the progress of training, evaluation and the grid. */
  progress?: ProgressReporter;
}

/**
 * Runs the grid of a resolved configuration: for each model and seed, train (or reuse) the
 * model, evaluate every (strategy, setting) cell on the test users, and append one row per cell
 * to `<out>/results.jsonl`. Cells already finished with the same configuration are skipped; a
 * failing cell is recorded with its error and the others continue.
 *
 * With `options.shard`, only the (model, seed) groups of that shard run. When `options.stop` is
 * set, the run stops before the next user, training step or group: rows of finished groups are
 * kept, nothing of the interrupted group is written, and a rerun continues from there.
 *
 * @throws RangeError for an unknown dataset, model or strategy, or a ratio outside [0, 1),
 *   before anything is trained.
 * @throws RunInterruptedError when `options.stop` was set.
 */
export async function runBench(requested: RunConfig, logger: Logger, options: BenchOptions = {}): Promise<BenchOutcome> {
  const startedAt = new Date();
  const config: RunConfig = { ...requested, out: resolve(requested.out) };

  // Validate every id and setting before any work.
  if (!DATASET_IDS.includes(config.dataset)) {
    throw new RangeError(unknownDataset(config.dataset, DATASET_IDS));
  }
  for (const model of config.models) {
    if (!MODEL_IDS.includes(model)) {
      throw new RangeError(unknownModel(model, MODEL_IDS));
    }
  }
  const cells = planCells(config.strategies, config.compressionRatios, options.extraMethods);
  rejectRecurrentStrategies(config.models, cells);
  checkSequenceVariantModels(config.models, config.model);
  checkTimeBiasModels(config.models, config.model, config.task);
  checkTrainOnValidation(config.training, config.task);
  const progress = options.progress ?? silentProgress;
  const shouldStop = (): boolean => options.stop?.stopped === true;
  const groups = options.shard === undefined ? null : new Set(assignShards(config.models, config.seeds, options.shard.count)[options.shard.index]);

  // Data first, so that a missing or malformed file stops the run before anything is written.
  const dataset = await loadDataset(config.dataset, { dataDir: config.dataDir ?? undefined, logger, synthetic: config.synthetic });
  if (config.model.timeBias === false && dataset.timestamps === null) {
    logger.warn(timeBiasWithoutTimestamps(dataset.name));
  }
  if (config.model.queryTime === 'next' && dataset.timestamps === null) {
    logger.warn(queryTimeWithoutTimestamps(dataset.name));
  }
  const ctrRun = config.task === 'ctr' ? prepareCtrRun(dataset, config, logger) : null;

  // Run identity, resolved config and provenance, saved before the first result.
  const runId = `${startedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  const out = config.out;
  const resultsPath = join(out, 'results.jsonl');
  const configHash = runConfigHash(config);
  const backend = await initBackend(config.backend, logger);
  const provenance = {
    gitCommit: readGitCommit(),
    packages: readPackageVersions(),
    backend,
    node: process.version,
    machine: describeMachine(),
    startedAt: startedAt.toISOString(),
    configHash,
  };
  writeNewFileAtomic(join(out, 'runs', runId, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  writeNewFileAtomic(join(out, 'runs', runId, 'provenance.json'), `${JSON.stringify(provenance, null, 2)}\n`);
  ensureResultsFile(resultsPath);
  logger.info(`Run ${runId}: preset ${config.preset}, dataset ${config.dataset}, backend ${backend}, results in ${resultsPath}`);
  if (options.shard !== undefined && groups !== null) {
    logger.info(shardPlan(options.shard.index, options.shard.count, [...groups], config.models.length * config.seeds.length));
  }

  const split = leaveOneOut(dataset);
  const fingerprint = datasetFingerprint(dataset);
  logger.info(describeDataset(dataset, split.usersTooShort));
  const testUsers = seededSample(ctrRun === null ? split.test.users.length : ctrRun.split.test.users.length, config.evaluation.maxUsers, config.evaluation.sampleSeed);

  // Cache cells of the streaming protocol get their own keys, so both protocols fit one results file.
  const keySuffix = protocolKeySuffix(config.evaluation.protocol ?? 'one-shot', config.evaluation.chunkSize ?? DEFAULT_CHUNK_SIZE);

  // Cells already finished with this configuration are not run again.
  const existing = readResults(resultsPath).rows;
  const finished = new Set(existing.filter((row) => row.status === 'ok' && row.provenance.configHash === configHash).map((row) => row.cellKey));

  // Rows of the same label from a model trained otherwise appear under separate labels in the report, so warn about them now.
  const labelCheck = findLabelConflicts(out, existing, config);
  for (const conflict of labelCheck.conflicts) {
    logger.warn(labelConflict(resultsPath, conflict.model, conflict.runId, conflict.fields));
  }
  for (const entry of labelCheck.unreadable) {
    logger.warn(unreadableRunConfig(entry.path, entry.reason));
  }
  const rowsWritten: ResultRow[] = [];
  let cellsSkipped = 0;
  let cellsFailed = 0;
  const gridTotal = cells.length * (groups === null ? config.models.length * config.seeds.length : groups.size);
  let gridDone = 0;
  progress.start('cells', gridTotal, `grid cells of ${dataset.name}`);

  for (const modelId of config.models) {
    for (const seed of config.seeds) {
      if (groups !== null && !groups.has(groupKey(modelId, seed))) {
        continue;
      }
      if (shouldStop()) {
        throw new RunInterruptedError(benchInterrupted(rowsWritten.length));
      }
      // Rows name the model with its head-level variant, for example sasrec-gqa2, so that variants stay apart.
      const modelLabel = modelRowLabel(modelId, config.model);
      const pending = cells.filter((cell) => !finished.has(cellKey(dataset.name, modelLabel, cell, seed, keySuffix)));
      cellsSkipped += cells.length - pending.length;
      for (const cell of cells) {
        if (!pending.includes(cell)) {
          logger.info(cellSkipped(cellKey(dataset.name, modelLabel, cell, seed, keySuffix)));
        }
      }
      gridDone += cells.length - pending.length;
      if (pending.length === 0) {
        progress.update('cells', gridDone);
        continue;
      }

      // Train or reuse, then evaluate every pending cell on the same users.
      let trainingBarStarted = false;
      const trained = await obtainTrainedModel(config, modelId, seed, dataset, split, fingerprint, logger, {
        shouldStop,
        onProgress: (step) => {
          // A resumed training starts its bar at the first epoch it runs.
          if (!trainingBarStarted) {
            trainingBarStarted = true;
            progress.start('epochs', step.epochs * step.steps, `${modelId} seed ${seed}`);
          }
          progress.update('epochs', (step.epoch - 1) * step.steps + step.step);
        },
      }, ctrRun);
      progress.stop('epochs');
      const { model, summary } = trained;
      try {
        if (shouldStop()) {
          throw new RunInterruptedError(benchInterrupted(rowsWritten.length));
        }
        if (ctrRun !== null) {
          const group = runCtrGroup({ model, modelId: modelLabel, seed, dataset, plan: ctrRun, userIndices: testUsers, cells: pending, config, summary, settings: trainedSettings(config, modelId), run: { runId, backend, provenance, fingerprint }, resultsPath, logger, progress, shouldStop });
          rowsWritten.push(...group.rows);
          cellsFailed += group.failed;
          gridDone += pending.length;
          progress.update('cells', gridDone);
          continue;
        }
        // A finished `full` cell runs again without a new row, so that the pending cells get their paired test.
        const evaluated = withFullForPairing(cells, pending);
        progress.start('users', testUsers.length, `${modelId} seed ${seed}, ${pending.length} cells`);
        logger.info(`Evaluating ${pending.length} cells of ${modelId} (seed ${seed}) on ${testUsers.length} test users${evaluated.length > pending.length ? ', with full again for the paired tests' : ''}`);
        const evaluation = evaluateCells({
          model,
          dataset,
          split: split.test,
          userIndices: testUsers,
          cells: evaluated,
          settings: config.evaluation,
          recordStats: needsAttentionStats(evaluated),
          logger,
          shouldStop,
          onUser: (done) => progress.update('users', done),
          calibration: { trainEnd: split.trainEnd },
        });
        progress.stop('users');
        logger.info(`Evaluated ${evaluation.usersEvaluated} users in ${formatSeconds(evaluation.seconds)} (${(evaluation.usersEvaluated / Math.max(evaluation.seconds, 1e-9)).toFixed(1)} users/s for ${pending.length} cells)`);

        // One row per cell, appended as soon as it is built.
        const context = {
          runId,
          dataset: dataset.name,
          model: modelLabel,
          seed,
          backend,
          excludeHistory: config.evaluation.excludeHistory,
          warmupUsers: config.evaluation.warmupUsers,
          bootstrapResamples: config.evaluation.bootstrapResamples,
          sampleSeed: config.evaluation.sampleSeed,
          training: { ...summary, settings: trainedSettings(config, modelId), evaluationSeconds: evaluation.seconds },
          dataSource: { ...dataset.source, fingerprint, usersTooShort: split.usersTooShort },
          provenance,
          protocol: config.evaluation.protocol ?? 'one-shot',
          chunkSize: config.evaluation.chunkSize ?? DEFAULT_CHUNK_SIZE,
        };
        for (const measurement of evaluation.measurements) {
          if (!pending.includes(measurement.cell)) {
            continue;
          }
          const key = cellKey(dataset.name, modelLabel, measurement.cell, seed, keySuffix);
          const row = buildRow(measurement, evaluation, context, key);
          appendResultRow(resultsPath, row);
          rowsWritten.push(row);
          if (row.status === 'failed') {
            cellsFailed++;
            logger.warn(cellFailed(key, row.error ?? 'unknown error'));
          }
        }
        gridDone += pending.length;
        progress.update('cells', gridDone);
      } finally {
        model.dispose();
      }
    }
  }

  progress.stop('cells');

  // The method catalogue for the leaderboard's method pages, then the site from every row.
  writeMethodCatalogue(out);
  writeComplexityCurves(out, complexityCurves(config, dataset.name, dataset.itemCount, dataset.timestamps !== null));
  let sitePath: string | null = null;
  if (config.report) {
    sitePath = join(out, 'site');
    const site = await buildSite({ results: [out], site: sitePath, logger });
    logger.info(`Leaderboard site: ${join(sitePath, 'index.html')} (${site.rows} rows)`);
  }

  let summary = noNewRows(cellsSkipped);
  if (rowsWritten.length > 0) {
    summary = config.task === 'ctr' ? formatCtrSummaryTable(rowsWritten) : formatSummaryTable(rowsWritten);
  }
  logger.info(`Finished run ${runId} in ${formatSeconds((Date.now() - startedAt.getTime()) / 1000)}: ${rowsWritten.length} rows written, ${cellsSkipped} cells skipped, ${cellsFailed} failed`);
  return { runId, resultsPath, rowsWritten, cellsSkipped, cellsFailed, sitePath, summary };
}

/**
 * Returns the pending cells plus the grid's `full` cell when it already has a row but some
 * other pending cell needs it as the reference of its paired test.
 */
export function withFullForPairing(cells: readonly CellPlan[], pending: readonly CellPlan[]): CellPlan[] {
  const full = cells.find((cell) => cell.strategy === 'full');
  if (full === undefined || pending.includes(full) || pending.length === 0) {
    return [...pending];
  }
  return [full, ...pending];
}

/** Creates an empty results.jsonl when there is none, so a shard with no work still has one to merge. */
function ensureResultsFile(path: string): void {
  if (!existsSync(path)) {
    appendFileSync(path, '');
  }
}

function describeDataset(dataset: SequenceDataset, usersTooShort: number): string {
  const interactions = dataset.items.length;
  return `Dataset ${dataset.name}: ${dataset.userCount} users, ${dataset.itemCount} items, ${interactions} interactions; ${usersTooShort} users with fewer than 3 interactions are not evaluated`;
}

/**
 * Throws before any work when a recurrent model (GRU4Rec, RWKV) would get a strategy other
 * than `full` or `recompute`. Its cache contains one state token per layer, which token
 * strategies cannot shrink, and precision strategies are not tested on the state.
 *
 * @throws RangeError naming the model and the strategy.
 */
export function rejectRecurrentStrategies(models: readonly string[], cells: readonly CellPlan[]): void {
  for (const model of models) {
    if (!RECURRENT_MODEL_IDS.includes(model)) {
      continue;
    }
    const rejected = cells.find((cell) => !RECURRENT_STRATEGIES.includes(cell.strategy));
    if (rejected !== undefined) {
      throw new RangeError(strategyForRecurrentModel(model, rejected.strategy, RECURRENT_STRATEGIES));
    }
  }
}

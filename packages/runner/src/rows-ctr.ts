import { bootstrapMeanCI, pairedTest, summarizeLatency } from '@malloc/metrics';
import { ctrMetrics, ctrUserValues, type CtrCellMeasurement } from './evaluate-ctr';
import { noUserEvaluated } from './messages';
import type { CtrRowDetails, PhaseLatency, ResultRow } from './results-store';
import type { RowContext } from './rows';

/** Settings of a CTR row besides the measurement: impressions, label source and skipped users. */
export interface CtrRowSettings {
  /** Impressions held out per user. */
  impressionsPerUser: number;
  labelSource: 'labels' | 'ratings';
  clickThreshold: number | null;
  /** Users with no history before their impressions, not evaluated. */
  usersTooShort: number;
}

/**
 * Builds the results row of one CTR cell: AUC, GAUC and LogLoss over its impressions, the GAUC
 * user counts, measured bytes and the latency percentiles after warm-up. GAUC and LogLoss get
 * 95 % bootstrap intervals over users and, when `full` is given, a paired test against it over
 * the same users. A cell whose impressions hold a single class is recorded as failed with the
 * reason.
 *
 * @param full - the `full` cell of the same evaluation, or `undefined`.
 */
export function buildCtrRow(measurement: CtrCellMeasurement, context: RowContext, cellKey: string, settings: CtrRowSettings, full?: CtrCellMeasurement): ResultRow {
  const { cell } = measurement;
  const base = {
    schemaVersion: 1 as const,
    runId: context.runId,
    cellKey,
    task: 'ctr' as const,
    protocol: cell.kind === 'recompute' ? ('none' as const) : ('one-shot' as const),
    dataset: context.dataset,
    model: context.model,
    strategy: cell.strategy,
    family: cell.method.family,
    granularity: cell.method.granularity,
    params: cell.params,
    setting: cell.setting,
    seed: context.seed,
    backend: context.backend,
    excludeHistory: false,
    training: context.training,
    dataSource: context.dataSource,
    provenance: { ...context.provenance, finishedAt: new Date().toISOString() },
  };

  // Metrics. Impressions of a single class fail the cell with the reason.
  let error = measurement.error ?? (measurement.usersScored === 0 ? noUserEvaluated(settings.usersTooShort) : null);
  let metrics = null;
  if (error === null) {
    try {
      metrics = ctrMetrics(measurement);
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
  }
  if (error !== null || metrics === null) {
    return { ...base, status: 'failed', error: error ?? 'no metrics', usersEvaluated: measurement.usersScored, usersSkipped: settings.usersTooShort };
  }
  const details: CtrRowDetails = {
    impressionsPerUser: settings.impressionsPerUser,
    impressions: metrics.impressions,
    clickRate: metrics.clickRate,
    labelSource: settings.labelSource,
    clickThreshold: settings.clickThreshold,
    gaucUsersUsed: metrics.gaucUsersUsed,
    gaucUsersSkipped: metrics.gaucUsersSkipped,
  };

  // Uncertainty over users. Every user has the same number of impressions, so the per-user
  // means are GAUC and LogLoss.
  const perUser = ctrUserValues(measurement);
  const fullPerUser = full === undefined || full === measurement || full.error !== null ? null : ctrUserValues(full);
  const confidence: NonNullable<ResultRow['confidence']> = {};
  const pairedVsFull: NonNullable<ResultRow['pairedVsFull']> = {};
  for (const key of ['gauc', 'logloss'] as const) {
    const field = key === 'gauc' ? 'auc' : 'logloss';
    const values = perUser[field];
    const reference = fullPerUser?.[field] ?? null;
    if (values.length > 0) {
      const interval = bootstrapMeanCI(values, { resamples: context.bootstrapResamples, seed: context.sampleSeed });
      confidence[key] = { low: interval.low, high: interval.high, confidence: interval.confidence, resamples: interval.resamples };
    }
    if (reference !== null && reference.length === values.length && values.length > 1) {
      const test = pairedTest(values, reference, { seed: context.sampleSeed });
      pairedVsFull[key] = { meanDifference: test.meanDifference, pValue: test.pValue, n: test.n, method: test.method };
    }
  }

  // Bytes: means per user and the measured ratio of totals.
  const users = measurement.usersScored;
  return {
    ...base,
    status: 'ok',
    usersEvaluated: users,
    usersSkipped: settings.usersTooShort,
    metrics: { auc: metrics.auc, gauc: metrics.gauc, logloss: metrics.logloss },
    confidence,
    ...(Object.keys(pairedVsFull).length > 0 ? { pairedVsFull } : {}),
    ctr: details,
    bytesPerUser: measurement.storedBytes / users,
    fullBytesPerUser: measurement.fullBytes / users,
    compressionRatio: measurement.storedBytes > 0 ? measurement.fullBytes / measurement.storedBytes : 0,
    declaredRatio: cell.declaredRatio,
    ...(cell.kind === 'cache' ? { meanCachedTokens: measurement.cachedTokens / users } : {}),
    ...(measurement.calibration === undefined ? {} : { calibrationUsers: measurement.calibration.users, basisBytes: measurement.calibration.sharedBytes }),
    latencyMs: {
      prefill: latencyOf(measurement.samples.prefill, context.warmupUsers),
      compress: latencyOf(measurement.samples.compress, context.warmupUsers),
      append: null,
      score: latencyOf(measurement.samples.score, context.warmupUsers),
    },
  };
}

function latencyOf(values: number[], warmup: number): PhaseLatency {
  if (values.length === 0) {
    return null;
  }
  const summary = summarizeLatency(values, { warmup: Math.min(warmup, values.length - 1) });
  return { p50: summary.p50, p95: summary.p95, p99: summary.p99, mean: summary.meanMs, firstMs: summary.firstMs, count: summary.count };
}

/**
 * Formats CTR rows as a fixed-width text table for the end of a run: strategy, setting, users,
 * AUC, GAUC with the users it skipped, LogLoss, bytes per user, measured ratio and the scoring
 * latency median.
 */
export function formatCtrSummaryTable(rows: readonly ResultRow[]): string {
  const header = ['model', 'seed', 'strategy', 'setting', 'users', 'auc', 'gauc (users skipped)', 'logloss', 'bytes/user', 'ratio', 'score p50 ms', 'status'];
  const body = rows.map((row) => {
    const metric = (key: string): string => (row.metrics?.[key] === undefined ? '-' : row.metrics[key].toFixed(4));
    return [
      row.model,
      String(row.seed),
      row.strategy,
      row.setting === '' ? '-' : row.setting,
      String(row.usersEvaluated),
      metric('auc'),
      row.ctr === undefined ? metric('gauc') : `${metric('gauc')} (${row.ctr.gaucUsersSkipped})`,
      metric('logloss'),
      row.bytesPerUser === undefined ? '-' : Math.round(row.bytesPerUser).toLocaleString('en-US'),
      row.compressionRatio === undefined ? '-' : `${row.compressionRatio.toFixed(2)}x`,
      row.latencyMs?.score?.p50.toFixed(2) ?? '-',
      row.status === 'ok' ? 'ok' : `failed: ${row.error ?? ''}`,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n');
}

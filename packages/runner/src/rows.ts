import { bootstrapMeanCI, pairedTest, summarizeLatency } from '@malloc/metrics';
import type { CellMeasurement, EvaluationResult, PhaseSamples } from './evaluate';
import { noUserEvaluated } from './messages';
import type { PhaseLatency, ResultRow } from './results-store';

/** Fields shared by every row of one (dataset, model, seed) evaluation. */
export interface RowContext {
  runId: string;
  dataset: string;
  model: string;
  seed: number;
  backend: ResultRow['backend'];
  excludeHistory: boolean;
  warmupUsers: number;
  bootstrapResamples: number;
  sampleSeed: number;
  training: Record<string, unknown>;
  dataSource: Record<string, unknown>;
  provenance: Omit<ResultRow['provenance'], 'finishedAt'>;
  /** Protocol of the cache cells; unset means one-shot. */
  protocol?: 'one-shot' | 'streaming';
  /** Streaming protocol: history items per chunk. */
  chunkSize?: number;
}

/** Metrics that get a confidence interval and a paired test against `full`. */
const TESTED_METRICS = ['ndcg@10', 'hit@10'];

/**
 * Builds the results row of one measured cell: means, 95 % bootstrap intervals, the paired
 * test against the `full` cell of the same evaluation (when there is one), the tail slice,
 * measured bytes and the latency percentiles after warm-up.
 */
export function buildRow(measurement: CellMeasurement, evaluation: EvaluationResult, context: RowContext, cellKey: string): ResultRow {
  const { cell } = measurement;
  const base = {
    schemaVersion: 1 as const,
    runId: context.runId,
    cellKey,
    task: 'retrieval' as const,
    protocol: cell.kind === 'recompute' ? ('none' as const) : (context.protocol ?? ('one-shot' as const)),
    dataset: context.dataset,
    model: context.model,
    strategy: cell.strategy,
    family: cell.method.family,
    granularity: cell.method.granularity,
    params: cell.params,
    setting: cell.setting,
    seed: context.seed,
    backend: context.backend,
    excludeHistory: context.excludeHistory,
    training: context.training,
    dataSource: context.dataSource,
    provenance: { ...context.provenance, finishedAt: new Date().toISOString() },
  };
  const error = measurement.error ?? (measurement.users === 0 ? noUserEvaluated(evaluation.usersSkipped) : null);
  if (error !== null) {
    return { ...base, status: 'failed', error, usersEvaluated: measurement.users, usersSkipped: evaluation.usersSkipped };
  }

  // Accuracy with uncertainty.
  const full = evaluation.measurements.find((other) => other.cell.strategy === 'full' && other.error === null);
  const confidence: NonNullable<ResultRow['confidence']> = {};
  const pairedVsFull: NonNullable<ResultRow['pairedVsFull']> = {};
  for (const key of TESTED_METRICS) {
    const values = measurement.ranking.values(key);
    const interval = bootstrapMeanCI(values, { resamples: context.bootstrapResamples, seed: context.sampleSeed });
    confidence[key] = { low: interval.low, high: interval.high, confidence: interval.confidence, resamples: interval.resamples };
    if (full !== undefined && full !== measurement) {
      const test = pairedTest(values, full.ranking.values(key), { seed: context.sampleSeed });
      pairedVsFull[key] = { meanDifference: test.meanDifference, pValue: test.pValue, n: test.n, method: test.method };
    }
  }

  // Bytes: means per user and the measured ratio of totals.
  const users = measurement.users;
  return {
    ...base,
    status: 'ok',
    usersEvaluated: users,
    usersSkipped: evaluation.usersSkipped,
    metrics: measurement.ranking.means(),
    confidence,
    ...(Object.keys(pairedVsFull).length > 0 ? { pairedVsFull } : {}),
    slices: { tail: { users: measurement.tailRanking.count, metrics: measurement.tailRanking.count > 0 ? measurement.tailRanking.means() : {} } },
    bytesPerUser: users > 0 ? measurement.storedBytes / users : 0,
    fullBytesPerUser: users > 0 ? measurement.fullBytes / users : 0,
    compressionRatio: measurement.storedBytes > 0 ? measurement.fullBytes / measurement.storedBytes : 0,
    declaredRatio: cell.declaredRatio,
    ...(cell.kind === 'cache' ? { meanCachedTokens: users > 0 ? measurement.cachedTokens / users : 0 } : {}),
    ...(cell.kind === 'cache' && context.protocol === 'streaming' ? { chunkSize: context.chunkSize, maxCachedTokens: measurement.streamPeakTokens ?? 0 } : {}),
    ...(measurement.macsTotal === undefined || users === 0 ? {} : { macsPerRequest: measurement.macsTotal / users }),
    ...(measurement.calibration === undefined ? {} : { calibrationUsers: measurement.calibration.users, basisBytes: measurement.calibration.sharedBytes }),
    latencyMs: latencyOf(measurement.samples, context.warmupUsers),
  };
}

function latencyOf(samples: PhaseSamples, warmup: number): NonNullable<ResultRow['latencyMs']> {
  const phase = (values: number[]): PhaseLatency => {
    if (values.length === 0) {
      return null;
    }
    const summary = summarizeLatency(values, { warmup: Math.min(warmup, values.length - 1) });
    return { p50: summary.p50, p95: summary.p95, p99: summary.p99, mean: summary.meanMs, firstMs: summary.firstMs, count: summary.count };
  };
  return { prefill: phase(samples.prefill), compress: phase(samples.compress), append: phase(samples.append), score: phase(samples.score) };
}

import { invalidArgument } from './messages';
import { requireArrayLike, requirePositiveInteger } from './validation';

/** Default cut-offs K of the ranking metrics: HR@K and NDCG@K for K ∈ {1, 10, 50, 200}. */
export const DEFAULT_KS: readonly number[] = Object.freeze([1, 10, 50, 200]);

/** The kind of a ranking metric: hit ratio at K, NDCG at K, or mean reciprocal rank. */
export type RankingMetricKind = 'hit' | 'ndcg' | 'mrr';

/** One ranking metric: its key in results (`hit@10`, `ndcg@10`, `mrr`), kind and cut-off. */
export interface RankingMetric {
  readonly key: string;
  readonly kind: RankingMetricKind;
  /** Cut-off K, or `null` for MRR, which has none. */
  readonly k: number | null;
}

/**
 * Lists the metrics computed for the cut-offs `ks`, in result order: `hit@K` for each K,
 * then `ndcg@K` for each K, then `mrr`.
 *
 * @param ks cut-offs, distinct positive integers. Default value: {@link DEFAULT_KS}.
 * @throws TypeError when `ks` is not an array or a K is not a number.
 * @throws RangeError when a K is not a positive integer or repeats.
 * @example
 * rankingMetrics([1, 10]).map((m) => m.key); // ['hit@1', 'hit@10', 'ndcg@1', 'ndcg@10', 'mrr']
 */
export function rankingMetrics(ks: readonly number[] = DEFAULT_KS): RankingMetric[] {
  const cutoffs = requireCutoffs('rankingMetrics', ks);
  const metrics: RankingMetric[] = [];
  for (const k of cutoffs) {
    metrics.push({ key: `hit@${k}`, kind: 'hit', k });
  }
  for (const k of cutoffs) {
    metrics.push({ key: `ndcg@${k}`, kind: 'ndcg', k });
  }
  metrics.push({ key: 'mrr', kind: 'mrr', k: null });
  return metrics;
}

/**
 * Computes HR@K, NDCG@K and MRR for one user whose single relevant item has rank `rank`.
 *
 * - HR@K = 1 if rank ≤ K, else 0. With one relevant item this equals Recall@K.
 * - NDCG@K = 1 / log2(rank + 1) if rank ≤ K, else 0. The ideal DCG is 1 (one relevant item
 *   at rank 1), so no normalisation is needed. Rank 1 gives 1 and rank 2 gives 0.6309.
 * - MRR = 1 / rank, with no cut-off.
 *
 * A fractional rank from the tie policy (for example 7.5) is used as it is: the metrics are
 * evaluated at the expected rank, so 7.5 counts as a hit at K = 10 and a miss at K = 7.
 *
 * @param rank 1-based rank, an integer or an integer plus 0.5 (as returned by
 *   {@link rankOfTarget}).
 * @param ks cut-offs, distinct positive integers. Default value: {@link DEFAULT_KS}.
 * @returns the metric values keyed `hit@K`, `ndcg@K` and `mrr`, in the order of
 *   {@link rankingMetrics}. Every value is a finite number in [0, 1].
 * @throws TypeError when `rank` or a K is not a number.
 * @throws RangeError when `rank` is not a finite multiple of 0.5 that is at least 1, or a K
 *   is not a positive integer or repeats.
 * @example
 * metricsFromRank(2, [1, 10]); // { 'hit@1': 0, 'hit@10': 1, 'ndcg@1': 0, 'ndcg@10': 0.6309…, mrr: 0.5 }
 */
export function metricsFromRank(rank: number, ks: readonly number[] = DEFAULT_KS): Record<string, number> {
  const where = 'metricsFromRank';

  // Validate the arguments.
  requireRank(where, 'rank', rank);
  const cutoffs = requireCutoffs(where, ks);

  // Evaluate every cut-off from the one rank.
  const values: Record<string, number> = {};
  for (const k of cutoffs) {
    values[`hit@${k}`] = hitAt(rank, k);
  }
  for (const k of cutoffs) {
    values[`ndcg@${k}`] = ndcgAt(rank, k);
  }
  values['mrr'] = 1 / rank;
  return values;
}

/** Returns HR@K of one relevant item at `rank`. */
export function hitAt(rank: number, k: number): number {
  return rank <= k ? 1 : 0;
}

/** Returns NDCG@K of one relevant item at `rank`: 1 / log2(rank + 1) within the cut-off. */
export function ndcgAt(rank: number, k: number): number {
  return rank <= k ? 1 / Math.log2(rank + 1) : 0;
}

/** Returns the value of `metric` for one relevant item at `rank`. */
export function metricValue(metric: RankingMetric, rank: number): number {
  switch (metric.kind) {
    case 'hit':
      return hitAt(rank, metric.k as number);
    case 'ndcg':
      return ndcgAt(rank, metric.k as number);
    case 'mrr':
      return 1 / rank;
  }
}

/** Checks that `rank` is a finite multiple of 0.5 that is at least 1. */
export function requireRank(where: string, argument: string, rank: unknown): asserts rank is number {
  if (typeof rank !== 'number') {
    throw new TypeError(invalidArgument(where, argument, 'a 1-based rank (a number)', rank));
  }
  if (!Number.isFinite(rank) || rank < 1 || !Number.isInteger(rank * 2)) {
    throw new RangeError(invalidArgument(where, argument, 'a 1-based rank: a finite multiple of 0.5 that is at least 1', rank));
  }
}

/** Checks that `ks` is an array of distinct positive integers and returns a copy. */
export function requireCutoffs(where: string, ks: unknown): number[] {
  requireArrayLike(where, 'ks', ks);
  const list = ks as ArrayLike<unknown>;
  const cutoffs: number[] = [];
  for (let i = 0; i < list.length; i += 1) {
    const k = list[i];
    requirePositiveInteger(where, `ks[${i}]`, k);
    if (cutoffs.includes(k)) {
      throw new RangeError(invalidArgument(where, `ks[${i}]`, 'distinct cut-offs', k));
    }
    cutoffs.push(k);
  }
  return cutoffs;
}

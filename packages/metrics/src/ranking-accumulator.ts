import { emptyInput, invalidArgument, unknownMetricKey } from './messages';
import { DEFAULT_KS, RankingMetric, metricValue, rankingMetrics, requireCutoffs, requireRank } from './ranking-metrics';
import { requirePositiveInteger } from './validation';

/**
 * Ranking protocol recorded beside the metrics: full ranking over the whole catalogue, or
 * sampled ranking against `negatives` random negatives per user.
 */
export type RankingProtocol = { readonly mode: 'full' } | { readonly mode: 'sampled'; readonly negatives: number };

/**
 * Accumulates per-user ranks and computes HR@K, NDCG@K and MRR from them.
 *
 * `add` stores only the rank, so it costs O(1) and allocates nothing except when the rank
 * buffer doubles. Per-user metric values are derived from the ranks on request, which keeps
 * them available for confidence intervals and paired tests. Means are float64 sums in
 * insertion order divided by the count, never float32 tensor means.
 *
 * @example
 * const acc = new RankingAccumulator([10]);
 * acc.add(1);
 * acc.add(11);
 * acc.means(); // { 'hit@10': 0.5, 'ndcg@10': 0.5, mrr: (1 + 1/11) / 2 }
 */
export class RankingAccumulator {
  /** Cut-offs K, in the order given. */
  readonly ks: readonly number[];
  /** Metric keys produced by `means()`, in result order (`hit@K`…, `ndcg@K`…, `mrr`). */
  readonly keys: readonly string[];
  /** Full or sampled ranking. Sampled metrics must be reported as such. */
  readonly protocol: RankingProtocol;

  private readonly metrics: readonly RankingMetric[];
  private ranks = new Float64Array(256); // [capacity], the first `size` entries are used
  private size = 0;

  /**
   * @param ks cut-offs, distinct positive integers. Default value: {@link DEFAULT_KS}.
   * @param protocol how the added ranks were computed. Default value: `{ mode: 'full' }`.
   * @throws TypeError when `ks` is not an array or a K is not a number.
   * @throws RangeError when a K is not a positive integer or repeats, or a sampled
   *   protocol's `negatives` is not a positive integer.
   */
  constructor(ks: readonly number[] = DEFAULT_KS, protocol: RankingProtocol = { mode: 'full' }) {
    const where = 'RankingAccumulator';
    this.ks = Object.freeze(requireCutoffs(where, ks));
    this.metrics = rankingMetrics(this.ks);
    this.keys = Object.freeze(this.metrics.map((metric) => metric.key));
    this.protocol = Object.freeze(requireProtocol(where, protocol));
  }

  /** Number of ranks added (one per user). */
  get count(): number {
    return this.size;
  }

  /**
   * Adds one user's rank.
   *
   * @param rank 1-based rank, an integer or an integer plus 0.5.
   * @throws RangeError when `rank` is not a finite multiple of 0.5 that is at least 1.
   */
  add(rank: number): void {
    requireRank('RankingAccumulator.add', 'rank', rank);
    if (this.size === this.ranks.length) {
      const grown = new Float64Array(this.ranks.length * 2); // [capacity]
      grown.set(this.ranks);
      this.ranks = grown;
    }
    this.ranks[this.size] = rank;
    this.size += 1;
  }

  /**
   * Computes the mean of every metric over the added users, in float64.
   *
   * @returns values keyed as in `keys`.
   * @throws RangeError when no rank was added, because a mean over no users is undefined.
   */
  means(): Record<string, number> {
    if (this.size === 0) {
      throw new RangeError(emptyInput('RankingAccumulator.means', 'the accumulator', 'add at least one rank first'));
    }
    const means: Record<string, number> = {};
    for (const metric of this.metrics) {
      let sum = 0;
      for (let i = 0; i < this.size; i += 1) {
        sum += metricValue(metric, this.ranks[i]);
      }
      means[metric.key] = sum / this.size;
    }
    return means;
  }

  /**
   * Returns the per-user values of one metric, in insertion order, as a new array.
   *
   * @param key a metric key from `keys`, for example `ndcg@10`.
   * @returns `[count]` values.
   * @throws RangeError when `key` is not one of `keys`.
   */
  values(key: string): Float64Array {
    const metric = this.metrics.find((candidate) => candidate.key === key);
    if (metric === undefined) {
      throw new RangeError(unknownMetricKey('RankingAccumulator.values', key, this.keys));
    }
    const values = new Float64Array(this.size); // [count]
    for (let i = 0; i < this.size; i += 1) {
      values[i] = metricValue(metric, this.ranks[i]);
    }
    return values;
  }

  /** Returns the added ranks, in insertion order, as a new `[count]` array. */
  rankValues(): Float64Array {
    return this.ranks.slice(0, this.size);
  }
}

/** Checks a ranking protocol and returns a copy. */
function requireProtocol(where: string, protocol: unknown): RankingProtocol {
  const mode = (protocol as { mode?: unknown } | null)?.mode;
  if (mode === 'full') {
    return { mode: 'full' };
  }
  if (mode === 'sampled') {
    const negatives = (protocol as { negatives?: unknown }).negatives;
    requirePositiveInteger(where, 'protocol.negatives', negatives);
    return { mode: 'sampled', negatives };
  }
  throw new TypeError(invalidArgument(where, 'protocol', "{ mode: 'full' } or { mode: 'sampled', negatives }", protocol));
}

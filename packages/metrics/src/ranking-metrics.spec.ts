import { expectThrows } from './__fixtures__/reference';
import { invalidArgument } from './messages';
import { DEFAULT_KS, metricsFromRank, rankingMetrics } from './ranking-metrics';

describe('metricsFromRank', () => {
  it('scores rank 50 as a miss at 10 (49 items above)', () => {
    const metrics = metricsFromRank(50);
    expect(metrics['hit@10']).toBe(0);
    expect(metrics['ndcg@10']).toBe(0);
    // MRR = 1 / 50
    expect(metrics['mrr']).toBe(0.02);
    // Within K = 50: NDCG@50 = 1 / log2(51)
    expect(metrics['hit@50']).toBe(1);
    expect(metrics['ndcg@50']).toBeCloseTo(1 / (Math.log(51) / Math.LN2), 12);
  });

  it('scores the constant model, rank 50.5', () => {
    const metrics = metricsFromRank(50.5);
    expect(metrics['hit@1']).toBe(0);
    expect(metrics['hit@10']).toBe(0);
    expect(metrics['ndcg@10']).toBe(0);
    // MRR = 1 / 50.5 = 0.0198…
    expect(metrics['mrr']).toBeCloseTo(0.0198, 4);
    expect(metrics['mrr']).toBe(2 / 101);
  });

  it('treats rank 7.5 as a hit at 10 and a miss at 5', () => {
    const metrics = metricsFromRank(7.5, [5, 10]);
    expect(metrics['hit@5']).toBe(0);
    expect(metrics['hit@10']).toBe(1);
    // NDCG@10 = 1 / log2(8.5)
    expect(metrics['ndcg@10']).toBeCloseTo(1 / 3.0874628412503395, 12);
  });

  it('scores rank 2 with HR@1 0 and NDCG@10 0.6309', () => {
    const metrics = metricsFromRank(2);
    expect(metrics['hit@1']).toBe(0);
    expect(metrics['hit@10']).toBe(1);
    // NDCG@10 = 1 / log2(3) = 1 / 1.5849625 = 0.6309298
    expect(metrics['ndcg@10']).toBeCloseTo(0.6309, 4);
    expect(metrics['mrr']).toBe(0.5);
  });

  it('discounts ranks 1, 2, 3, 10, 11 at K = 10', () => {
    const ranks = [1, 2, 3, 10, 11];
    // NDCG@10 = 1/log2(2), 1/log2(3), 1/log2(4), 1/log2(11), 0 (rank 11 > K)
    const expectedNdcg = [1, 0.6309, 0.5, 0.2891, 0];
    const expectedHit = [1, 1, 1, 1, 0];
    // MRR = 1/1, 1/2, 1/3, 1/10, 1/11
    const expectedMrr = [1, 0.5, 0.3333, 0.1, 0.0909];
    const ndcg = ranks.map((rank) => metricsFromRank(rank, [10])['ndcg@10']);
    ranks.forEach((rank, i) => {
      const metrics = metricsFromRank(rank, [10]);
      expect(metrics['ndcg@10']).toBeCloseTo(expectedNdcg[i], 4);
      expect(metrics['hit@10']).toBe(expectedHit[i]);
      expect(metrics['mrr']).toBeCloseTo(expectedMrr[i], 4);
    });
    // Strictly decreasing: an off-by-one discount would make rank 1 and 2 equal.
    for (let i = 1; i < ndcg.length; i += 1) {
      expect(ndcg[i]).toBeLessThan(ndcg[i - 1]);
    }
  });

  it('returns the keys of every cut-off in result order', () => {
    expect(DEFAULT_KS).toEqual([1, 10, 50, 200]);
    expect(Object.keys(metricsFromRank(1))).toEqual(['hit@1', 'hit@10', 'hit@50', 'hit@200', 'ndcg@1', 'ndcg@10', 'ndcg@50', 'ndcg@200', 'mrr']);
    expect(rankingMetrics([5]).map((metric) => metric.key)).toEqual(['hit@5', 'ndcg@5', 'mrr']);
    expect(Object.keys(metricsFromRank(3, []))).toEqual(['mrr']);
  });

  it('returns finite numbers in [0, 1] for every valid rank', () => {
    // Ranks 1, 1.5, …, 1000 cover every value the tie policy produces on 1,000 items.
    for (let twice = 2; twice <= 2000; twice += 1) {
      const metrics = metricsFromRank(twice / 2);
      for (const value of Object.values(metrics)) {
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
      }
    }
  });

  it('rejects ranks that the tie policy cannot produce', () => {
    const expected = 'a 1-based rank: a finite multiple of 0.5 that is at least 1';
    for (const rank of [0, 0.5, -1, 1.25, NaN, Infinity]) {
      expectThrows(() => metricsFromRank(rank), RangeError, invalidArgument('metricsFromRank', 'rank', expected, rank));
    }
    expectThrows(() => metricsFromRank(null as unknown as number), TypeError, invalidArgument('metricsFromRank', 'rank', 'a 1-based rank (a number)', null));
  });

  it('rejects cut-offs that are not distinct positive integers', () => {
    for (const k of [0, -10, 2.5, NaN]) {
      expectThrows(() => metricsFromRank(1, [10, k]), RangeError, invalidArgument('metricsFromRank', 'ks[1]', 'a positive integer', k));
    }
    expectThrows(() => metricsFromRank(1, [10, 10]), RangeError, invalidArgument('metricsFromRank', 'ks[1]', 'distinct cut-offs', 10));
    expectThrows(() => metricsFromRank(1, ['10'] as unknown as number[]), TypeError, invalidArgument('metricsFromRank', 'ks[0]', 'a positive integer', '10'));
  });
});

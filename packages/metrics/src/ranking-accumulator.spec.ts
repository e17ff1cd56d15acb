import { expectThrows } from './__fixtures__/reference';
import { emptyInput, invalidArgument, unknownMetricKey } from './messages';
import { RankingAccumulator } from './ranking-accumulator';
import { metricsFromRank } from './ranking-metrics';

describe('RankingAccumulator', () => {
  it('averages hand-computed metrics', () => {
    const accumulator = new RankingAccumulator([1, 10]);
    for (const rank of [1, 2, 11]) {
      accumulator.add(rank);
    }
    expect(accumulator.count).toBe(3);
    const means = accumulator.means();
    // hit@1: (1 + 0 + 0) / 3; hit@10: (1 + 1 + 0) / 3
    expect(means['hit@1']).toBe(1 / 3);
    expect(means['hit@10']).toBe(2 / 3);
    // ndcg@10: (1 + 1/log2(3) + 0) / 3
    expect(means['ndcg@10']).toBeCloseTo((1 + 0.6309297535714575) / 3, 15);
    // mrr: (1 + 1/2 + 1/11) / 3
    expect(means['mrr']).toBeCloseTo((1 + 0.5 + 1 / 11) / 3, 15);
    expect(Object.keys(means)).toEqual(['hit@1', 'hit@10', 'ndcg@1', 'ndcg@10', 'mrr']);
  });

  it('computes means in float64, not float32', () => {
    // MRR of ranks 1, 2, 3 is (1 + 0.5 + 1/3) / 3 in float64. A float32 mean gives a
    // value that differs in the last digits, so the check is exact equality.
    const accumulator = new RankingAccumulator([10]);
    [1, 2, 3].forEach((rank) => accumulator.add(rank));
    const float64Mean = (1 + 0.5 + 1 / 3) / 3;
    expect(accumulator.means()['mrr']).toBe(float64Mean);
    expect(Math.fround(float64Mean)).not.toBe(float64Mean);
  });

  it('keeps per-user values in insertion order', () => {
    const accumulator = new RankingAccumulator();
    const ranks = [3, 1, 250, 7.5];
    ranks.forEach((rank) => accumulator.add(rank));
    for (const key of accumulator.keys) {
      const values = accumulator.values(key);
      expect(values).toBeInstanceOf(Float64Array);
      expect(Array.from(values)).toEqual(ranks.map((rank) => metricsFromRank(rank)[key]));
    }
    expect(Array.from(accumulator.rankValues())).toEqual(ranks);
  });

  it('matches metricsFromRank averaged by hand over many users', () => {
    // 1,000 users push the rank buffer past its first capacity of 256.
    const accumulator = new RankingAccumulator([1, 10, 50]);
    const sums: Record<string, number> = {};
    for (let user = 0; user < 1000; user += 1) {
      const rank = 1 + ((user * 37) % 120) / 2;
      accumulator.add(rank);
      for (const [key, value] of Object.entries(metricsFromRank(rank, [1, 10, 50]))) {
        sums[key] = (sums[key] ?? 0) + value;
      }
    }
    expect(accumulator.count).toBe(1000);
    const means = accumulator.means();
    for (const key of accumulator.keys) {
      expect(means[key]).toBe(sums[key] / 1000);
    }
  });

  it('records whether ranks are full or sampled', () => {
    expect(new RankingAccumulator().protocol).toEqual({ mode: 'full' });
    expect(new RankingAccumulator([10], { mode: 'sampled', negatives: 100 }).protocol).toEqual({ mode: 'sampled', negatives: 100 });
    expectThrows(
      () => new RankingAccumulator([10], { mode: 'sampled', negatives: 0 }),
      RangeError,
      invalidArgument('RankingAccumulator', 'protocol.negatives', 'a positive integer', 0),
    );
  });

  it('rejects means of no users and unknown keys', () => {
    const accumulator = new RankingAccumulator([10]);
    expectThrows(() => accumulator.means(), RangeError, emptyInput('RankingAccumulator.means', 'the accumulator', 'add at least one rank first'));
    accumulator.add(1);
    expectThrows(() => accumulator.values('ndcg@20'), RangeError, unknownMetricKey('RankingAccumulator.values', 'ndcg@20', ['hit@10', 'ndcg@10', 'mrr']));
  });

  it('rejects invalid ranks without counting them', () => {
    const accumulator = new RankingAccumulator([10]);
    expectThrows(() => accumulator.add(NaN), RangeError, invalidArgument('RankingAccumulator.add', 'rank', 'a 1-based rank: a finite multiple of 0.5 that is at least 1', NaN));
    expect(accumulator.count).toBe(0);
  });
});

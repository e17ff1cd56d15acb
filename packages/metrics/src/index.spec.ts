import * as metrics from './index';
import { describeValue } from './messages';

describe('@malloc/metrics', () => {
  it('exports the documented API', () => {
    const functions = [
      'rankOfTarget',
      'rankAmongCandidates',
      'metricsFromRank',
      'rankingMetrics',
      'topK',
      'sampleNegatives',
      'auc',
      'gauc',
      'logLoss',
      'logLossFromLogits',
      'summarizeLatency',
      'percentile',
      'bootstrapMeanCI',
      'pairedTest',
      'kvCacheBytes',
      'planFleetCache',
      'sasrecMacs',
      'hstuMacs',
      'requestMacs',
      'methodCacheBytes',
      'complexityCurve',
      'planCapacity',
      'formatPlan',
      'formatBytes',
      'RankingAccumulator',
    ];
    for (const name of functions) {
      expect(typeof (metrics as Record<string, unknown>)[name]).toBe('function');
    }
    expect(metrics.DEFAULT_KS).toEqual([1, 10, 50, 200]);
  });

  it('evaluates users end to end without NaN', () => {
    // Three users over 5 items. User A: a one-item history [5], left-padded, whose padding
    // rows the model masked to -Infinity; the target 2 is the best item: rank 1.
    // User B: target 4 ties with item 1 above everything: rank 1.5. User C: constant
    // scores, target 3: rank 1 + 4 / 2 = 3.
    const accumulator = new metrics.RankingAccumulator([1, 3]);
    const users = [
      { scores: new Float32Array([-Infinity, 0.1, 0.9, 0.2, 0.3, 0.4]), target: 2, history: [0, 0, 0, 5] },
      { scores: new Float32Array([0, 0.8, 0.1, 0.1, 0.8, 0.1]), target: 4, history: [] },
      { scores: new Float32Array(6).fill(0.5), target: 3, history: [] },
    ];
    for (const user of users) {
      accumulator.add(metrics.rankOfTarget(user.scores, user.target, { exclude: user.history }));
    }
    expect(Array.from(accumulator.rankValues())).toEqual([1, 1.5, 3]);
    const means = accumulator.means();
    // hit@1 = (1 + 0 + 0) / 3; hit@3 = (1 + 1 + 1) / 3; mrr = (1 + 1/1.5 + 1/3) / 3 = 2/3
    expect(means['hit@1']).toBe(1 / 3);
    expect(means['hit@3']).toBe(1);
    expect(means['mrr']).toBeCloseTo(2 / 3, 15);
    for (const value of Object.values(means)) {
      expect(Number.isNaN(value)).toBe(false);
    }
    const ci = metrics.bootstrapMeanCI(accumulator.values('ndcg@3'), { seed: 1 });
    expect(Number.isFinite(ci.low)).toBe(true);
    expect(Number.isFinite(ci.high)).toBe(true);
  });
});

describe('describeValue', () => {
  it('formats received values for messages', () => {
    expect(describeValue(NaN)).toBe('NaN');
    expect(describeValue(-Infinity)).toBe('-Infinity');
    expect(describeValue('3')).toBe('"3"');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue([1, 2])).toBe('an array of length 2');
    expect(describeValue(new Float32Array(4))).toBe('Float32Array(4)');
    expect(describeValue({ mode: 'x' })).toBe('{"mode":"x"}');
  });
});

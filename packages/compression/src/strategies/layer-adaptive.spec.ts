import { snapshotCache } from '../__fixtures__/helpers';
import { headLength } from '../kv-cache';
import { silentLogger } from '../logger';
import { scheduleOverBudget } from '../messages';
import type { CompressionContext } from '../strategy';
import { createRandomCache, createSyntheticStats } from '../testing/random-cache';
import { H2OStrategy } from './h2o';
import { LayerAdaptiveStrategy, linearPyramidSchedule } from './layer-adaptive';
import { PyramidKVStrategy } from './pyramidkv';
import { SnapKVStrategy } from './snapkv';

describe('LayerAdaptiveStrategy', () => {
  const cache = createRandomCache({ layers: 4, kvHeads: 2, len: 40, dKey: 3, dValue: 3, seed: 21, withTimestamps: true });
  const context: CompressionContext = { stats: createSyntheticStats(cache, { windowSize: 8, seed: 22 }), logger: silentLogger };

  it.each([0.2, 0.6, 0.9])('matches PyramidKV at ratio %f', (ratio) => {
    const wrapped = new LayerAdaptiveStrategy({ id: 'pyramid-snapkv', base: new SnapKVStrategy({ compressionRatio: ratio, window: 4 }), schedule: linearPyramidSchedule(20) });
    const pyramid = new PyramidKVStrategy({ compressionRatio: ratio, window: 4, beta: 20 });
    expect(snapshotCache(wrapped.compress(cache, context))).toEqual(snapshotCache(pyramid.compress(cache, context)));
  });

  it('keeps the budgets of the schedule with the uniform total', () => {
    // Ratio 0.6 of 40 tokens: 16 per layer, 64 in total; beta 2 gives [24, 19, 13, 8].
    const wrapped = new LayerAdaptiveStrategy({ id: 'pyramid-h2o', base: new H2OStrategy({ compressionRatio: 0.6 }), schedule: linearPyramidSchedule(2), scheduleParams: { beta: 2 } });
    const compressed = wrapped.compress(cache, context);
    expect(compressed.layers.map((layer) => layer.heads.map(headLength))).toEqual([
      [24, 24],
      [19, 19],
      [13, 13],
      [8, 8],
    ]);
    expect(wrapped.params).toEqual({ compressionRatio: 0.6, recentFraction: 0.5, beta: 2 });
  });

  it('rejects a schedule that spends more than the total', () => {
    const greedy = new LayerAdaptiveStrategy({ id: 'greedy', base: new H2OStrategy({ compressionRatio: 0.6 }), schedule: (lengths) => lengths.map(() => 17) });
    expect(() => greedy.compress(cache, context)).toThrow(new RangeError(scheduleOverBudget('LayerAdaptiveStrategy.allocateBudgets', [17, 17, 17, 17], 64)));
  });

  it('rejects a beta below 1', () => {
    expect(() => linearPyramidSchedule(0.5)).toThrow(RangeError);
  });
});

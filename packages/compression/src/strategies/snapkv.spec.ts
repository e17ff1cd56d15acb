import { keptPositions, noStats, recordingLogger } from '../__fixtures__/helpers';
import { silentLogger } from '../logger';
import { shortObservationWindowWarning, windowExceedsBudgetWarning } from '../messages';
import type { AttentionStats } from '../strategy';
import { createRandomCache } from '../testing/random-cache';
import { poolAlongPositions, SnapKVStrategy } from './snapkv';

describe('poolAlongPositions', () => {
  it('averages with zero padding counted', () => {
    // Kernel 3 over [0, 3, 0, 0] padded to [0 | 0, 3, 0, 0 | 0]: 3/3, 3/3, 3/3, 0/3.
    expect(Array.from(poolAlongPositions([0, 3, 0, 0], 3, 'avg'))).toEqual([1, 1, 1, 0]);
  });

  it('takes the maximum, ignoring padding', () => {
    expect(Array.from(poolAlongPositions([0, 3, 0, 0], 3, 'max'))).toEqual([3, 3, 3, 0]);
    expect(Array.from(poolAlongPositions([-1, -2], 3, 'max'))).toEqual([-1, -1]);
  });

  it('returns the scores for kernel 1', () => {
    expect(Array.from(poolAlongPositions([0.5, 0.25], 1, 'avg'))).toEqual([0.5, 0.25]);
  });
});

describe('SnapKVStrategy', () => {
  // One head, 8 keys, window of 2 queries (positions 6 and 7):
  //   query 6: 0.1 0   0   0.5 0   0   0.4 0
  //   query 7: 0.1 0   0   0.1 0   0.2 0.3 0.3
  // Votes on the 6 earlier keys: 0.2 0 0 0.6 0 0.2.
  const window = Float32Array.from([
    [0.1, 0, 0, 0.5, 0, 0, 0.4, 0],
    [0.1, 0, 0, 0.1, 0, 0.2, 0.3, 0.3],
  ].flat()); // [kvHeads 1, windowSize 2, len 8]
  const stats: AttentionStats = { accumulated: [new Float32Array(8)], window: [window], windowSize: 2 };
  const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 8, dKey: 2, dValue: 2, seed: 1 });
  const context = { stats, logger: silentLogger };

  it('keeps pooled votes and the window', () => {
    // Average pooling, kernel 3: 0.2/3, 0.2/3, 0.6/3, 0.6/3, 0.8/3, 0.2/3.
    // Budget ⌊8 · 0.5⌋ = 4: window {6, 7}, then 4 (0.8/3), then 2 and 3 tie at 0.6/3 → 2.
    expect(keptPositions(new SnapKVStrategy({ compressionRatio: 0.5, window: 2, kernelSize: 3 }).compress(cache, context))).toEqual([[[2, 4, 6, 7]]]);
  });

  it('pools by maximum on request', () => {
    // Max pooling, kernel 3: 0.2, 0.2, 0.6, 0.6, 0.6, 0.2 → 2 and 3 after the window.
    expect(keptPositions(new SnapKVStrategy({ compressionRatio: 0.5, window: 2, kernelSize: 3, pooling: 'max' }).compress(cache, context))).toEqual([[[2, 3, 6, 7]]]);
  });

  it('uses raw votes with kernel 1', () => {
    // Votes 0.2 0 0 0.6 0 0.2: 3 first, then 0 and 5 tie at 0.2 → 0.
    expect(keptPositions(new SnapKVStrategy({ compressionRatio: 0.5, window: 2, kernelSize: 1 }).compress(cache, context))).toEqual([[[0, 3, 6, 7]]]);
  });

  it('keeps the newest window tokens under a small budget', () => {
    const logger = recordingLogger();
    const strategy = new SnapKVStrategy({ compressionRatio: 0.9, window: 2, kernelSize: 3 });
    // Budget max(1, ⌊0.8⌋) = 1 < window 2: the newest token only.
    expect(keptPositions(strategy.compress(cache, { stats, logger }))).toEqual([[[7]]]);
    strategy.compress(cache, { stats, logger });
    expect(logger.warnings).toEqual([windowExceedsBudgetWarning('snapkv', 2, 1)]);
  });

  it('warns once when the statistics hold a shorter window', () => {
    const logger = recordingLogger();
    const strategy = new SnapKVStrategy({ compressionRatio: 0.5, window: 16, kernelSize: 3 });
    // The 2 recorded queries vote, as with window 2.
    expect(keptPositions(strategy.compress(cache, { stats, logger }))).toEqual([[[2, 4, 6, 7]]]);
    strategy.compress(cache, { stats, logger });
    expect(logger.warnings).toEqual([shortObservationWindowWarning('snapkv', 16, 2)]);
  });

  it('votes per head', () => {
    const twoHeads = createRandomCache({ layers: 1, kvHeads: 2, len: 4, dKey: 2, dValue: 2, seed: 2 });
    // Window of 1 query (position 3) per head; budget 2 keeps the window and the top vote.
    const rows = Float32Array.from([0.6, 0.1, 0.1, 0.2, 0.1, 0.1, 0.6, 0.2]); // [2, 1, 4]
    const headStats: AttentionStats = { accumulated: [new Float32Array(8)], window: [rows], windowSize: 1 };
    const compressed = new SnapKVStrategy({ compressionRatio: 0.5, window: 1, kernelSize: 1 }).compress(twoHeads, { stats: headStats, logger: silentLogger });
    expect(keptPositions(compressed)).toEqual([[[0, 3], [2, 3]]]);
  });

  it('requires attention statistics', () => {
    expect(() => new SnapKVStrategy({ compressionRatio: 0.5 }).compress(cache, noStats)).toThrow(TypeError);
  });

  it('rejects invalid settings', () => {
    expect(() => new SnapKVStrategy({ compressionRatio: 0.5, kernelSize: 4 })).toThrow(RangeError);
    expect(() => new SnapKVStrategy({ compressionRatio: 0.5, window: 0 })).toThrow(RangeError);
    expect(() => new SnapKVStrategy({ compressionRatio: 0.5, pooling: 'sum' as 'avg' })).toThrow(RangeError);
  });

  it('records its settings', () => {
    expect(new SnapKVStrategy({ compressionRatio: 0.5 }).params).toEqual({ compressionRatio: 0.5, window: 16, kernelSize: 5, pooling: 'avg' });
  });
});

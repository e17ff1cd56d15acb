import { keptPositions, noStats, recordingLogger } from '../__fixtures__/helpers';
import { cacheBytes, headPositions } from '../kv-cache';
import { sinksExceedBudgetWarning } from '../messages';
import { createRandomCache } from '../testing/random-cache';
import { StreamingLLMStrategy } from './streaming-llm';
import { WindowStrategy } from './window';

describe('StreamingLLMStrategy', () => {
  it('keeps two sinks and two recent items of six', () => {
    // History items 1..6 at positions 0..5 (the model strips padding before caching).
    // Budget ⌊6 · (1 − 0.3)⌋ = 4: sinks {0, 1} plus the two most recent {4, 5}.
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 6, dKey: 2, dValue: 2, seed: 1 });
    const head = new StreamingLLMStrategy({ compressionRatio: 0.3, sinks: 2 }).compress(cache, noStats).layers[0].heads[0];
    const positions = Array.from(headPositions(head));
    expect(positions).toEqual([0, 1, 4, 5]);
    expect(positions.map((position) => cache.itemIds[position])).toEqual([1, 2, 5, 6]);
  });

  it('stores explicit int32 positions', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 6, dKey: 2, dValue: 2, seed: 1 });
    const compressed = new StreamingLLMStrategy({ compressionRatio: 0.3, sinks: 2 }).compress(cache, noStats);
    expect(compressed.layers[0].heads[0].positions).toBeInstanceOf(Int32Array);
    // Per layer: 4 tokens · (2 + 2) numbers · 4 B = 64 B, plus 4 positions · 4 B = 16 B.
    expect(cacheBytes(compressed)).toBe(2 * (64 + 16));
  });

  it('uses 4 sinks by default', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 20, dKey: 2, dValue: 2, seed: 2 });
    // Budget ⌊20 · 0.3⌋ = 6: sinks 0..3 and recent 18, 19.
    expect(keptPositions(new StreamingLLMStrategy({ compressionRatio: 0.7 }).compress(cache, noStats))).toEqual([[[0, 1, 2, 3, 18, 19]]]);
  });

  it('keeps only the first sinks when the budget is smaller', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 10, dKey: 2, dValue: 2, seed: 3 });
    const logger = recordingLogger();
    const strategy = new StreamingLLMStrategy({ compressionRatio: 0.8, sinks: 4 });
    // Budget ⌊10 · 0.2⌋ = 2 < 4 sinks: positions 0 and 1, contiguous, so implicit.
    const compressed = strategy.compress(cache, { stats: null, logger });
    expect(keptPositions(compressed)).toEqual([[[0, 1]]]);
    expect(compressed.layers[0].heads[0].positions).toBeNull();
    strategy.compress(cache, { stats: null, logger });
    expect(logger.warnings).toEqual([sinksExceedBudgetWarning('streaming-llm', 4, 2)]);
  });

  it('behaves as a window without sinks', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 2, len: 12, dKey: 2, dValue: 2, seed: 4 });
    const streaming = new StreamingLLMStrategy({ compressionRatio: 0.5, sinks: 0 }).compress(cache, noStats);
    const window = new WindowStrategy({ compressionRatio: 0.5 }).compress(cache, noStats);
    expect(keptPositions(streaming)).toEqual(keptPositions(window));
  });

  it('caps sinks at the history length', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 6, dKey: 2, dValue: 2, seed: 5 });
    expect(keptPositions(new StreamingLLMStrategy({ compressionRatio: 0.5, sinks: 10 }).compress(cache, noStats))).toEqual([[[0, 1, 2]]]);
  });

  it('rejects a negative or fractional sink count', () => {
    expect(() => new StreamingLLMStrategy({ compressionRatio: 0.5, sinks: -1 })).toThrow(RangeError);
    expect(() => new StreamingLLMStrategy({ compressionRatio: 0.5, sinks: 1.5 })).toThrow(RangeError);
  });

  it('records its sinks', () => {
    expect(new StreamingLLMStrategy({ compressionRatio: 0.5 }).params).toEqual({ compressionRatio: 0.5, sinks: 4 });
  });
});

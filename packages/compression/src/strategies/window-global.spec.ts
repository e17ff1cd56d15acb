import { keptPositions, noStats } from '../__fixtures__/helpers';
import { createFullHead, type KVCache } from '../kv-cache';
import { silentLogger } from '../logger';
import { missingAttentionStats } from '../messages';
import type { CompressionContext } from '../strategy';
import { WindowGlobalStrategy } from './window-global';

// One layer, one head, 8 tokens; accumulated attention 5 at row 0 and 4 at row 3, 1 elsewhere.
const cache: KVCache = {
  layers: [{ heads: [createFullHead(Float32Array.from({ length: 8 }, (_, i) => i), new Float32Array(8), 8, 1, 1)] }],
  seenTokens: 8,
  itemIds: new Int32Array(8),
};
const context: CompressionContext = {
  stats: { accumulated: [Float32Array.of(5, 1, 1, 4, 1, 1, 1, 1)], window: [new Float32Array(8)], windowSize: 1 },
  logger: silentLogger,
};

describe('WindowGlobalStrategy', () => {
  it('keeps the window and the most attended older tokens', () => {
    // Budget ⌊8 · 0.5⌋ = 4: window 4 − 2 = 2 (rows 6, 7), global rows 0 (5) and 3 (4).
    expect(keptPositions(new WindowGlobalStrategy({ compressionRatio: 0.5, globalTokens: 2 }).compress(cache, context))).toEqual([[[0, 3, 6, 7]]]);
  });

  it('is a sliding window without global tokens', () => {
    expect(keptPositions(new WindowGlobalStrategy({ compressionRatio: 0.5, globalTokens: 0 }).compress(cache, context))).toEqual([[[4, 5, 6, 7]]]);
  });

  it('spends the whole budget on global tokens when they exceed it', () => {
    // No window: rows 0 (5) and 3 (4), then rows 1 and 2 win the tie at 1 by lower index.
    expect(keptPositions(new WindowGlobalStrategy({ compressionRatio: 0.5, globalTokens: 10 }).compress(cache, context))).toEqual([[[0, 1, 2, 3]]]);
  });

  it('uses 4 global tokens by default', () => {
    // Budget 4, all global: the same as above.
    const strategy = new WindowGlobalStrategy({ compressionRatio: 0.5 });
    expect(strategy.params).toEqual({ compressionRatio: 0.5, globalTokens: 4 });
    expect(keptPositions(strategy.compress(cache, context))).toEqual([[[0, 1, 2, 3]]]);
  });

  it('rejects a cache without attention statistics', () => {
    expect(() => new WindowGlobalStrategy({ compressionRatio: 0.5 }).compress(cache, noStats)).toThrow(
      new TypeError(missingAttentionStats('WindowGlobalStrategy.score', 'accumulated attention (stats.accumulated)')),
    );
  });
});

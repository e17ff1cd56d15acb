import { createFullHead, createStrategy, gatherHead, headLength, listMethods, silentLogger, type AttentionStats, type HeadCache, type KVCache } from '@malloc/compression';
import { rankOfTarget } from '@malloc/metrics';
import { createSasRec, initBackend, type SequentialModel } from '@malloc/models';
import { streamingStatsRowMissing, unequalHeadsForStreamingStats } from './messages';
import { protocolKeySuffix, restrictStats, streamHistory, totalCachedTokens } from './streaming-evaluation';

const itemCount = 30;

/** Builds a history of `length` items in a fixed scrambled order. */
function history(length: number, offset: number): Int32Array {
  return Int32Array.from({ length }, (_, i) => (((i + offset) * 7) % itemCount) + 1);
}

/** Returns the scores of the catalogue after appending `request` to a cache. */
function scoresAfter(model: SequentialModel, cache: KVCache, request: Int32Array): Float32Array {
  const { hidden } = model.append(cache, request);
  return model.scoreAll(hidden.subarray(hidden.length - model.config.hiddenSize));
}

describe('streamHistory', () => {
  let model: SequentialModel;

  beforeAll(async () => {
    await initBackend('cpu');
    model = createSasRec({ itemCount, maxLength: 40, hiddenSize: 8, layers: 2, heads: 1, dropout: 0 }, 3);
  });

  afterAll(() => {
    model.dispose();
  });

  it('gives full the ranks of the one-shot protocol', () => {
    for (const offset of [0, 5, 11]) {
      const items = history(35, offset);
      const request = Int32Array.of(items[34]);
      const past = items.subarray(0, 34);
      const oneShot = scoresAfter(model, model.prefill(past).cache, request);
      const streamed = streamHistory({ strategy: createStrategy('full'), model, history: past, chunkSize: 8, statsWindow: 4, recordStats: false, logger: silentLogger });
      const streamedScores = scoresAfter(model, streamed.cache, request);
      expect(streamed.cache.seenTokens).toBe(34);
      for (let target = 1; target <= itemCount; target++) {
        expect([offset, target, rankOfTarget(streamedScores, target)]).toEqual([offset, target, rankOfTarget(oneShot, target)]);
      }
    }
  });

  const tokenMethods = listMethods().filter((method) => ['token-pruning', 'token-merging', 'head-adaptive'].includes(method.family));
  it.each(tokenMethods.map((method) => [method.id]))('keeps %s within its budget after every chunk', (id) => {
    // 35 items at ratio 0.75: a budget of ⌊35 · 0.25⌋ = 8 tokens per layer and head. Chunks of 5
    // grow the cache to at most 13 rows before each compression.
    const strategy = createStrategy(id, { compressionRatio: 0.75 });
    const layers = model.config.layers;
    const seen: number[] = [];
    const streamed = streamHistory({
      strategy,
      model,
      history: history(35, 2),
      chunkSize: 5,
      statsWindow: 4,
      recordStats: true,
      logger: silentLogger,
      onChunk: (cache) => seen.push(totalCachedTokens(cache)),
    });
    expect(streamed.maxTokens).toBe(8);
    expect(seen).toHaveLength(7);
    // PyramidKV spreads 2 · 8 over its layers; every other method keeps 8 per head.
    expect(Math.max(...seen)).toBeLessThanOrEqual(layers * 8);
    expect(streamed.peakTotalTokens).toBe(Math.max(...seen));
    if (id !== 'pyramidkv') {
      expect(streamed.peakHeadTokens).toBeLessThanOrEqual(8);
    }
  });

  it('rejects head-adaptive caches with two heads', () => {
    // Two KV heads: after the first chunk, Ada-SnapKV's heads hold different counts, so the
    // statistics of the next chunk cannot be laid out as [kvHeads, len].
    const twoHeads = createSasRec({ itemCount, maxLength: 40, hiddenSize: 8, layers: 2, heads: 2, dropout: 0 }, 4);
    const run = (): unknown => streamHistory({ strategy: createStrategy('ada-snapkv', { compressionRatio: 0.75, window: 4 }), model: twoHeads, history: history(30, 1), chunkSize: 10, statsWindow: 4, recordStats: true, logger: silentLogger });
    expect(run).toThrow(/heads of \[\d+, \d+\] tokens/);
    twoHeads.dispose();
  });

  it('serves a one-shot head-adaptive cache with two heads', () => {
    // One-shot Ada-SnapKV: the heads keep different counts and the model attends to each.
    const twoHeads = createSasRec({ itemCount, maxLength: 40, hiddenSize: 8, layers: 2, heads: 2, dropout: 0 }, 4);
    const past = history(30, 1);
    const prefilled = twoHeads.prefill(past, { recordStats: true, statsWindow: 4 });
    const compressed = createStrategy('ada-snapkv', { compressionRatio: 0.75, window: 4 }).compress(prefilled.cache, { stats: prefilled.stats, logger: silentLogger });
    for (const layer of compressed.layers) {
      // ⌊30 · 0.25⌋ = 7 tokens per head on average: 14 per layer.
      expect(layer.heads.map(headLength).reduce((sum, len) => sum + len, 0)).toBe(14);
    }
    const scores = scoresAfter(twoHeads, compressed, Int32Array.of(3));
    expect(scores.subarray(1).every((score) => Number.isFinite(score))).toBe(true);
    twoHeads.dispose();
  });

  it.each(['snapkv', 'h2o', 'tova'])('streams %s on a beacon model', (id) => {
    // Chunks of 4 items condensed into 2 beacons. 30 items at ratio 0.75 keep ⌊30 · 0.25⌋ = 7 rows per head.
    const beacon = createSasRec({ itemCount, maxLength: 40, hiddenSize: 8, layers: 2, heads: 1, dropout: 0, beacon: { chunkSize: 4, beaconsPerChunk: 2 } }, 5);
    const streamed = streamHistory({ strategy: createStrategy(id, { compressionRatio: 0.75 }), model: beacon, history: history(30, 3), chunkSize: 5, statsWindow: 4, recordStats: true, logger: silentLogger });
    expect(streamed.peakHeadTokens).toBeLessThanOrEqual(7);
    expect(streamed.cache.seenTokens).toBe(30);
    const scores = scoresAfter(beacon, streamed.cache, Int32Array.of(3));
    expect(scores.subarray(1).every((score) => Number.isFinite(score))).toBe(true);
    beacon.dispose();
  });

  it('rejects a chunk size below 1', () => {
    expect(() => streamHistory({ strategy: createStrategy('full'), model, history: history(5, 0), chunkSize: 0, statsWindow: 4, recordStats: false, logger: silentLogger })).toThrow(RangeError);
  });
});

describe('restrictStats', () => {
  it('keeps the statistics of the positions the cache holds', () => {
    // One layer, one head, 5 positions; the cache keeps positions [1, 3, 4].
    const kept = cacheOf([gatherHead(rampHead(5), [1, 3, 4])]);
    const stats: AttentionStats = {
      accumulated: [Float32Array.of(10, 11, 12, 13, 14)],
      // Two window queries: rows [20 … 24] and [30 … 34].
      window: [Float32Array.of(20, 21, 22, 23, 24, 30, 31, 32, 33, 34)],
      windowSize: 2,
    };
    const restricted = restrictStats(stats, kept);
    expect(Array.from(restricted.accumulated[0])).toEqual([11, 13, 14]);
    expect(Array.from(restricted.window[0])).toEqual([21, 23, 24, 31, 33, 34]);
    expect(restricted.windowSize).toBe(2);
  });

  it('maps rows by their positions', () => {
    // Statistics rows at positions [2, 3, 6, 7, 8], as a beacon prefill keeps them; the cache keeps positions [3, 7, 8].
    const kept = cacheOf([gatherHead(rampHead(9), [3, 7, 8])]);
    const stats: AttentionStats = { accumulated: [Float32Array.of(10, 11, 12, 13, 14)], window: [Float32Array.of(20, 21, 22, 23, 24)], windowSize: 1 };
    const restricted = restrictStats(stats, kept, Int32Array.of(2, 3, 6, 7, 8));
    expect(Array.from(restricted.accumulated[0])).toEqual([11, 13, 14]);
    expect(Array.from(restricted.window[0])).toEqual([21, 23, 24]);
  });

  it('rejects a position without statistics', () => {
    const kept = cacheOf([gatherHead(rampHead(9), [3, 5])]);
    const stats: AttentionStats = { accumulated: [new Float32Array(3)], window: [new Float32Array(3)], windowSize: 1 };
    expect(() => restrictStats(stats, kept, Int32Array.of(2, 3, 6))).toThrow(new RangeError(streamingStatsRowMissing(0, 5)));
    expect(() => restrictStats(stats, cacheOf([gatherHead(rampHead(9), [4])]))).toThrow(new RangeError(streamingStatsRowMissing(0, 4)));
  });

  it('rejects heads of different lengths', () => {
    const uneven = cacheOf([gatherHead(rampHead(4), [0, 1, 2]), gatherHead(rampHead(4), [3])]);
    const stats: AttentionStats = { accumulated: [new Float32Array(8)], window: [new Float32Array(8)], windowSize: 1 };
    expect(uneven.layers[0].heads.map(headLength)).toEqual([3, 1]);
    expect(() => restrictStats(stats, uneven)).toThrow(new RangeError(unequalHeadsForStreamingStats(0, [3, 1])));
  });
});

describe('protocolKeySuffix', () => {
  it('leaves one-shot keys unchanged and marks streaming keys', () => {
    expect(protocolKeySuffix('one-shot', 16)).toBe('');
    expect(protocolKeySuffix('streaming', 16)).toBe('__streaming-c16');
  });
});

/** Builds a head of `rows` tokens of width 1 whose keys and values are 0, 1, 2, … */
function rampHead(rows: number): HeadCache {
  const data = Float32Array.from({ length: rows }, (_, i) => i); // [rows, 1]
  return createFullHead(data, data.slice(), rows, 1, 1);
}

/** Builds a one-layer cache of the given heads. */
function cacheOf(heads: HeadCache[]): KVCache {
  return { layers: [{ heads }], seenTokens: 5, itemIds: new Int32Array(5) };
}

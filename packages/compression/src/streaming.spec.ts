import { appendRandomTokens, headLengths } from './__fixtures__/helpers';
import { appendToHead, cacheBytes, createEmptyCache, headPositions, maxCachedTokens, type KVCache } from './kv-cache';
import { silentLogger } from './logger';
import { KiviStrategy } from './strategies/kivi';
import { PyramidKVStrategy } from './strategies/pyramidkv';
import { SnapKVStrategy } from './strategies/snapkv';
import { WindowStrategy } from './strategies/window';
import { compressAfterChunk, compressStreaming, isTokenBudgeted } from './streaming';
import { createRandomCache, createSyntheticStats } from './testing/random-cache';

/** Appends one token whose key and value numbers all equal its position, to every head. */
function appendPositionToken(cache: KVCache, width: number): KVCache {
  const position = cache.seenTokens;
  const row = new Float32Array(width).fill(position); // [1, width]
  const layers = cache.layers.map((layer) => ({ heads: layer.heads.map((head) => appendToHead(head, row, row, 1, position)) }));
  const itemIds = new Int32Array(position + 1);
  itemIds.set(cache.itemIds);
  itemIds[position] = position + 1;
  return { layers, seenTokens: position + 1, itemIds };
}

describe('compressStreaming', () => {
  it('holds a window at 10 rows over 100 appends', () => {
    const rows: number[] = [];
    const bytes: number[] = [];
    const final = compressStreaming({
      strategy: new WindowStrategy({ compressionRatio: 0.5 }),
      cache: createEmptyCache(2, 1, 4, 4),
      chunks: Array.from({ length: 100 }, (_, i) => i),
      append: (cache) => ({ cache: appendPositionToken(cache, 4), stats: null }),
      maxTokens: 10,
      onChunk: (cache) => {
        rows.push(maxCachedTokens(cache));
        bytes.push(cacheBytes(cache));
      },
    });
    expect(Math.max(...rows)).toBe(10);
    expect(rows[99]).toBe(10);
    // 2 layers · 10 rows · (4 + 4) numbers · 4 B; positions stay implicit.
    expect(bytes[9]).toBe(2 * 10 * 8 * 4);
    expect(bytes[99]).toBe(bytes[9]);
    // The stored rows are exactly the last 10 items, at positions 90..99.
    const head = final.layers[1].heads[0];
    expect(Array.from(headPositions(head))).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    expect(Array.from(head.keys.decode())).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99].flatMap((p) => [p, p, p, p]));
  });

  it('reports SnapKV rows appended after a one-shot compression', () => {
    // Prefill 100, compress to ⌊100 · 0.2⌋ = 20, append 10 without compressing: 30 rows.
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 100, dKey: 8, dValue: 8, seed: 1 });
    const stats = createSyntheticStats(cache, { windowSize: 4, seed: 2 });
    const compressed = new SnapKVStrategy({ compressionRatio: 0.8, window: 4 }).compress(cache, { stats, logger: silentLogger });
    const grown = appendRandomTokens(compressed, 10, 3);
    expect(headLengths(grown)).toEqual([[30], [30]]);
    // Per layer: 30 rows · 16 numbers · 4 B + 30 explicit positions · 4 B.
    expect(cacheBytes(grown)).toBe(2 * (30 * 16 * 4 + 30 * 4));
  });

  it('holds SnapKV at its budget when compressing after every append', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 100, dKey: 8, dValue: 8, seed: 1 });
    const strategy = new SnapKVStrategy({ compressionRatio: 0.8, window: 4 });
    const stats = createSyntheticStats(cache, { windowSize: 4, seed: 2 });
    let current = compressAfterChunk(strategy, cache, { stats, logger: silentLogger }, 20);
    expect(headLengths(current)).toEqual([[20], [20]]);
    const lengths: number[] = [];
    current = compressStreaming({
      strategy,
      cache: current,
      chunks: Array.from({ length: 10 }, (_, i) => i),
      append: (previous, chunk) => {
        const appended = appendRandomTokens(previous, 1, 10 + chunk);
        return { cache: appended, stats: createSyntheticStats(appended, { windowSize: 4, seed: 20 + chunk }) };
      },
      maxTokens: 20,
      onChunk: (compressedCache) => lengths.push(maxCachedTokens(compressedCache)),
    });
    expect(lengths).toEqual(Array(10).fill(20));
    expect(current.seenTokens).toBe(110);
  });

  it('bounds the PyramidKV total by layers times the budget', () => {
    const totals: number[] = [];
    compressStreaming({
      strategy: new PyramidKVStrategy({ compressionRatio: 0.5, window: 2 }),
      cache: createEmptyCache(4, 1, 4, 4),
      chunks: Array.from({ length: 30 }, (_, i) => i),
      append: (previous, chunk) => {
        const appended = appendRandomTokens(previous, 1, chunk);
        return { cache: appended, stats: createSyntheticStats(appended, { windowSize: 2, seed: chunk }) };
      },
      maxTokens: 8,
      onChunk: (cache) => totals.push(headLengths(cache).flat().reduce((a, b) => a + b, 0)),
    });
    expect(Math.max(...totals)).toBeLessThanOrEqual(4 * 8);
    expect(totals[29]).toBe(32);
  });

  it('runs precision strategies on every chunk', () => {
    const strategy = new KiviStrategy({ bits: 2, groupSize: 4, residual: 4 });
    expect(isTokenBudgeted(strategy)).toBe(false);
    const final = compressStreaming({
      strategy,
      cache: createEmptyCache(1, 1, 8, 8),
      chunks: Array.from({ length: 20 }, (_, i) => i),
      append: (previous, chunk) => ({ cache: appendRandomTokens(previous, 1, chunk), stats: null }),
      maxTokens: 1,
    });
    // Keys: 20 rows, float32 tail kept between 4 and 7 rows; values: exactly the newest 4.
    expect(final.layers[0].heads[0].keys.rows).toBe(20);
    expect(final.layers[0].heads[0].keys.kind).toBe('int2-per-channel-g4+int2-per-channel-g4+int2-per-channel-g4+int2-per-channel-g4+float32');
  });

  it('rejects a budget below 1', () => {
    expect(() => compressStreaming({ strategy: new WindowStrategy({ compressionRatio: 0.5 }), cache: createEmptyCache(1, 1, 2, 2), chunks: [], append: (cache) => ({ cache, stats: null }), maxTokens: 0 })).toThrow(RangeError);
  });
});

// Conformance suite over every registry entry, at easy and hard budgets. Each entry must keep
// the documented number of tokens and exactly its top-scored tokens, with ties to the lower
// index. It must leave its input untouched, be deterministic, and report the bytes it stores.
import { appendRandomTokens, keptPositions, naiveTopK, snapshotCache } from '../__fixtures__/helpers';
import { keptTokenCount } from '../budget';
import { cacheBytes, createEmptyCache, headPositions, type HeadCache, type KVCache } from '../kv-cache';
import { silentLogger } from '../logger';
import { float16BitsToNumber } from '../storage/float16';
import { Float32Storage } from '../storage/float32-storage';
import { QuantizedStorage, quantizedStorageBytes, type QuantizationAxis, type QuantizationBits } from '../storage/quantized-storage';
import { storageBytes, type TensorStorage } from '../storage/tensor-storage';
import type { AttentionStats, CompressionContext, CompressionStrategy } from '../strategy';
import { compressStreaming } from '../streaming';
import { createRandomCache, createSyntheticStats } from '../testing/random-cache';
import type { HeadAdaptiveStrategy } from './head-adaptive';
import { createStrategy, listMethods, type MethodInfo } from './index';
import { pyramidBudgets } from './pyramidkv';
import { ScoreBasedStrategy } from './score-based-strategy';

const layers = 3;
const kvHeads = 2;
const dKey = 5;
const dValue = 3;

const tokenMethods = listMethods().filter((method) => method.family === 'token-pruning');
const combinedMethods = listMethods().filter((method) => method.family === 'pruning+quantisation');
const headAdaptiveMethods = listMethods().filter((method) => method.family === 'head-adaptive');
const mergingMethods = listMethods().filter((method) => method.family === 'token-merging');
const lowRankMethods = listMethods().filter((method) => method.granularity === 'low-rank');
const precisionMethods = listMethods().filter((method) => method.granularity === 'precision');

/** Parameters for a run: the ratio, plus a window that fits the small fixtures. */
function paramsFor(method: MethodInfo, compressionRatio: number): Record<string, unknown> {
  const params: Record<string, unknown> = { compressionRatio };
  if ((method.parameters ?? []).some((parameter) => parameter.name === 'window')) {
    params.window = 4;
  }
  if (method.id === 'streaming-llm') {
    params.sinks = 2;
  }
  return params;
}

/** Budgets per layer that the method should apply, from the public budget helpers. */
function expectedBudgets(method: MethodInfo, len: number, compressionRatio: number): number[] {
  const uniform = Array<number>(layers).fill(keptTokenCount(len, compressionRatio));
  return method.id === 'pyramidkv' ? pyramidBudgets(Array<number>(layers).fill(len), uniform, 20) : uniform;
}

/** Bytes from first principles: float32 rows, 8-byte timestamps, 4-byte positions unless contiguous. */
function expectedHeadBytes(head: HeadCache): number {
  const rows = head.keys.rows;
  const positions = Array.from(headPositions(head));
  const contiguous = positions.every((position, i) => i === 0 || position === positions[i - 1] + 1);
  return rows * (dKey + dValue) * 4 + (head.timestamps === null ? 0 : rows * 8) + (contiguous ? 0 : rows * 4);
}

/** Builds statistics where every key receives the same attention, so that attention scores tie. */
function uniformStats(len: number): AttentionStats {
  const windowSize = Math.min(4, len);
  return {
    accumulated: Array.from({ length: layers }, () => new Float32Array(kvHeads * len).fill(1)),
    window: Array.from({ length: layers }, () => new Float32Array(kvHeads * windowSize * len).fill(0.25)),
    windowSize,
  };
}

/** Builds a cache whose keys are all equal, so that key-norm scores tie everywhere. */
function tiedCache(len: number): KVCache {
  const cache = createRandomCache({ layers, kvHeads, len, dKey, dValue, seed: 99, withTimestamps: true });
  return {
    ...cache,
    layers: cache.layers.map((layer) => ({
      heads: layer.heads.map((head) => ({ ...head, keys: new Float32Storage(new Float32Array(len * dKey).fill(0.5), len, dKey) })),
    })),
  };
}

describe.each(tokenMethods.map((method) => [method.id, method] as const))('%s conformance', (_id, method) => {
  const len = 23;
  const cache = createRandomCache({ layers, kvHeads, len, dKey, dValue, seed: 7, withTimestamps: true });
  const context: CompressionContext = { stats: createSyntheticStats(cache, { windowSize: 4, seed: 8 }), logger: silentLogger };

  it('returns the input unchanged at ratio 0', () => {
    expect(createStrategy(method.id, paramsFor(method, 0)).compress(cache, context)).toBe(cache);
  });

  describe.each([0.2, 0.8])('at ratio %f', (ratio) => {
    const strategy = createStrategy(method.id, paramsFor(method, ratio));
    const before = snapshotCache(cache);
    const compressed = strategy.compress(cache, context);
    const budgets = expectedBudgets(method, len, ratio);

    it('keeps the shape and the documented token count', () => {
      expect(compressed.layers).toHaveLength(layers);
      expect(compressed.seenTokens).toBe(cache.seenTokens);
      compressed.layers.forEach((layer, l) => {
        expect(layer.heads).toHaveLength(kvHeads);
        for (const head of layer.heads) {
          expect([l, head.keys.rows, head.values.rows, head.keys.cols, head.values.cols, head.timestamps?.length]).toEqual([l, budgets[l], budgets[l], dKey, dValue, budgets[l]]);
        }
      });
    });

    it('keeps rows of the input at ascending positions', () => {
      compressed.layers.forEach((layer, l) => {
        layer.heads.forEach((head, h) => {
          const positions = Array.from(headPositions(head));
          expect(positions.every((position, i) => i === 0 || position > positions[i - 1])).toBe(true);
          const source = cache.layers[l].heads[h];
          const sourceKeys = source.keys.decode();
          const sourceValues = source.values.decode();
          const keys = head.keys.decode();
          const values = head.values.decode();
          positions.forEach((position, i) => {
            expect(Array.from(keys.subarray(i * dKey, (i + 1) * dKey))).toEqual(Array.from(sourceKeys.subarray(position * dKey, (position + 1) * dKey)));
            expect(Array.from(values.subarray(i * dValue, (i + 1) * dValue))).toEqual(Array.from(sourceValues.subarray(position * dValue, (position + 1) * dValue)));
            expect(head.timestamps?.[i]).toBe(source.timestamps?.[position]);
          });
        });
      });
    });

    it('keeps exactly the top-scored tokens', () => {
      expect(strategy).toBeInstanceOf(ScoreBasedStrategy);
      const scores = (strategy as ScoreBasedStrategy).score(cache, context, budgets);
      const expected = scores.map((layer, l) => Array.from({ length: kvHeads }, (_, h) => naiveTopK(layer.subarray(h * len, (h + 1) * len), budgets[l])));
      expect(keptPositions(compressed)).toEqual(expected);
    });

    it('breaks ties toward the lower index', () => {
      const tied = tiedCache(len);
      const tiedContext: CompressionContext = { stats: uniformStats(len), logger: silentLogger };
      const scores = (strategy as ScoreBasedStrategy).score(tied, tiedContext, budgets);
      const expected = scores.map((layer, l) => Array.from({ length: kvHeads }, (_, h) => naiveTopK(layer.subarray(h * len, (h + 1) * len), budgets[l])));
      expect(keptPositions(strategy.compress(tied, tiedContext))).toEqual(expected);
    });

    it('is deterministic', () => {
      const again = createStrategy(method.id, paramsFor(method, ratio)).compress(cache, context);
      expect(keptPositions(again)).toEqual(keptPositions(compressed));
      expect(cacheBytes(again)).toBe(cacheBytes(compressed));
    });

    it('reports the bytes it stores', () => {
      const expected = compressed.layers.reduce((sum, layer) => sum + layer.heads.reduce((headSum, head) => headSum + expectedHeadBytes(head), 0), 0);
      expect(cacheBytes(compressed)).toBe(expected);
    });

    it('does not mutate its input', () => {
      expect(snapshotCache(cache)).toEqual(before);
    });
  });

  it.each([1, 2, 3])('never empties a history of %i', (shortLen) => {
    const short = createRandomCache({ layers, kvHeads, len: shortLen, dKey, dValue, seed: shortLen });
    const shortContext: CompressionContext = { stats: createSyntheticStats(short, { windowSize: 4, seed: shortLen }), logger: silentLogger };
    const compressed = createStrategy(method.id, paramsFor(method, 0.9)).compress(short, shortContext);
    for (const layer of compressed.layers) {
      for (const head of layer.heads) {
        expect(head.keys.rows).toBeGreaterThanOrEqual(1);
      }
    }
  });
});

describe.each(mergingMethods.map((method) => [method.id, method] as const))('%s conformance', (_id, method) => {
  const len = 23;
  const cache = createRandomCache({ layers, kvHeads, len, dKey, dValue, seed: 17, withTimestamps: true });
  const context: CompressionContext = { stats: createSyntheticStats(cache, { windowSize: 4, seed: 18 }), logger: silentLogger };
  const before = snapshotCache(cache);

  it('returns the input unchanged at ratio 0', () => {
    expect(createStrategy(method.id, { compressionRatio: 0 }).compress(cache, context)).toBe(cache);
  });

  describe.each([0.2, 0.8])('at ratio %f', (ratio) => {
    const compressed = createStrategy(method.id, { compressionRatio: ratio }).compress(cache, context);
    const kept = keptTokenCount(len, ratio);

    it('keeps the documented entry count with weights that sum to the history', () => {
      for (const layer of compressed.layers) {
        expect(layer.heads).toHaveLength(kvHeads);
        for (const head of layer.heads) {
          expect([head.keys.rows, head.values.rows, head.keys.cols, head.values.cols, head.timestamps?.length, head.weights?.length]).toEqual([kept, kept, dKey, dValue, kept, kept]);
          expect(Array.from(head.weights ?? []).reduce((sum, weight) => sum + weight, 0)).toBe(len);
        }
      }
    });

    it('keeps ascending input positions and their timestamps', () => {
      compressed.layers.forEach((layer, l) => {
        layer.heads.forEach((head, h) => {
          const positions = Array.from(headPositions(head));
          expect(positions.every((position, i) => i === 0 || position > positions[i - 1])).toBe(true);
          positions.forEach((position, i) => {
            expect(head.timestamps?.[i]).toBe(cache.layers[l].heads[h].timestamps?.[position]);
          });
        });
      });
    });

    it('reports the bytes it stores', () => {
      const expected = compressed.layers.reduce((sum, layer) => sum + layer.heads.reduce((headSum, head) => headSum + expectedHeadBytes(head) + head.keys.rows * 4, 0), 0);
      expect(cacheBytes(compressed)).toBe(expected);
    });

    it('is deterministic', () => {
      const again = createStrategy(method.id, { compressionRatio: ratio }).compress(cache, context);
      expect(snapshotCache(again)).toEqual(snapshotCache(compressed));
    });

    it('compresses to an absolute budget', () => {
      const strategy = createStrategy(method.id, { compressionRatio: ratio }) as unknown as { compressToTokens(cache: KVCache, context: CompressionContext, maxTokens: number): KVCache };
      const merged = strategy.compressToTokens(cache, context, 5);
      expect(merged.layers.map((layer) => layer.heads.map((head) => head.keys.rows))).toEqual(Array.from({ length: layers }, () => Array<number>(kvHeads).fill(5)));
    });
  });

  it('stays within budget when streaming', () => {
    // 30 single-token appends under a budget of 5: 5 entries per head whose weights sum to 30.
    const streamed = compressStreaming({
      strategy: createStrategy(method.id, { compressionRatio: 0.5 }),
      cache: createEmptyCache(layers, kvHeads, dKey, dValue, true),
      chunks: Array.from({ length: 30 }, (_, i) => i),
      append: (current, chunk) => {
        const grown = appendRandomTokens(current, 1, 100 + chunk);
        return { cache: grown, stats: createSyntheticStats(grown, { windowSize: 4, seed: chunk }) };
      },
      maxTokens: 5,
    });
    for (const layer of streamed.layers) {
      for (const head of layer.heads) {
        expect(head.keys.rows).toBe(5);
        expect(Array.from(head.weights ?? []).reduce((sum, weight) => sum + weight, 0)).toBe(30);
        expect(headPositions(head)[4]).toBe(29);
      }
    }
  });

  it('never empties a short history', () => {
    const short = createRandomCache({ layers, kvHeads, len: 2, dKey, dValue, seed: 2 });
    const shortContext: CompressionContext = { stats: createSyntheticStats(short, { windowSize: 4, seed: 2 }), logger: silentLogger };
    const merged = createStrategy(method.id, { compressionRatio: 0.9 }).compress(short, shortContext);
    expect(merged.layers.every((layer) => layer.heads.every((head) => head.keys.rows === 1 && head.weights?.[0] === 2))).toBe(true);
  });

  it('does not mutate its input', () => {
    expect(snapshotCache(cache)).toEqual(before);
  });
});

describe.each(lowRankMethods.map((method) => [method.id, method] as const))('%s conformance', (_id, method) => {
  const len = 40;
  const wide = 8;
  const cache = createRandomCache({ layers, kvHeads, len, dKey: wide, dValue: wide, seed: 19, withTimestamps: true });
  const context: CompressionContext = { stats: null, logger: silentLogger };
  const before = snapshotCache(cache);
  // A calibrated method fits its shared basis on other users' caches first.
  const calibrationCaches = [20, 21, 22].map((seed) => createRandomCache({ layers, kvHeads, len, dKey: wide, dValue: wide, seed }));

  /** Creates the method, calibrated when it needs calibration. */
  function createReady(params: Record<string, unknown>): CompressionStrategy {
    const strategy = createStrategy(method.id, params);
    if (method.calibration === true) {
      strategy.calibrate?.(calibrationCaches, context);
    }
    return strategy;
  }

  it('returns the input unchanged at ratio 0', () => {
    expect(createReady({ compressionRatio: 0 }).compress(cache, context)).toBe(cache);
  });

  describe.each([0.2, 0.5, 0.8])('at ratio %f', (ratio) => {
    const compressed = createReady({ compressionRatio: ratio }).compress(cache, context);
    const rank = Math.max(1, Math.round(wide * (1 - ratio)));
    // Per-user SVD stores both factors; a shared basis stores only the coefficients per user.
    const factoredBytes = method.calibration === true ? 4 * rank * len : 4 * rank * (len + wide);
    const factored = factoredBytes < 4 * len * wide;

    it('keeps every token and its metadata', () => {
      compressed.layers.forEach((layer, l) => {
        layer.heads.forEach((head, h) => {
          const source = cache.layers[l].heads[h];
          expect([head.keys.rows, head.values.rows, head.keys.cols, head.values.cols]).toEqual([len, len, wide, wide]);
          expect(head.timestamps).toBe(source.timestamps);
          expect(head.positions).toBe(source.positions);
        });
      });
    });

    it('reports the bytes of the factors', () => {
      // Factors take 4 · rank · (len + dHead) B per block (4 · rank · len for a shared basis),
      // unless that is not smaller than float32.
      const blockBytes = factored ? factoredBytes : 4 * len * wide;
      expect(cacheBytes(compressed)).toBe(layers * kvHeads * (2 * blockBytes + len * 8));
    });

    it('is deterministic', () => {
      const again = createReady({ compressionRatio: ratio }).compress(cache, context);
      expect(snapshotCache(again)).toEqual(snapshotCache(compressed));
    });
  });

  it('does not mutate its input', () => {
    expect(snapshotCache(cache)).toEqual(before);
  });
});

describe.each(headAdaptiveMethods.map((method) => [method.id, method] as const))('%s conformance', (_id, method) => {
  const len = 23;
  const cache = createRandomCache({ layers, kvHeads, len, dKey, dValue, seed: 27, withTimestamps: true });
  const context: CompressionContext = { stats: createSyntheticStats(cache, { windowSize: 4, seed: 28 }), logger: silentLogger };
  const before = snapshotCache(cache);

  it('returns the input unchanged at ratio 0', () => {
    expect(createStrategy(method.id, paramsFor(method, 0)).compress(cache, context)).toBe(cache);
  });

  describe.each([0.2, 0.8])('at ratio %f', (ratio) => {
    const strategy = createStrategy(method.id, paramsFor(method, ratio)) as HeadAdaptiveStrategy;
    const compressed = strategy.compress(cache, context);
    const budget = keptTokenCount(len, ratio);
    const floor = Math.max(1, Math.floor(budget * (strategy.params.alpha as number)));

    it('keeps the layer total and the floor of every head', () => {
      for (const layer of compressed.layers) {
        expect(layer.heads).toHaveLength(kvHeads);
        expect(layer.heads.reduce((sum, head) => sum + head.keys.rows, 0)).toBe(kvHeads * budget);
        for (const head of layer.heads) {
          expect(head.keys.rows).toBeGreaterThanOrEqual(floor);
          expect([head.values.rows, head.timestamps?.length]).toEqual([head.keys.rows, head.keys.rows]);
        }
      }
    });

    it('keeps rows of the input at ascending positions', () => {
      compressed.layers.forEach((layer, l) => {
        layer.heads.forEach((head, h) => {
          const positions = Array.from(headPositions(head));
          expect(positions.every((position, i) => i === 0 || position > positions[i - 1])).toBe(true);
          const sourceKeys = cache.layers[l].heads[h].keys.decode();
          const keys = head.keys.decode();
          positions.forEach((position, i) => {
            expect(Array.from(keys.subarray(i * dKey, (i + 1) * dKey))).toEqual(Array.from(sourceKeys.subarray(position * dKey, (position + 1) * dKey)));
          });
        });
      });
    });

    it('reports the bytes it stores', () => {
      const expected = compressed.layers.reduce((sum, layer) => sum + layer.heads.reduce((headSum, head) => headSum + expectedHeadBytes(head), 0), 0);
      expect(cacheBytes(compressed)).toBe(expected);
    });

    it('is deterministic', () => {
      const again = createStrategy(method.id, paramsFor(method, ratio)).compress(cache, context);
      expect(snapshotCache(again)).toEqual(snapshotCache(compressed));
    });
  });

  it('never empties a short history', () => {
    const short = createRandomCache({ layers, kvHeads, len: 2, dKey, dValue, seed: 2 });
    const shortContext: CompressionContext = { stats: createSyntheticStats(short, { windowSize: 4, seed: 2 }), logger: silentLogger };
    const compressed = createStrategy(method.id, paramsFor(method, 0.9)).compress(short, shortContext);
    expect(compressed.layers.every((layer) => layer.heads.every((head) => head.keys.rows === 1))).toBe(true);
  });

  it('does not mutate its input', () => {
    expect(snapshotCache(cache)).toEqual(before);
  });
});

/**
 * Bytes of the keys or values of one head of `rows` float32 rows after a precision method
 * with its defaults, from the analytical formulas.
 */
function precisionStorageBytes(precisionId: string, rows: number, cols: number, isKey: boolean): number {
  const params = createStrategy(precisionId, {}).params;
  const bits = params.bits as QuantizationBits;
  const groupSize = params.groupSize as number;
  if (precisionId === 'kivi') {
    const residual = params.residual as number;
    const quantizedRows = isKey ? Math.floor(Math.max(0, rows - residual) / groupSize) * groupSize : Math.max(0, rows - residual);
    return blockBytes(quantizedRows, rows, cols, bits, groupSize, isKey ? 'per-channel' : 'per-token');
  }
  return blockBytes(rows, rows, cols, bits, groupSize, params.axis as QuantizationAxis);
}

describe.each(combinedMethods.map((method) => [method.id, method] as const))('%s conformance', (_id, method) => {
  const len = 60;
  const [pruningId, precisionId] = method.id.split('+');
  const cache = createRandomCache({ layers, kvHeads, len, dKey, dValue, seed: 13, withTimestamps: true });
  const context: CompressionContext = { stats: createSyntheticStats(cache, { windowSize: 16, seed: 14 }), logger: silentLogger };
  const before = snapshotCache(cache);

  describe.each([0, 0.2, 0.8])('at ratio %f', (ratio) => {
    const compressed = createStrategy(method.id, { compressionRatio: ratio }).compress(cache, context);
    const pruned = createStrategy(pruningId, { compressionRatio: ratio }).compress(cache, context);

    it('keeps the tokens that its pruning part keeps', () => {
      expect(keptPositions(compressed)).toEqual(keptPositions(pruned));
      compressed.layers.forEach((layer, l) => {
        layer.heads.forEach((head, h) => {
          expect([head.keys.rows, head.values.rows]).toEqual([keptTokenCount(len, ratio), keptTokenCount(len, ratio)]);
          expect(head.timestamps).toEqual(pruned.layers[l].heads[h].timestamps);
        });
      });
    });

    it('reports the bytes of the analytical formula', () => {
      let expected = 0;
      for (const layer of compressed.layers) {
        for (const head of layer.heads) {
          const rows = head.keys.rows;
          const positionBytes = head.positions === null ? 0 : rows * 4;
          expected += precisionStorageBytes(precisionId, rows, dKey, true) + precisionStorageBytes(precisionId, rows, dValue, false) + positionBytes + rows * 8;
        }
      }
      expect(cacheBytes(compressed)).toBe(expected);
    });

    it('decodes the kept rows within half a scale', () => {
      compressed.layers.forEach((layer, l) => {
        layer.heads.forEach((head, h) => {
          const source = pruned.layers[l].heads[h];
          for (const [stored, original] of [[head.keys, source.keys], [head.values, source.values]] as const) {
            const decoded = stored.decode();
            const reference = original.decode();
            let error = 0;
            for (let i = 0; i < decoded.length; i++) {
              error = Math.max(error, Math.abs(decoded[i] - reference[i]));
            }
            // Numbers lie in (−1.5, 1.5): zero-point rounding adds at most 1.5 · 2^-11.
            expect(error).toBeLessThanOrEqual(largestScale(stored) / 2 + 1.5 * 2 ** -11);
          }
        });
      });
    });

    it('is deterministic', () => {
      const again = createStrategy(method.id, { compressionRatio: ratio }).compress(cache, context);
      expect(snapshotCache(again)).toEqual(snapshotCache(compressed));
    });
  });

  it('does not mutate its input', () => {
    expect(snapshotCache(cache)).toEqual(before);
  });
});

/** Bytes of one quantised-or-float32 block from the analytical formulas. */
function blockBytes(quantizedRows: number, totalRows: number, cols: number, bits: QuantizationBits, groupSize: number, axis: QuantizationAxis): number {
  const quantized = quantizedRows === 0 ? 0 : quantizedStorageBytes(quantizedRows, cols, { bits, groupSize, axis });
  return quantized + (totalRows - quantizedRows) * cols * 4;
}

/** Largest scale of every quantised part of a storage. */
function largestScale(storage: TensorStorage): number {
  const parts = 'parts' in storage ? (storage as unknown as { parts: TensorStorage[] }).parts : [storage];
  let max = 0;
  for (const part of parts) {
    if (part instanceof QuantizedStorage) {
      for (const bits of part.scales) {
        max = Math.max(max, float16BitsToNumber(bits));
      }
    }
  }
  return max;
}

describe.each(precisionMethods.map((method) => [method.id, method] as const))('%s conformance', (_id, method) => {
  const len = 80;
  const cache = createRandomCache({ layers, kvHeads, len, dKey, dValue, seed: 11, withTimestamps: true });
  const before = snapshotCache(cache);
  const strategy = createStrategy(method.id, {});
  const compressed = strategy.compress(cache, { stats: null, logger: silentLogger });
  const bits = strategy.params.bits as QuantizationBits;
  const groupSize = strategy.params.groupSize as number;

  it('keeps every token and its metadata', () => {
    compressed.layers.forEach((layer, l) => {
      layer.heads.forEach((head, h) => {
        const source = cache.layers[l].heads[h];
        expect([head.keys.rows, head.values.rows, head.keys.cols, head.values.cols]).toEqual([len, len, dKey, dValue]);
        expect(Array.from(headPositions(head))).toEqual(Array.from(headPositions(source)));
        expect(head.timestamps).toBe(source.timestamps);
      });
    });
  });

  it('reports the bytes of the analytical formula', () => {
    let keyBytes: number;
    let valueBytes: number;
    if (method.id === 'kivi') {
      const residual = strategy.params.residual as number;
      const keyRows = Math.floor(Math.max(0, len - residual) / groupSize) * groupSize;
      const valueRows = Math.max(0, len - residual);
      keyBytes = blockBytes(keyRows, len, dKey, bits, groupSize, 'per-channel');
      valueBytes = blockBytes(valueRows, len, dValue, bits, groupSize, 'per-token');
    } else if (method.id === 'intactkv') {
      // Without statistics the pivots are the oldest rows: float32, then one quantised run.
      const pivots = strategy.params.pivots as number;
      keyBytes = pivots * dKey * 4 + blockBytes(len - pivots, len - pivots, dKey, bits, groupSize, 'per-token');
      valueBytes = pivots * dValue * 4 + blockBytes(len - pivots, len - pivots, dValue, bits, groupSize, 'per-token');
    } else {
      const axis = strategy.params.axis as QuantizationAxis;
      keyBytes = blockBytes(len, len, dKey, bits, groupSize, axis);
      valueBytes = blockBytes(len, len, dValue, bits, groupSize, axis);
    }
    const timestampBytes = len * 8;
    expect(cacheBytes(compressed)).toBe(layers * kvHeads * (keyBytes + valueBytes + timestampBytes));
    for (const layer of compressed.layers) {
      for (const head of layer.heads) {
        expect(storageBytes(head.keys)).toBe(keyBytes);
      }
    }
  });

  it('decodes within half a scale', () => {
    compressed.layers.forEach((layer, l) => {
      layer.heads.forEach((head, h) => {
        const source = cache.layers[l].heads[h];
        for (const [stored, original] of [[head.keys, source.keys], [head.values, source.values]] as const) {
          const decoded = stored.decode();
          const reference = original.decode();
          let error = 0;
          for (let i = 0; i < decoded.length; i++) {
            error = Math.max(error, Math.abs(decoded[i] - reference[i]));
          }
          // Numbers lie in (−1.5, 1.5): zero-point rounding adds at most 1.5 · 2^-11.
          expect(error).toBeLessThanOrEqual(largestScale(stored) / 2 + 1.5 * 2 ** -11);
        }
      });
    });
  });

  it('is deterministic', () => {
    const again = createStrategy(method.id, {}).compress(cache, { stats: null, logger: silentLogger });
    expect(snapshotCache(again)).toEqual(snapshotCache(compressed));
  });

  it('does not mutate its input', () => {
    expect(snapshotCache(cache)).toEqual(before);
  });
});

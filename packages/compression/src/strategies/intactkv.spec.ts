import { noStats, recordingLogger } from '../__fixtures__/helpers';
import { appendToHead, cacheBytes, createFullHead, type KVCache } from '../kv-cache';
import { silentLogger } from '../logger';
import { invalidArgument, invalidShape, pivotsWithoutStatsWarning } from '../messages';
import { ConcatStorage } from '../storage/concat-storage';
import { float16BitsToNumber } from '../storage/float16';
import { Float32Storage } from '../storage/float32-storage';
import { QuantizedStorage } from '../storage/quantized-storage';
import type { TensorStorage } from '../storage/tensor-storage';
import type { AttentionStats, CompressionContext } from '../strategy';
import { createStrategy } from './index';
import { IntactKVStrategy, selectPivotRows } from './intactkv';

// One layer, one head, 6 tokens of width 2.
const keys = Float32Array.of(0.5, -0.25, 1, 2, -1, 0.75, 3, -3, 0.125, 0.5, -0.5, 1.5); // [len, dKey]
const values = Float32Array.of(1, 0, 0, 1, 0.5, 0.5, -2, 2, 0.25, -0.75, 1, 1); // [len, dValue]

function handCache(): KVCache {
  return { layers: [{ heads: [createFullHead(keys.slice(), values.slice(), 6, 2, 2)] }], seenTokens: 6, itemIds: new Int32Array(6) };
}

function statsOf(accumulated: number[]): AttentionStats {
  return { accumulated: [Float32Array.from(accumulated)], window: [new Float32Array(accumulated.length)], windowSize: 1 };
}

/** Kind and row count of every part of a storage. */
function layout(storage: TensorStorage): string[] {
  const parts = storage instanceof ConcatStorage ? storage.parts : [storage];
  return parts.map((part) => `${part instanceof Float32Storage ? 'float32' : 'int'}:${part.rows}`);
}

describe('IntactKVStrategy', () => {
  const context: CompressionContext = { stats: statsOf([0.1, 0.5, 0.05, 0.9, 0.2, 0.2]), logger: silentLogger };

  it('keeps the sink and the most attended rows in float32', () => {
    // Sink: row 0 (position 0 < sinks = 1). Then the 2 highest of the others: row 3 (0.9), row 1 (0.5).
    // Runs: float32 rows 0–1, int8 row 2, float32 row 3, int8 rows 4–5.
    const compressed = new IntactKVStrategy({ bits: 8, groupSize: 2, pivots: 3, sinks: 1 }).compress(handCache(), context);
    const head = compressed.layers[0].heads[0];
    expect(layout(head.keys)).toEqual(['float32:2', 'int:1', 'float32:1', 'int:2']);
    expect(layout(head.values)).toEqual(['float32:2', 'int:1', 'float32:1', 'int:2']);
    const decoded = head.keys.decode();
    for (const row of [0, 1, 3]) {
      expect(Array.from(decoded.subarray(row * 2, row * 2 + 2))).toEqual(Array.from(keys.subarray(row * 2, row * 2 + 2)));
    }
  });

  it('charges the float32 pivots and each quantised run', () => {
    // Per storage: 3 float32 rows · 2 · 4 B = 24 B; int8 run of 1 row: codes 2 B + 1 group · 4 B = 6 B;
    // int8 run of 2 rows: codes 4 B + 2 groups · 4 B = 12 B. Keys and values: 2 · (24 + 6 + 12) = 84 B.
    const compressed = new IntactKVStrategy({ bits: 8, groupSize: 2, pivots: 3, sinks: 1 }).compress(handCache(), context);
    expect(cacheBytes(compressed)).toBe(2 * (24 + 6 + 12));
    expect(cacheBytes(handCache())).toBe(2 * 6 * 2 * 4); // 96 B in float32
  });

  it('decodes the other rows within half a scale', () => {
    const head = new IntactKVStrategy({ bits: 4, groupSize: 2, pivots: 3, sinks: 1 }).compress(handCache(), context).layers[0].heads[0];
    const parts = (head.values as ConcatStorage).parts;
    const decoded = head.values.decode();
    for (const [row, part] of [[2, parts[1]], [4, parts[3]], [5, parts[3]]] as const) {
      const quantized = part as QuantizedStorage;
      const scale = float16BitsToNumber(quantized.scales[row === 2 ? 0 : row - 4]);
      for (let c = 0; c < 2; c++) {
        expect(Math.abs(decoded[row * 2 + c] - values[row * 2 + c])).toBeLessThanOrEqual(scale / 2 + 2 * 2 ** -11);
      }
    }
  });

  it('breaks attention ties toward the lower index', () => {
    expect(Array.from(selectPivotRows(Int32Array.of(0, 1, 2, 3, 4), Float32Array.of(1, 1, 1, 1, 1), 3, 1))).toEqual([1, 1, 1, 0, 0]);
    // Rows 1 and 3 (attention 2) first, then row 2 wins the tie at 1 against row 4.
    expect(Array.from(selectPivotRows(Int32Array.of(0, 1, 2, 3, 4), Float32Array.of(0, 2, 1, 2, 1), 3, 0))).toEqual([0, 1, 1, 1, 0]);
  });

  it('counts sinks by original position', () => {
    // Rows at positions 5, 6, 7: none is below sinks = 2, so all three slots go by attention.
    expect(Array.from(selectPivotRows(Int32Array.of(5, 6, 7), Float32Array.of(0.3, 0.1, 0.2), 2, 2))).toEqual([1, 0, 1]);
  });

  it('keeps a short head in float32', () => {
    // 6 rows and pivots = 6: every row is a pivot.
    const compressed = new IntactKVStrategy({ pivots: 6, sinks: 1 }).compress(handCache(), context);
    expect(layout(compressed.layers[0].heads[0].keys)).toEqual(['float32:6']);
    expect(cacheBytes(compressed)).toBe(96);
  });

  it('uses the oldest rows and warns without statistics', () => {
    const logger = recordingLogger();
    const compressed = new IntactKVStrategy({ bits: 8, groupSize: 2, pivots: 2, sinks: 1 }).compress(handCache(), { stats: null, logger });
    expect(layout(compressed.layers[0].heads[0].keys)).toEqual(['float32:2', 'int:4']);
    expect(logger.warnings).toEqual([pivotsWithoutStatsWarning('intactkv', 2)]);
  });

  it('encodes only the rows appended since the last call', () => {
    // After a first call, rows 6 and 7 are appended; row 7 has the highest attention of all.
    // The earlier parts stay the same objects, row 6 is quantised and row 7 stays in float32.
    const strategy = new IntactKVStrategy({ bits: 8, groupSize: 2, pivots: 3, sinks: 1 });
    const first = strategy.compress(handCache(), context);
    const firstParts = (first.layers[0].heads[0].keys as ConcatStorage).parts;
    const grownHead = appendToHead(first.layers[0].heads[0], Float32Array.of(0.1, 0.2, 0.3, 0.4), Float32Array.of(0.5, 0.6, 0.7, 0.8), 2, 6);
    const grown: KVCache = { layers: [{ heads: [grownHead] }], seenTokens: 8, itemIds: new Int32Array(8) };
    const second = strategy.compress(grown, { stats: statsOf([0.1, 0.5, 0.05, 0.9, 0.2, 0.2, 0.01, 2]), logger: silentLogger });
    const parts = (second.layers[0].heads[0].keys as ConcatStorage).parts;
    expect(parts.slice(0, 4)).toEqual(firstParts);
    expect(parts.slice(0, 4).every((part, i) => part === firstParts[i])).toBe(true);
    expect(layout(second.layers[0].heads[0].keys)).toEqual(['float32:2', 'int:1', 'float32:1', 'int:2', 'int:1', 'float32:1']);
  });

  it('rejects statistics of another shape', () => {
    expect(() => new IntactKVStrategy().compress(handCache(), { stats: statsOf([1, 2, 3]), logger: silentLogger })).toThrow(
      new RangeError(invalidShape('IntactKVStrategy.compress', 'stats.accumulated[0]', [1, 6], 3)),
    );
  });

  it('quantises every row without pivots', () => {
    // pivots = 0 lowers the default sinks to 0: one int8 run of 6 rows.
    const strategy = new IntactKVStrategy({ bits: 8, groupSize: 2, pivots: 0 });
    expect(strategy.params).toEqual({ bits: 8, groupSize: 2, pivots: 0, sinks: 0 });
    expect(layout(strategy.compress(handCache(), context).layers[0].heads[0].keys)).toEqual(['int:6']);
  });

  it('rejects more sinks than pivots', () => {
    expect(() => new IntactKVStrategy({ pivots: 2, sinks: 3 })).toThrow(new RangeError(invalidArgument('IntactKVStrategy', 'sinks', 'an integer in [0, 2]', '3')));
    expect(() => new IntactKVStrategy({ bits: 3 as 4 })).toThrow(RangeError);
  });

  it('is registered with its defaults', () => {
    const strategy = createStrategy('intactkv', {});
    expect(strategy.params).toEqual({ bits: 4, groupSize: 32, pivots: 4, sinks: 1 });
    expect(strategy.compress(handCache(), noStats).layers[0].heads[0].keys.rows).toBe(6);
  });
});

import { createStrategy, silentLogger, type AttentionStats } from '@malloc/compression';
import { initBackend, type SequentialModel } from '../../src/index';
import type { TrainableModel } from '../../src/model/types';
import { expectClose } from '../tolerance';
import { amplifyRelativeBias, rowPositions, sequence, smallHstu, smallSasRec, timestamps } from './fixtures';

/** Chunks of 4 items condensed into 2 rows, by beacons or by the Linformer projection. */
const CONDENSING: readonly [string, object][] = [
  ['beacon', { beacon: { chunkSize: 4, beaconsPerChunk: 2 } }],
  ['linformer', { linformer: { blockSize: 4, projectedRows: 2 } }],
];

/** The same variants with chunks longer than the 9-item histories below, so nothing is condensed. */
const UNCONDENSED: readonly [string, object][] = [
  ['beacon', { beacon: { chunkSize: 12, beaconsPerChunk: 2 } }],
  ['linformer', { linformer: { blockSize: 12, projectedRows: 2 } }],
];

/** Builds SASRec or HSTU with `fields`; HSTU gets order-1 relative biases. */
function build(kind: string, fields: object): SequentialModel {
  if (kind === 'sasrec') {
    return smallSasRec(fields);
  }
  const model = smallHstu(fields);
  amplifyRelativeBias(model);
  return model;
}

/** Prefill options with statistics; HSTU also gets timestamps. */
function statsOptions(kind: string, length: number): { recordStats: true; statsWindow: number; timestamps?: Float64Array } {
  return kind === 'hstu' ? { recordStats: true, statsWindow: 3, timestamps: timestamps(length) } : { recordStats: true, statsWindow: 3 };
}

/** Expects two sets of statistics to agree within 1e-5, layer by layer. */
function expectStatsClose(actual: AttentionStats | null, expected: AttentionStats | null): void {
  expect(actual).not.toBeNull();
  expect(expected).not.toBeNull();
  const [a, b] = [actual as AttentionStats, expected as AttentionStats];
  expect(a.windowSize).toBe(b.windowSize);
  expect(a.accumulated).toHaveLength(b.accumulated.length);
  a.accumulated.forEach((layer, index) => expectClose(layer, b.accumulated[index], 1e-5));
  a.window.forEach((layer, index) => expectClose(layer, b.window[index], 1e-5));
}

describe.each(['cpu', 'wasm'] as const)('chunkwise attention statistics on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  describe.each(['sasrec', 'hstu'])('%s', (kind) => {
    it.each(UNCONDENSED)('%s without a complete chunk equals the plain model', (_name, fields) => {
      // The variant's other weights equal the plain model's, and no chunk completes, so every query attends to the same keys.
      const plain = build(kind, {});
      const variant = build(kind, fields);
      const history = sequence(9, 2);
      expectStatsClose(variant.prefill(history, statsOptions(kind, 9)).stats, plain.prefill(history, statsOptions(kind, 9)).stats);
      plain.dispose();
      variant.dispose();
    });

    it.each([
      ['beacon with GQA', { beacon: { chunkSize: 12, beaconsPerChunk: 2 }, kvHeads: 1 }],
      ['linformer with GQA', { linformer: { blockSize: 12, projectedRows: 2 }, kvHeads: 1 }],
    ])('%s averages query heads like the plain model', (_name, fields) => {
      const plain = build(kind, { kvHeads: 1 });
      const variant = build(kind, fields);
      const history = sequence(7, 1);
      expectStatsClose(variant.prefill(history, statsOptions(kind, 7)).stats, plain.prefill(history, statsOptions(kind, 7)).stats);
      plain.dispose();
      variant.dispose();
    });

    it.each(CONDENSING)('%s statistics cover the cached rows', (_name, fields) => {
      // 10 items: rows at positions 2, 3, 6, 7 (condensed) and 8, 9 (raw), 2 cache heads.
      const model = build(kind, fields);
      const { cache, stats } = model.prefill(sequence(10), statsOptions(kind, 10));
      expect(rowPositions(cache)[0]).toEqual([2, 3, 6, 7, 8, 9]);
      const { accumulated, window, windowSize } = stats as AttentionStats;
      expect(windowSize).toBe(3);
      expect(accumulated.map((layer) => layer.length)).toEqual([2 * 6, 2 * 6]);
      expect(window.map((layer) => layer.length)).toEqual([2 * 3 * 6, 2 * 3 * 6]);

      // Window row 0 is item 7, whose chunk was condensed: only rows of earlier chunks (positions 2, 3) keep weight.
      for (const layer of window) {
        for (let head = 0; head < 2; head++) {
          const row = layer.subarray(head * 3 * 6, head * 3 * 6 + 6);
          expect(row[0]).toBeGreaterThan(0);
          expect(Array.from(row.subarray(2))).toEqual([0, 0, 0, 0]);
        }
      }

      // Items 8 and 9 attend every row up to themselves; row 9 (raw) receives only item 9's attention.
      accumulated.forEach((layer, index) => {
        expect(layer[5]).toBeCloseTo(window[index][2 * 6 + 5], 6);
        expect(layer.every((value) => value > 0)).toBe(true);
      });
      model.dispose();
    });

    it.each(CONDENSING)('%s cache is compressed by SnapKV, H2O and TOVA', (_name, fields) => {
      const model = build(kind, fields);
      const options = statsOptions(kind, 14);
      const { cache, stats } = model.prefill(sequence(13), { ...options, timestamps: options.timestamps?.subarray(0, 13) });
      // 13 items keep 3 × 2 condensed rows + 1 raw row = 7 rows; ratio 0.5 keeps ⌊7 · 0.5⌋ = 3.
      for (const id of ['snapkv', 'h2o', 'tova']) {
        const compressed = createStrategy(id, { compressionRatio: 0.5 }).compress(cache, { stats, logger: silentLogger });
        expect(compressed.layers[0].heads[0].keys.rows).toBe(3);
        const request = options.timestamps === undefined ? {} : { timestamps: options.timestamps.subarray(13) };
        const appended = model.append(compressed, sequence(1, 13), request);
        expect(appended.hidden.every(Number.isFinite)).toBe(true);
      }
      model.dispose();
    });
  });

  it('HSTU Linformer entries equal an independent |A|', () => {
    // One layer; 6 items in blocks of 4: projected rows at positions 2, 3 (time of item 3) and raw items 4, 5.
    const model = smallHstu({ layers: 1, linformer: { blockSize: 4, projectedRows: 2 } }) as TrainableModel;
    amplifyRelativeBias(model);
    const items = sequence(6);
    const times = timestamps(6);
    const { cache, stats } = model.prefill(items, { recordStats: true, statsWindow: 1, timestamps: times });
    expect(rowPositions(cache)[0]).toEqual([2, 3, 4, 5]);
    const variable = (name: string): Float32Array => model.variables.find((entry) => entry.name === name)?.variable.dataSync() as Float32Array;
    const [itemTable, positionTable, kernel] = [variable('item_embedding'), variable('position_embedding'), variable('layer_0/uvqk/kernel')];
    const [positionBias, timeBias] = [variable('layer_0/relative_position_bias'), variable('layer_0/time_bucket_bias')];
    const d = 12;
    const width = 2 * (5 + 5 + 6 + 6); // U, V, Q, K of 2 heads

    // Query of item 5, head h: SiLU(LN(E[item] · √d + P[5]) · W_q) / √6, LN without scale (eps 1e-6).
    const x = Float64Array.from({ length: d }, (_, c) => itemTable[items[5] * d + c] * Math.sqrt(d) + positionTable[5 * d + c]);
    const mean = x.reduce((a, b) => a + b, 0) / d;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
    const normed = x.map((value) => (value - mean) / Math.sqrt(variance + 1e-6));
    const query = (head: number): number[] =>
      Array.from({ length: 6 }, (_, c) => {
        const column = 2 * 5 + 2 * 5 + head * 6 + c;
        const projected = normed.reduce((sum, value, r) => sum + value * kernel[r * width + column], 0);
        return projected / (1 + Math.exp(-projected)) / Math.sqrt(6);
      });

    // |A| = |SiLU(q · k + positionBias[5 − p] + timeBias[bucket])| / maxLength 24, bucket = ⌊ln(max(|Δt|, 1)) / 0.301⌋ clamped to 16.
    const rowTimes = [times[3], times[3], times[4], times[5]];
    const { window } = stats as AttentionStats;
    for (let head = 0; head < 2; head++) {
      const q = query(head);
      const keys = cache.layers[0].heads[head].keys.decode(); // [4, 6]
      const expected = [2, 3, 4, 5].map((position, row) => {
        const bucket = Math.min(Math.floor(Math.log(Math.max(Math.abs(times[5] - rowTimes[row]), 1)) / 0.301), 16);
        const score = q.reduce((sum, value, c) => sum + value * keys[row * 6 + c], 0) + positionBias[5 - position] + timeBias[bucket];
        return Math.abs(score / (1 + Math.exp(-score))) / 24;
      });
      expectClose(window[0].subarray(head * 4, (head + 1) * 4), expected, 1e-6);
    }
    model.dispose();
  });

  it('beacon entries equal an independent softmax', () => {
    // One layer, so the layer-0 query of item t depends only on its own embedding, and the
    // keys are the cached rows. 6 items in chunks of 4: rows are beacons at 2, 3 and items 4, 5.
    const model = smallSasRec({ layers: 1, beacon: { chunkSize: 4, beaconsPerChunk: 2 } }) as TrainableModel;
    const items = sequence(6);
    const { cache, stats } = model.prefill(items, { recordStats: true, statsWindow: 2 });
    expect(rowPositions(cache)[0]).toEqual([2, 3, 4, 5]);
    const variable = (name: string): Float32Array => model.variables.find((entry) => entry.name === name)?.variable.dataSync() as Float32Array;
    const [itemTable, positionTable] = [variable('item_embedding'), variable('position_embedding')];
    const [normScale, normShift, queryKernel, queryBias] = ['scale', 'shift', 'kernel', 'bias'].map((part) => variable(part === 'scale' || part === 'shift' ? `block_0/attention_norm/${part}` : `block_0/query/${part}`));
    const d = 16;

    // Query of item t: LN(E[item] · √d + P[t]) · W_q + b_q, per head of width 8, scaled by 1/√8.
    const query = (t: number): Float64Array => {
      const x = Float64Array.from({ length: d }, (_, c) => itemTable[items[t] * d + c] * Math.sqrt(d) + positionTable[t * d + c]);
      const mean = x.reduce((a, b) => a + b, 0) / d;
      const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
      const normed = x.map((value, c) => ((value - mean) / Math.sqrt(variance + 1e-8)) * normScale[c] + normShift[c]);
      return Float64Array.from({ length: d }, (_, c) => (normed.reduce((sum, value, r) => sum + value * queryKernel[r * d + c], 0) + queryBias[c]) / Math.sqrt(8));
    };

    // Softmax of query t (head h) over the first `visible` cached rows.
    const softmax = (t: number, head: number, visible: number): number[] => {
      const q = query(t).subarray(head * 8, head * 8 + 8);
      const keys = cache.layers[0].heads[head].keys.decode(); // [4, 8]
      const scores = Array.from({ length: visible }, (_, row) => q.reduce((sum, value, c) => sum + value * keys[row * 8 + c], 0));
      const max = Math.max(...scores);
      const exps = scores.map((score) => Math.exp(score - max));
      const total = exps.reduce((a, b) => a + b, 0);
      return exps.map((value) => value / total);
    };

    const { accumulated, window } = stats as AttentionStats;
    for (let head = 0; head < 2; head++) {
      // Item 4 attends to the beacons and itself (rows 0..2), and item 5 to all 4 rows. Items 0..3 attended only to the dropped raw chunk.
      const item4 = softmax(4, head, 3);
      const item5 = softmax(5, head, 4);
      expect(accumulated[0][head * 4]).toBeCloseTo(item4[0] + item5[0], 5);
      expect(accumulated[0][head * 4 + 2]).toBeCloseTo(item4[2] + item5[2], 5);
      expectClose(window[0].subarray((head * 2 + 1) * 4, (head * 2 + 2) * 4), item5, 1e-5);
    }
    model.dispose();
  });
});

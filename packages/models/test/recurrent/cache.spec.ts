import { cacheBytes } from '@malloc/compression';
import { createGru4Rec, createRwkv, createSasRec, initBackend, type SequentialModel } from '../../src/index';
import type { TrainableModel } from '../../src/model/types';
import { expectClose } from '../tolerance';

const ITEMS = 40;
const D = 8;
const LAYERS = 2;

/** Deterministic history of `n` ids in 1..ITEMS. */
function history(n: number, offset = 0): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => ((i + offset) * 7) % ITEMS + 1);
}

const factories: [string, () => SequentialModel][] = [
  ['gru4rec', () => createGru4Rec({ itemCount: ITEMS, hiddenSize: D, layers: LAYERS, maxLength: 64, l2NormalizeEmbeddings: false }, 5)],
  ['rwkv', () => createRwkv({ itemCount: ITEMS, hiddenSize: D, layers: LAYERS, maxLength: 64, l2NormalizeEmbeddings: false }, 5)],
];

describe.each(['cpu', 'wasm'] as const)('recurrent cache on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  describe.each(factories)('%s', (_name, create) => {
    let model: SequentialModel;
    beforeAll(() => {
      model = create();
    });
    afterAll(() => model.dispose());

    it.each([1, 4, 16])('prefill + append %i equals full forward', (count) => {
      const full = history(20 + count);
      const { cache } = model.prefill(full.subarray(0, 20));
      const appended = model.append(cache, full.subarray(20));
      const expected = model.forwardLast(full);
      expectClose(appended.hidden.subarray((count - 1) * D), expected, 1e-5);
      expect(appended.cache.seenTokens).toBe(20 + count);
    });

    it('appends one by one like one block', () => {
      const { cache } = model.prefill(history(5));
      const block = model.append(cache, history(6, 3));
      let step = cache;
      let last: Float32Array = new Float32Array(0);
      for (const item of history(6, 3)) {
        const result = model.append(step, Int32Array.of(item));
        step = result.cache;
        last = result.hidden;
      }
      expectClose(last, block.hidden.subarray(5 * D), 1e-5);
    });

    it('prefillBatch equals prefill per history', () => {
      const histories = [history(7), new Int32Array([0, ...history(3, 2)]), history(12, 5)];
      const batched = model.prefillBatch(histories, { batchSize: 2 });
      histories.forEach((entry, index) => {
        const single = model.prefill(entry).cache;
        expect(batched[index].cache.seenTokens).toBe(single.seenTokens);
        expectClose(batched[index].cache.layers[1].heads[0].values.decode(), single.layers[1].heads[0].values.decode(), 0);
      });
      expect(() => model.prefillBatch(histories, { batchSize: 0 })).toThrow(RangeError);
    });

    it('empty history prefill then append equals forward', () => {
      const { cache, stats } = model.prefill(new Int32Array([0, 0]));
      expect(stats).toBeNull();
      expect(cache.seenTokens).toBe(0);
      const appended = model.append(cache, history(3));
      expectClose(appended.hidden.subarray(2 * D), model.forwardLast(history(3)), 1e-5);
    });

    it('padding on either side keeps the state', () => {
      // Row 0 is left-padded by 3, row 1 right-padded by 3; both hold the same 6 items.
      const items = new Int32Array([0, 0, 0, ...history(6), ...history(6), 0, 0, 0]); // [2, 9]
      const positions = new Int32Array([0, 0, 0, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 0, 0]);
      const trainable = model as TrainableModel;
      const hidden = trainable.encodeBatch({ batch: 2, len: 9, items, positions, timestamps: null }, null);
      const rows = hidden.dataSync() as Float32Array; // [18, D]
      hidden.dispose();
      const expected = model.forwardLast(history(6));
      expectClose(rows.subarray(8 * D, 9 * D), expected, 1e-5);
      expectClose(rows.subarray(14 * D, 15 * D), expected, 1e-5);
    });
  });
});

describe('recurrent cache checks', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('append rejects an attention cache', () => {
    const sasrec = createSasRec({ itemCount: ITEMS, hiddenSize: D, layers: LAYERS, maxLength: 20 }, 1);
    const gru = createGru4Rec({ itemCount: ITEMS, hiddenSize: D, layers: LAYERS }, 1);
    const { cache } = sasrec.prefill(history(3));
    // SASRec stores one key/value head of width 8 per token; the GRU state head is [1, 4] keys and [1, 4] values.
    expect(() => gru.append(cache, history(1))).toThrow('Gru4Rec.append: the cache does not fit this model: layer 0 head 0 stores keys [3, 8] and values [3, 8], expected [len, 4] and [len, 4].');
    sasrec.dispose();
    gru.dispose();
  });

  it('append needs at least one valid item', () => {
    const rwkv = createRwkv({ itemCount: ITEMS, hiddenSize: D, layers: LAYERS }, 1);
    const { cache } = rwkv.prefill(history(3));
    expect(() => rwkv.append(cache, new Int32Array(0))).toThrow(RangeError);
    expect(() => rwkv.append(cache, Int32Array.of(ITEMS + 1))).toThrow(RangeError);
    rwkv.dispose();
  });
});

describe('recurrent state bytes', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('GRU4Rec bytes constant over 2,000 appends', () => {
    const model = createGru4Rec({ itemCount: ITEMS, hiddenSize: D, layers: LAYERS }, 1);
    // h of each layer: 2 layers × 8 numbers × 4 bytes = 64; no position, timestamp or weight buffers.
    const expected = 2 * 8 * 4;
    let { cache } = model.prefill(history(10));
    expect(cacheBytes(cache)).toBe(expected);
    for (let chunk = 0; chunk < 20; chunk++) {
      cache = model.append(cache, history(100, chunk)).cache;
    }
    expect(cache.seenTokens).toBe(2010);
    expect(cacheBytes(cache)).toBe(expected);
    model.dispose();
  });

  it('RWKV bytes constant over 2,000 appends', () => {
    const model = createRwkv({ itemCount: ITEMS, hiddenSize: D, layers: LAYERS }, 1);
    // Per layer two token-shift inputs, a, b and p: 2 layers × 5 × 8 numbers × 4 bytes = 320.
    const expected = 2 * 5 * 8 * 4;
    let { cache } = model.prefill(history(10));
    expect(cacheBytes(cache)).toBe(expected);
    for (let chunk = 0; chunk < 20; chunk++) {
      cache = model.append(cache, history(100, chunk)).cache;
    }
    expect(cache.seenTokens).toBe(2010);
    expect(cacheBytes(cache)).toBe(expected);
    const last = model.append(cache, Int32Array.of(3)).hidden;
    expect(Array.from(last).every(Number.isFinite)).toBe(true);
    model.dispose();
  });
});

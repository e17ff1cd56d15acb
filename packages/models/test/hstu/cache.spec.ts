import { cacheBytes, gatherHead, type HeadCache, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { createHstu, createSasRec, initBackend } from '../../src/index';
import type { Hstu } from '../../src/hstu/hstu';
import { invalidArgument } from '../../src/messages';
import { referenceHstuForward } from '../reference-hstu';
import { causal, type KeyWeight } from '../reference-sasrec';
import { expectClose, lastRow } from '../tolerance';

/** Items 1..40 in a scrambled order and increasing timestamps with gaps from 0 s to about 10⁶ s. */
function sequence(length: number, offset = 0): { items: Int32Array; times: Float64Array } {
  const items = Int32Array.from({ length }, (_, i) => ((i + offset) * 7) % 40 + 1);
  const times = new Float64Array(length);
  for (let i = 1; i < length; i++) {
    times[i] = times[i - 1] + Math.floor(Math.pow(10, (i * 37 + offset) % 7));
  }
  return { items, times };
}

describe.each(['cpu', 'wasm'] as const)('Hstu incremental inference on %s', (backend) => {
  let model: Hstu;
  const d = 12;

  beforeAll(async () => {
    await initBackend(backend);
    model = createHstu({ itemCount: 40, maxLength: 24, hiddenSize: d, layers: 2, heads: 2, queryKeySize: 6, valueSize: 5, timeBuckets: 16 }, 13) as Hstu;
  });

  afterAll(() => model.dispose());

  it('forward pass matches the plain-array reference', () => {
    const { items, times } = sequence(9);
    const expected = referenceHstuForward(model, Array.from(items), Array.from(times));
    expectClose(model.forwardLast(items, { timestamps: times }), expected[expected.length - 1], 1e-5);
    const withoutTime = referenceHstuForward(model, Array.from(items), null);
    expectClose(model.forwardLast(items), withoutTime[withoutTime.length - 1], 1e-5);
  });

  it.each([1, 4, 16])('prefill plus append of %i items equals a full forward pass', (count) => {
    const { items, times } = sequence(6 + count, 2);
    const { cache } = model.prefill(items.subarray(0, 6), { timestamps: times.subarray(0, 6) });
    const appended = model.append(cache, items.subarray(6), { timestamps: times.subarray(6) });

    const expected = model.forwardLast(items, { timestamps: times });
    expectClose(lastRow(appended.hidden, d), expected, 1e-5);
    expectClose(model.scoreAll(lastRow(appended.hidden, d)), model.scoreAll(expected), 1e-5);
    expect(Array.from(appended.cache.layers[1].heads[0].timestamps ?? [])).toEqual(Array.from(times));
  });

  it('without timestamps the cache stores none and still matches', () => {
    const { items } = sequence(10, 1);
    const { cache } = model.prefill(items.subarray(0, 7));
    expect(cache.layers[0].heads[0].timestamps).toBeNull();
    const appended = model.append(cache, items.subarray(7));
    expectClose(lastRow(appended.hidden, d), model.forwardLast(items), 1e-5);
  });

  it('inputs longer than maxLength keep the newest items', () => {
    const { items, times } = sequence(35, 3);
    const window = 24;
    const start = items.length - window;
    const { cache } = model.prefill(items.subarray(start, items.length - 2), { timestamps: times.subarray(start, items.length - 2) });
    const appended = model.append(cache, items.subarray(items.length - 2), { timestamps: times.subarray(items.length - 2) });
    expectClose(lastRow(appended.hidden, d), model.forwardLast(items, { timestamps: times }), 1e-5);
  });

  it('changing the last item leaves earlier positions bitwise unchanged', () => {
    const times = new Float64Array([0, 100, 5000, 90000]);
    const a = model.prefill(new Int32Array([3, 8, 2, 6]), { timestamps: times }).cache;
    const b = model.prefill(new Int32Array([3, 8, 2, 9]), { timestamps: times }).cache;
    for (let layer = 0; layer < 2; layer++) {
      for (let head = 0; head < 2; head++) {
        expect(a.layers[layer].heads[head].keys.decode().subarray(0, 3 * 6)).toEqual(b.layers[layer].heads[head].keys.decode().subarray(0, 3 * 6));
        expect(a.layers[layer].heads[head].values.decode().subarray(0, 3 * 5)).toEqual(b.layers[layer].heads[head].values.decode().subarray(0, 3 * 5));
      }
    }
  });

  it('single-item left-padded history gives finite outputs', () => {
    const history = new Int32Array([0, 0, 0, 5]);
    const hidden = model.forwardLast(history);
    const appended = model.append(model.prefill(history).cache, new Int32Array([7]));
    expect(hidden.every(Number.isFinite)).toBe(true);
    expect(appended.hidden.every(Number.isFinite)).toBe(true);
    expect(model.scoreAll(hidden).subarray(1).every(Number.isFinite)).toBe(true);
  });

  it('removed tokens keep their original positions and times in the bias', () => {
    const { items, times } = sequence(12, 4);
    const { cache } = model.prefill(items.subarray(0, 9), { timestamps: times.subarray(0, 9) });
    const dropped = (layer: number, head: number): Set<number> => new Set([1 + layer, 4 + head, 6]);
    const pruned: KVCache = {
      ...cache,
      layers: cache.layers.map((layer, l) => ({ heads: layer.heads.map((head, h) => gatherHead(head, [...Array(9).keys()].filter((j) => !dropped(l, h).has(j)))) })),
    };
    const appended = model.append(pruned, items.subarray(9), { timestamps: times.subarray(9) });

    const keyWeight: KeyWeight = (layer, head, query, key) => (query >= 9 && key < 9 && dropped(layer, head).has(key) ? 0 : causal(layer, head, query, key));
    const expected = referenceHstuForward(model, Array.from(items), Array.from(times), keyWeight);
    expectClose(appended.hidden, expected.slice(9).flat(), 1e-5);
  });

  it('merged token of weight w contributes w times', () => {
    const { items, times } = sequence(8, 5);
    const { cache } = model.prefill(items.subarray(0, 6), { timestamps: times.subarray(0, 6) });
    const weights = new Float32Array([1, 2, 1, 1, 4, 0.5]);
    const weighted: KVCache = { ...cache, layers: cache.layers.map((layer) => ({ heads: layer.heads.map((head): HeadCache => ({ ...head, weights: weights.slice() })) })) };
    const appended = model.append(weighted, items.subarray(6), { timestamps: times.subarray(6) });

    const keyWeight: KeyWeight = (layer, head, query, key) => (query >= 6 && key < 6 ? weights[key] : causal(layer, head, query, key));
    const expected = referenceHstuForward(model, Array.from(items), Array.from(times), keyWeight);
    expectClose(appended.hidden, expected.slice(6).flat(), 1e-5);
  });

  it('append must match the cache in using timestamps', () => {
    const { items, times } = sequence(5);
    const timed = model.prefill(items, { timestamps: times }).cache;
    const untimed = model.prefill(items).cache;
    expect(() => model.append(timed, new Int32Array([3]))).toThrow(
      new TypeError(invalidArgument('Hstu.append', 'options.timestamps', 'timestamps, because the cache stores them', 'none')),
    );
    expect(() => model.append(untimed, new Int32Array([3]), { timestamps: new Float64Array([9]) })).toThrow(TypeError);
  });

  it('attention statistics are |A| summed over queries', () => {
    const { items, times } = sequence(7);
    const { stats } = model.prefill(items, { timestamps: times, recordStats: true, statsWindow: 3 });
    expect(stats?.windowSize).toBe(3);
    expect(stats?.accumulated[0]).toHaveLength(2 * 7);
    expect(stats?.window[1]).toHaveLength(2 * 3 * 7);
    expect(stats?.accumulated.every((layer) => layer.every((value) => value >= 0 && Number.isFinite(value)))).toBe(true);
    // The last key is attended only by the last query, whose row is the last window row.
    for (let head = 0; head < 2; head++) {
      expect(stats?.accumulated[0][head * 7 + 6]).toBeCloseTo(stats?.window[0][(head * 3 + 2) * 7 + 6] ?? NaN, 6);
    }
  });

  it('leaves no tensors behind', () => {
    const { items, times } = sequence(8);
    model.scoreAll(model.forwardLast(items));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const { cache } = model.prefill(items.subarray(0, 6), { timestamps: times.subarray(0, 6), recordStats: true });
      model.scoreAll(lastRow(model.append(cache, items.subarray(6), { timestamps: times.subarray(6) }).hidden, d));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('cache bytes from the model widths', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('HSTU with dqk 32 and dv 64 stores 307,200 bytes for 200 tokens', () => {
    // 2 layers × 2 heads × 200 tokens × (32 + 64) floats × 4 bytes = 102,400 + 204,800.
    const hstu = createHstu({ itemCount: 50, maxLength: 200, hiddenSize: 16, layers: 2, heads: 2, queryKeySize: 32, valueSize: 64 }, 1);
    const history = Int32Array.from({ length: 200 }, (_, i) => (i % 50) + 1);
    expect(cacheBytes(hstu.prefill(history).cache)).toBe(2 * 2 * 200 * (32 + 64) * 4);
    hstu.dispose();
  });

  it('SASRec with d 64 and one head stores 204,800 bytes for 200 tokens', () => {
    // 2 layers × 1 head × 200 tokens × (64 + 64) floats × 4 bytes.
    const sasrec = createSasRec({ itemCount: 50, maxLength: 200, hiddenSize: 64, layers: 2, heads: 1 }, 1);
    const history = Int32Array.from({ length: 200 }, (_, i) => (i % 50) + 1);
    expect(cacheBytes(sasrec.prefill(history).cache)).toBe(204_800);
    sasrec.dispose();
  });
});

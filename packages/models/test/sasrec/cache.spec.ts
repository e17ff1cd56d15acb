import { Float32Storage, gatherHead, headPositions, type HeadCache, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { createSasRec, initBackend } from '../../src/index';
import { invalidItemId, positionOutOfRange } from '../../src/messages';
import type { SasRec } from '../../src/sasrec/sasrec';
import { causal, referenceForward, type KeyWeight } from '../reference-sasrec';
import { expectClose, lastRow } from '../tolerance';

const BACKENDS = ['cpu', 'wasm'] as const;

/** Items 1..40 in a fixed scrambled order, long enough for every history below. */
function sequence(length: number, offset = 0): Int32Array {
  return Int32Array.from({ length }, (_, i) => ((i + offset) * 7) % 40 + 1);
}

/** Hidden states of every position of an unpadded sequence, `[len, d]`, from the batched encoder. */
function allHidden(model: SasRec, items: Int32Array): Float32Array {
  const positions = Int32Array.from({ length: items.length }, (_, i) => i);
  return tf.tidy(() => model.encodeBatch({ batch: 1, len: items.length, items, positions, timestamps: null }, null).dataSync() as Float32Array);
}

/** Applies `keep(layer, head)` (ascending row indices) to every head of a cache. */
function pruneCache(cache: KVCache, keep: (layer: number, head: number) => number[]): KVCache {
  return {
    ...cache,
    layers: cache.layers.map((layer, layerIndex) => ({ heads: layer.heads.map((head, headIndex) => gatherHead(head, keep(layerIndex, headIndex))) })),
  };
}

describe.each(BACKENDS)('SasRec incremental inference on %s', (backend) => {
  let model: SasRec;
  const d = 16;

  beforeAll(async () => {
    await initBackend(backend);
    model = createSasRec({ itemCount: 40, maxLength: 24, hiddenSize: d, layers: 2, heads: 2, dropout: 0.2 }, 11) as SasRec;
  });

  afterAll(() => model.dispose());

  it('forward pass matches the plain-array reference', () => {
    const items = sequence(9);
    const expected = referenceForward(model, Array.from(items));
    expectClose(model.forwardLast(items), expected[expected.length - 1], 1e-5);
  });

  it.each([1, 4, 16])('prefill plus append of %i items equals a full forward pass', (count) => {
    const full = sequence(6 + count);
    const history = full.subarray(0, 6);
    const request = full.subarray(6);

    const { cache } = model.prefill(history);
    const appended = model.append(cache, request);

    const expected = model.forwardLast(full);
    const actual = lastRow(appended.hidden, d);
    expectClose(actual, expected, 1e-5);
    expectClose(model.scoreAll(actual), model.scoreAll(expected), 1e-5);
    expect(appended.cache.seenTokens).toBe(full.length);
    expect(Array.from(appended.cache.itemIds)).toEqual(Array.from(full));
  });

  it('appended hidden rows equal the full pass at every appended position', () => {
    const full = sequence(10);
    const { cache } = model.prefill(full.subarray(0, 6));
    const appended = model.append(cache, full.subarray(6));
    const expected = allHidden(model, full).subarray(6 * d);
    expectClose(appended.hidden, expected, 1e-5);
  });

  it.each([1, 4, 16])('inputs longer than maxLength keep the newest items with %i appended', (count) => {
    // A request of `count` items after a long history: the served window is the newest 24.
    const full = sequence(40 + count, 3);
    const window = full.subarray(full.length - 24);
    const history = window.subarray(0, 24 - count);
    const request = window.subarray(24 - count);

    const { cache } = model.prefill(history);
    const appended = model.append(cache, request);

    const expected = model.forwardLast(full);
    expectClose(lastRow(appended.hidden, d), expected, 1e-5);
    expectClose(model.scoreAll(lastRow(appended.hidden, d)), model.scoreAll(expected), 1e-5);
  });

  it('prefill of a long history caches the newest maxLength items at positions 0..23', () => {
    const full = sequence(31);
    const { cache } = model.prefill(full);
    const { cache: windowCache } = model.prefill(full.subarray(7));
    expect(cache.seenTokens).toBe(24);
    expect(Array.from(cache.itemIds)).toEqual(Array.from(full.subarray(7)));
    expect(Array.from(headPositions(cache.layers[1].heads[0]))).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(cache.layers[1].heads[1].keys.decode()).toEqual(windowCache.layers[1].heads[1].keys.decode());
  });

  it('left-padded cache plus append equals a forward pass without padding', () => {
    const { cache } = model.prefill(new Int32Array([0, 0, 0, 4, 5]));
    const appended = model.append(cache, new Int32Array([6]));
    const expected = model.forwardLast(new Int32Array([4, 5, 6]));
    expectClose(appended.hidden, expected, 1e-5);
    expectClose(model.scoreAll(appended.hidden), model.scoreAll(expected), 1e-5);
    expect(cache.seenTokens).toBe(2);
  });

  it('changing the last item leaves earlier positions bitwise unchanged', () => {
    const original = new Int32Array([3, 8, 2, 6]);
    const changed = new Int32Array([3, 8, 2, 9]);

    const hiddenA = allHidden(model, original);
    const hiddenB = allHidden(model, changed);
    expect(hiddenA.subarray(0, 3 * d)).toEqual(hiddenB.subarray(0, 3 * d));
    expect(hiddenA.subarray(3 * d)).not.toEqual(hiddenB.subarray(3 * d));

    const cacheA = model.prefill(original).cache;
    const cacheB = model.prefill(changed).cache;
    const dHead = d / 2;
    for (let layer = 0; layer < 2; layer++) {
      for (let head = 0; head < 2; head++) {
        const a = cacheA.layers[layer].heads[head];
        const b = cacheB.layers[layer].heads[head];
        expect(a.keys.decode().subarray(0, 3 * dHead)).toEqual(b.keys.decode().subarray(0, 3 * dHead));
        expect(a.values.decode().subarray(0, 3 * dHead)).toEqual(b.values.decode().subarray(0, 3 * dHead));
      }
    }
  });

  it('single-item left-padded history gives finite outputs', () => {
    const small = createSasRec({ itemCount: 40, maxLength: 8, hiddenSize: 8 }, 2);
    const history = new Int32Array([0, 0, 0, 0, 0, 0, 0, 5]);
    const hidden = small.forwardLast(history);
    const { cache, stats } = small.prefill(history, { recordStats: true });
    const appended = small.append(cache, new Int32Array([7]));
    const scores = small.scoreAll(hidden);

    expect(hidden.every(Number.isFinite)).toBe(true);
    expect(appended.hidden.every(Number.isFinite)).toBe(true);
    expect(scores[0]).toBe(-Infinity);
    expect(scores.subarray(1).every(Number.isFinite)).toBe(true);
    expect(stats?.accumulated.every((layer) => layer.every(Number.isFinite))).toBe(true);
    small.dispose();
  });

  it('truncation keeps the newest 50 of 80 items and bad ids are rejected', () => {
    const wide = createSasRec({ itemCount: 1000, maxLength: 50, hiddenSize: 8 }, 5);
    const history = Int32Array.from({ length: 80 }, (_, i) => i + 1);
    const { cache } = wide.prefill(history);
    expect(Array.from(cache.itemIds)).toEqual(Array.from({ length: 50 }, (_, i) => i + 31));
    expect(Array.from(headPositions(cache.layers[0].heads[0]))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(wide.forwardLast(history)).toEqual(wide.forwardLast(history.subarray(30)));

    const tooLarge = new Int32Array([5, 1001, 7]);
    const negative = new Int32Array([5, -1, 7]);
    expect(() => wide.prefill(tooLarge)).toThrow(new RangeError(invalidItemId('SasRec.prefill', 'history', 1001, 1, 1000)));
    expect(() => wide.forwardLast(negative)).toThrow(new RangeError(invalidItemId('SasRec.forwardLast', 'sequence', -1, 1, 1000)));
    expect(() => wide.append(cache, new Int32Array([0]))).toThrow(RangeError);
    expect(() => wide.scoreCandidates(new Float32Array(8), new Int32Array([1001]))).toThrow(RangeError);
    expect(() => wide.forwardLastBatch([history, negative])).toThrow(new RangeError(invalidItemId('SasRec.forwardLastBatch', 'sequences[1]', -1, 1, 1000)));
    wide.dispose();
  });

  it('padding after a real item is rejected', () => {
    expect(() => model.prefill(new Int32Array([0, 4, 0, 5]))).toThrow(new RangeError(invalidItemId('SasRec.prefill', 'history', 0, 2, 40)));
  });

  it('append past maxLength is rejected with the positions', () => {
    const { cache } = model.prefill(sequence(22));
    expect(() => model.append(cache, new Int32Array([1, 2, 3]))).toThrow(new RangeError(positionOutOfRange('SasRec.append', 22, 3, 24)));
  });

  it('cache with removed tokens equals a forward pass with those keys masked', () => {
    // History of 10, request of 3; every layer and head drops a different set of tokens.
    const full = sequence(13, 5);
    const { cache } = model.prefill(full.subarray(0, 10));
    const dropped = (layer: number, head: number): Set<number> => new Set([layer, 3 + head, 7 - layer * head]);
    const pruned = pruneCache(cache, (layer, head) => [...Array(10).keys()].filter((j) => !dropped(layer, head).has(j)));

    const appended = model.append(pruned, full.subarray(10));

    const keyWeight: KeyWeight = (layer, head, query, key) => (query >= 10 && key < 10 && dropped(layer, head).has(key) ? 0 : causal(layer, head, query, key));
    const expected = referenceForward(model, Array.from(full), keyWeight);
    expectClose(appended.hidden, expected.slice(10).flat(), 1e-5);
  });

  it('merged token of weight w counts as w tokens', () => {
    const full = sequence(9, 2);
    const { cache } = model.prefill(full.subarray(0, 7));

    // Give cached token 2 a weight of 3 and token 5 a weight of 0.5 in every head.
    const weights = new Float32Array([1, 1, 3, 1, 1, 0.5, 1]);
    const weighted: KVCache = { ...cache, layers: cache.layers.map((layer) => ({ heads: layer.heads.map((head): HeadCache => ({ ...head, weights: weights.slice() })) })) };
    const appended = model.append(weighted, full.subarray(7));

    const keyWeight: KeyWeight = (layer, head, query, key) => (query >= 7 && key < 7 ? weights[key] : causal(layer, head, query, key));
    const expected = referenceForward(model, Array.from(full), keyWeight);
    expectClose(appended.hidden, expected.slice(7).flat(), 1e-5);
  });

  it('weight 2 equals the same key stored twice', () => {
    const { cache } = model.prefill(sequence(5));
    const duplicateRow = (head: HeadCache): HeadCache => gatherHeadWithRepeat(head, 3);
    const duplicated: KVCache = { ...cache, layers: cache.layers.map((layer) => ({ heads: layer.heads.map(duplicateRow) })) };
    const weighted: KVCache = { ...cache, layers: cache.layers.map((layer) => ({ heads: layer.heads.map((head) => ({ ...head, weights: new Float32Array([1, 1, 1, 2, 1]) })) })) };

    const request = new Int32Array([9, 10]);
    expectClose(model.append(weighted, request).hidden, model.append(duplicated, request).hidden, 1e-5);
  });

  it('attention statistics sum each query row to one', () => {
    const history = sequence(12);
    const { stats } = model.prefill(history, { recordStats: true, statsWindow: 5 });
    expect(stats).not.toBeNull();
    if (stats === null) return;
    expect(stats.windowSize).toBe(5);
    expect(stats.accumulated).toHaveLength(2);
    for (let layer = 0; layer < 2; layer++) {
      const accumulated = stats.accumulated[layer]; // [heads, len]
      const window = stats.window[layer]; // [heads, 5, len]
      expect(accumulated).toHaveLength(2 * 12);
      expect(window).toHaveLength(2 * 5 * 12);
      for (let head = 0; head < 2; head++) {
        // Each of the 12 queries spreads weight 1 over its keys: the column sums add up to 12.
        const total = accumulated.subarray(head * 12, (head + 1) * 12).reduce((a, b) => a + b, 0);
        expect(total).toBeCloseTo(12, 4);
        // The last query attends to all 12 keys; the first window row (query 7) to keys 0..7 only.
        const lastRow = window.subarray((head * 5 + 4) * 12, (head * 5 + 5) * 12);
        expect(lastRow.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(window[(head * 5) * 12 + 8]).toBe(0);
      }
    }
    expect(model.prefill(history).stats).toBeNull();
  });

  it('forwardLastBatch equals forwardLast for each sequence', () => {
    const sequences = [sequence(3), sequence(30, 1), new Int32Array([0, 0, 9]), sequence(11, 4)];
    const batched = model.forwardLastBatch(sequences, { batchSize: 2 });
    sequences.forEach((items, index) => {
      expectClose(batched.subarray(index * d, (index + 1) * d), model.forwardLast(items), 1e-5);
    });
  });

  it('scoreCandidates equals the matching entries of scoreAll', () => {
    const hidden = model.forwardLast(sequence(6));
    const all = model.scoreAll(hidden);
    const candidates = new Int32Array([40, 1, 17, 17]);
    expect(Array.from(model.scoreCandidates(hidden, candidates))).toEqual(Array.from(candidates, (item) => all[item]));
  });
});

/** Copies a head with row `repeat` stored twice (rows 0..repeat, repeat, repeat+1..). */
function gatherHeadWithRepeat(head: HeadCache, repeat: number): HeadCache {
  const len = head.keys.rows;
  const order = [...Array(len).keys()];
  order.splice(repeat, 0, repeat);
  const pick = (storage: HeadCache['keys']): Float32Array => {
    const data = storage.decode();
    const out = new Float32Array(order.length * storage.cols);
    order.forEach((row, i) => out.set(data.subarray(row * storage.cols, (row + 1) * storage.cols), i * storage.cols));
    return out;
  };
  return {
    keys: new Float32Storage(pick(head.keys), order.length, head.keys.cols),
    values: new Float32Storage(pick(head.values), order.length, head.values.cols),
    positions: Int32Array.from(order),
    positionStart: 0,
    timestamps: null,
    weights: null,
  };
}

import type { KVCache } from '@malloc/compression';
import { createHstu, createSasRec, initBackend, type PrefillResult, type SequentialModel } from '../../src/index';
import { maxAbsDifference } from '../tolerance';

/** Returns the largest absolute difference between two prefill results, after expecting equal layouts. */
function resultDifference(actual: PrefillResult, expected: PrefillResult): number {
  expect(actual.cache.seenTokens).toBe(expected.cache.seenTokens);
  expect(Array.from(actual.cache.itemIds)).toEqual(Array.from(expected.cache.itemIds));
  let worst = cacheDifference(actual.cache, expected.cache);
  expect(actual.stats === null).toBe(expected.stats === null);
  if (actual.stats !== null && expected.stats !== null) {
    expect(actual.stats.windowSize).toBe(expected.stats.windowSize);
    actual.stats.accumulated.forEach((values, layer) => (worst = Math.max(worst, maxAbsDifference(values, expected.stats?.accumulated[layer] ?? []))));
    actual.stats.window.forEach((values, layer) => (worst = Math.max(worst, maxAbsDifference(values, expected.stats?.window[layer] ?? []))));
  }
  return worst;
}

function cacheDifference(actual: KVCache, expected: KVCache): number {
  let worst = 0;
  expect(actual.layers.length).toBe(expected.layers.length);
  actual.layers.forEach((layer, l) => {
    layer.heads.forEach((head, h) => {
      const reference = expected.layers[l].heads[h];
      expect([head.keys.rows, head.keys.cols, head.positionStart]).toEqual([reference.keys.rows, reference.keys.cols, reference.positionStart]);
      expect(head.timestamps === null ? null : Array.from(head.timestamps)).toEqual(reference.timestamps === null ? null : Array.from(reference.timestamps));
      worst = Math.max(worst, maxAbsDifference(head.keys.decode(), reference.keys.decode()), maxAbsDifference(head.values.decode(), reference.values.decode()));
    });
  });
  return worst;
}

/** Histories of mixed lengths: empty, left-padded, one item, longer than the window, repeats. */
function histories(itemCount: number, maxLength: number): Int32Array[] {
  return [
    Int32Array.from({ length: 7 }, (_, i) => ((i * 13) % itemCount) + 1),
    new Int32Array(0),
    new Int32Array([0, 0, 5, 9]),
    new Int32Array([4]),
    Int32Array.from({ length: maxLength + 9 }, (_, i) => ((i * 7) % itemCount) + 1),
    Int32Array.from({ length: 12 }, (_, i) => ((i * 5) % 3) + 1),
    Int32Array.from({ length: maxLength }, (_, i) => ((i * 3) % itemCount) + 1),
  ];
}

const models: [string, () => SequentialModel][] = [
  ['SasRec', () => createSasRec({ itemCount: 40, maxLength: 24, hiddenSize: 16, heads: 2 }, 5)],
  ['Hstu', () => createHstu({ itemCount: 40, maxLength: 24, hiddenSize: 16, heads: 2 }, 5)],
];

describe.each(['wasm', 'cpu'] as const)('prefillBatch on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each(models)('%s equals prefill per history within 1e-5', (_, create) => {
    const model = create();
    const inputs = histories(model.config.itemCount, model.config.maxLength);
    const options = { recordStats: true, statsWindow: 4 };
    const batched = model.prefillBatch(inputs, { ...options, batchSize: 3 });
    expect(batched).toHaveLength(inputs.length);
    inputs.forEach((history, index) => {
      expect(resultDifference(batched[index], model.prefill(history, options))).toBeLessThanOrEqual(1e-5);
    });
    model.dispose();
  });

  it('passes timestamps of each history to HSTU', () => {
    const model = createHstu({ itemCount: 40, maxLength: 24, hiddenSize: 16, heads: 1 }, 9);
    const inputs = [new Int32Array([3, 8, 1]), new Int32Array([7, 2, 2, 6, 30])];
    const timestamps = [new Float64Array([10, 400, 9000]), new Float64Array([5, 6, 86400, 90000, 200000])];
    const batched = model.prefillBatch(inputs, { timestamps });
    inputs.forEach((history, index) => {
      expect(resultDifference(batched[index], model.prefill(history, { timestamps: timestamps[index] }))).toBeLessThanOrEqual(1e-5);
    });
    model.dispose();
  });
});

describe('prefillBatch validation', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('rejects a bad batch size, window or history', () => {
    const model = createSasRec({ itemCount: 10, maxLength: 8, hiddenSize: 8 }, 1);
    expect(() => model.prefillBatch([new Int32Array([1])], { batchSize: 0 })).toThrow(/SasRec\.prefillBatch.*options\.batchSize/);
    expect(() => model.prefillBatch([new Int32Array([1])], { statsWindow: 0 })).toThrow(/SasRec\.prefillBatch.*options\.statsWindow/);
    expect(() => model.prefillBatch([new Int32Array([1]), new Int32Array([11])])).toThrow(/SasRec\.prefillBatch.*histories\[1\]/);
    expect(() => model.prefillBatch([new Int32Array([1])], { timestamps: [] })).toThrow(/SasRec\.prefillBatch.*options\.timestamps/);
    model.dispose();
  });

  it('returns an empty array for no histories', () => {
    const model = createSasRec({ itemCount: 10, maxLength: 8, hiddenSize: 8 }, 1);
    expect(model.prefillBatch([])).toEqual([]);
    model.dispose();
  });
});

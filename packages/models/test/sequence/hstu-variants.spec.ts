import { cacheBytes, createStrategy, silentLogger } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { createHstu, initBackend, loadCheckpoint, saveCheckpoint, sequenceCacheBytes, sequenceKeptTokens, trainModel, type SequentialModel, type TrainingData } from '../../src/index';
import { invalidArgument } from '../../src/messages';
import type { TrainableModel } from '../../src/model/types';
import { expectClose, lastRow } from '../tolerance';
import { amplifyRelativeBias, rowPositions, sequence, smallHstu, timestamps, useScratchFolder } from './fixtures';

/** The three sequence-level variants on HSTU: chunks or blocks of 4 condensed into 2 rows, and 4 LSH buckets. */
const VARIANTS: readonly [string, object][] = [
  ['beacon', { beacon: { chunkSize: 4, beaconsPerChunk: 2 } }],
  ['linformer', { linformer: { blockSize: 4, projectedRows: 2 } }],
  ['lsh', { lsh: { buckets: 4, seed: 5 } }],
];

/** Hidden width of {@link smallHstu}. */
const D = 12;

describe.each(['cpu', 'wasm'] as const)('HSTU sequence variants on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  describe.each(VARIANTS)('%s', (_name, fields) => {
    let model: SequentialModel;

    beforeAll(() => {
      model = smallHstu(fields);
      amplifyRelativeBias(model);
    });

    afterAll(() => {
      model.dispose();
    });

    it.each([1, 4, 16])('prefill plus append of %i items equals the training pass', (count) => {
      const items = sequence(6 + count, 2);
      const times = timestamps(6 + count);
      const { cache } = model.prefill(items.subarray(0, 6), { timestamps: times.subarray(0, 6) });
      const result = model.append(cache, items.subarray(6), { timestamps: times.subarray(6) });

      // Every appended row equals the training-mode pass over the items up to it.
      for (let i = 0; i < count; i++) {
        const expected = model.forwardLast(items.subarray(0, 7 + i), { timestamps: times.subarray(0, 7 + i) });
        expectClose(result.hidden.subarray(i * D, (i + 1) * D), expected, 1e-5);
      }
      expect(result.cache.seenTokens).toBe(6 + count);
    });

    it.each([
      [0, 1],
      [3, 1],
      [4, 4],
      [8, 5],
      [13, 7],
    ])('prefill %i plus append %i without timestamps', (prefilled, appended) => {
      const items = sequence(prefilled + appended, 1);
      const { cache } = model.prefill(items.subarray(0, prefilled));
      expect(cache.layers[0].heads[0].timestamps).toBeNull();
      const result = model.append(cache, items.subarray(prefilled));
      expectClose(lastRow(result.hidden, D), model.forwardLast(items), 1e-5);
    });

    it('history longer than maxLength keeps the newest items', () => {
      // 30 items with maxLength 24: the model reads items 6..29 at positions 0..23.
      const items = sequence(30, 3);
      const times = timestamps(30);
      const expected = model.forwardLast(items, { timestamps: times });
      const { cache } = model.prefill(items.subarray(6, 26), { timestamps: times.subarray(6, 26) });
      const result = model.append(cache, items.subarray(26), { timestamps: times.subarray(26) });
      expectClose(lastRow(result.hidden, D), expected, 1e-5);

      // Prefill of the whole history keeps the same window.
      const whole = model.prefill(items, { timestamps: times }).cache;
      const window = model.prefill(items.subarray(6), { timestamps: times.subarray(6) }).cache;
      expect(cacheBytes(whole)).toBe(cacheBytes(window));
      expectClose(whole.layers[1].heads[1].keys.decode(), window.layers[1].heads[1].keys.decode(), 1e-6);
    });

    it.each([3, 6, 10, 13])('bytes after %i items equal the formula', (seen) => {
      const { cache } = model.prefill(sequence(seen), { timestamps: timestamps(seen) });
      expect(cacheBytes(cache)).toBe(sequenceCacheBytes(model.config, seen, { timestamps: true }));
      expect(cacheBytes(model.prefill(sequence(seen)).cache)).toBe(sequenceCacheBytes(model.config, seen));
    });

    it('forwardLastBatch equals forwardLast', () => {
      const sequences = [sequence(3), sequence(9, 1), sequence(12, 2), sequence(5, 4)];
      const times = sequences.map((items, index) => timestamps(items.length, index));
      const batched = model.forwardLastBatch(sequences, { batchSize: 4, timestamps: times });
      sequences.forEach((items, index) => expectClose(batched.subarray(index * D, (index + 1) * D), model.forwardLast(items, { timestamps: times[index] }), 1e-5));
    });

    it('left-padded training batch equals forwardLast', () => {
      const trainable = model as TrainableModel;
      const items = new Int32Array([0, 0, 0, ...sequence(9)]); // [1, 12]
      const positions = new Int32Array([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
      const times = new Float64Array([0, 0, 0, ...timestamps(9)]);
      const hidden = tf.tidy(() => trainable.encodeBatch({ batch: 1, len: 12, items, positions, timestamps: times }, null).dataSync() as Float32Array);
      expectClose(lastRow(hidden, D), model.forwardLast(sequence(9), { timestamps: timestamps(9) }), 1e-5);
    });

    it('prefillBatch equals prefill per history', () => {
      const histories = [sequence(6), sequence(9, 1)];
      const times = [timestamps(6), timestamps(9, 1)];
      const batched = model.prefillBatch(histories, { timestamps: times });
      histories.forEach((history, index) => {
        const single = model.prefill(history, { timestamps: times[index] });
        expect(cacheBytes(batched[index].cache)).toBe(cacheBytes(single.cache));
        expectClose(batched[index].cache.layers[1].heads[1].keys.decode(), single.cache.layers[1].heads[1].keys.decode(), 1e-6);
      });
    });
  });
});

describe('HSTU sequence variant layout', () => {
  const scratch = useScratchFolder('malloc-hstu-variants-');

  it.each(['beacon', 'linformer'])('%s rows carry the chunk end time', (name) => {
    // 10 items in chunks of 4: condensed rows of chunk 0 at positions 2, 3 with the time of item 3,
    // those of chunk 1 at 6, 7 with the time of item 7; items 8 and 9 stay raw.
    const fields = (VARIANTS.find(([variant]) => variant === name) as [string, object])[1];
    const model = smallHstu(fields);
    const times = timestamps(10);
    const { cache } = model.prefill(sequence(10), { timestamps: times });
    for (const positions of rowPositions(cache)) {
      expect(positions).toEqual([2, 3, 6, 7, 8, 9]);
    }
    for (const layer of cache.layers) {
      expect(Array.from(layer.heads[0].timestamps ?? [])).toEqual([times[3], times[3], times[7], times[7], times[8], times[9]]);
    }
    expect(sequenceKeptTokens(model.config, 10)).toBe(2 * 2 + 2);
    model.dispose();
  });

  it.each(['beacon', 'linformer'])('%s with chunks longer than the input equals plain HSTU', (name) => {
    // No chunk completes, so the attention is plain causal point-wise attention and the shared weights are equal.
    const fields = name === 'beacon' ? { beacon: { chunkSize: 12, beaconsPerChunk: 2 } } : { linformer: { blockSize: 12, projectedRows: 2 } };
    const plain = smallHstu({});
    const variant = smallHstu(fields);
    const times = timestamps(9);
    expectClose(variant.forwardLast(sequence(9), { timestamps: times }), plain.forwardLast(sequence(9), { timestamps: times }), 1e-6);
    plain.dispose();
    variant.dispose();
  });

  it('LSH keys have unit length and buckets matter', () => {
    const lsh = smallHstu({ lsh: { buckets: 4, seed: 5 } });
    const { cache } = lsh.prefill(sequence(7));
    const keys = cache.layers[0].heads[1].keys.decode(); // [7, 6]
    for (let row = 0; row < 7; row++) {
      const norm = Math.hypot(...keys.subarray(row * 6, (row + 1) * 6));
      expect(Math.abs(norm - 1)).toBeLessThan(1e-5);
    }
    // 2 buckets group the keys differently from 4, so the outputs differ.
    const single = smallHstu({ lsh: { buckets: 2, seed: 5 } });
    const outputs = [lsh.forwardLast(sequence(12)), single.forwardLast(sequence(12))];
    expect(Array.from(outputs[0])).not.toEqual(Array.from(outputs[1]));
    // The fused projection has no K columns: 2 layers × 12 × 2 heads × 6 fewer weights.
    const plain = smallHstu({});
    expect(plain.numWeights() - lsh.numWeights()).toBe(2 * 12 * 2 * 6);
    [lsh, single, plain].forEach((model) => model.dispose());
  });

  it.each([
    ['beacon with GQA', { beacon: { chunkSize: 4, beaconsPerChunk: 2 }, kvHeads: 1 }],
    ['beacon with MLA', { beacon: { chunkSize: 4, beaconsPerChunk: 2 }, kvLatentSize: 6 }],
    ['linformer with GQA', { linformer: { blockSize: 4, projectedRows: 2 }, kvHeads: 1 }],
  ])('%s equals the training pass', (_name, fields) => {
    const model = smallHstu(fields);
    amplifyRelativeBias(model);
    const items = sequence(11, 2);
    const times = timestamps(11);
    const { cache } = model.prefill(items.subarray(0, 6), { timestamps: times.subarray(0, 6) });
    const result = model.append(cache, items.subarray(6), { timestamps: times.subarray(6) });
    expectClose(lastRow(result.hidden, D), model.forwardLast(items, { timestamps: times }), 1e-5);
    expect(cacheBytes(result.cache)).toBe(sequenceCacheBytes(model.config, 11, { timestamps: true }));
    model.dispose();
  });

  it.each(VARIANTS)('%s scores impressions as appends', (_name, fields) => {
    // Each candidate attends to the cache and itself, so its click logit equals that of a one-item append.
    const model = smallHstu({ ...fields, ctrHead: true });
    const times = timestamps(9);
    const { cache } = model.prefill(sequence(7), { timestamps: times.subarray(0, 7) });
    const candidates = new Int32Array([3, 17]);
    const candidateTimes = new Float64Array([times[7], times[8]]);
    const logits = model.scoreImpressions(cache, candidates, { timestamps: candidateTimes });
    candidates.forEach((_candidate, index) => {
      const appended = model.append(cache, candidates.subarray(index, index + 1), { timestamps: candidateTimes.subarray(index, index + 1) });
      expectClose([logits[index]], model.clickLogits(appended.hidden), 1e-5);
    });
    model.dispose();
  });

  it.each(['beacon', 'linformer'])('%s condenses a compressed cache', (name) => {
    // Window keeps the newest 3 of the 6 rows of 10 items (positions 7, 8, 9). Completing chunk 2
    // drops the raw rows 8..11 and appends its condensed rows at positions 10 and 11.
    const fields = (VARIANTS.find(([variant]) => variant === name) as [string, object])[1];
    const model = smallHstu(fields);
    const times = timestamps(12);
    const { cache } = model.prefill(sequence(10), { timestamps: times.subarray(0, 10) });
    const compressed = createStrategy('window', { compressionRatio: 0.5 }).compress(cache, { stats: null, logger: silentLogger });
    const result = model.append(compressed, sequence(2, 10), { timestamps: times.subarray(10) });
    for (const positions of rowPositions(result.cache)) {
      expect(positions).toEqual([7, 10, 11]);
    }
    expect(Array.from(result.cache.layers[0].heads[0].timestamps ?? [])).toEqual([times[7], times[11], times[11]]);
    expect(result.hidden.every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it('invalid combinations are rejected', () => {
    expect(() => smallHstu({ lsh: { buckets: 4 }, kvHeads: 1 })).toThrow(
      new RangeError(invalidArgument('createHstu', 'config.lsh', "no kvHeads below heads, kvLatentSize, beacon or linformer besides it (LSH shares each query head's projection with its key)", 'lsh and kvHeads')),
    );
    expect(() => smallHstu({ linformer: { blockSize: 4, projectedRows: 2 }, beacon: { chunkSize: 4, beaconsPerChunk: 2 } })).toThrow(/config\.linformer/);
    expect(() => smallHstu({ beacon: { chunkSize: 25, beaconsPerChunk: 1 } })).toThrow(new RangeError(invalidArgument('createHstu', 'config.beacon.chunkSize', 'an integer in [1, maxLength 24]', '25')));
  });

  it.each(VARIANTS)('%s checkpoint round trip', async (_name, fields) => {
    const model = smallHstu(fields);
    await saveCheckpoint(model, scratch(), { dataFingerprint: 'abc' });
    const loaded = await loadCheckpoint(scratch(), { dataFingerprint: 'abc' });
    expect(loaded.config).toEqual(model.config);
    const times = timestamps(11);
    expect(loaded.forwardLast(sequence(11), { timestamps: times })).toEqual(model.forwardLast(sequence(11), { timestamps: times }));
    loaded.dispose();
    model.dispose();
  });

  it.each([
    ['beacon', { beacon: { chunkSize: 3, beaconsPerChunk: 1 } }],
    ['linformer', { linformer: { blockSize: 3, projectedRows: 1 } }],
    ['lsh', { lsh: { buckets: 2, seed: 1 } }],
  ])('%s training lowers the loss', async (_name, fields) => {
    // 32 users whose sequences walk the catalogue: item i is always followed by i % 20 + 1.
    const users = 32;
    const length = 10;
    const items = Int32Array.from({ length: users * length }, (_, index) => ((Math.floor(index / length) * 7 + (index % length)) % 20) + 1);
    const times = Float64Array.from({ length: users * length }, (_, index) => (index % length) * 3600);
    const data: TrainingData = { itemCount: 20, offsets: Int32Array.from({ length: users + 1 }, (_, u) => u * length), items, trainEnd: new Int32Array(users).fill(length), timestamps: times };
    const model = createHstu({ itemCount: 20, maxLength: 12, hiddenSize: 16, layers: 1, heads: 2, queryKeySize: 8, valueSize: 8, timeBuckets: 16, dropout: 0.1, ...fields }, 1) as TrainableModel;
    const result = await trainModel(model, data, { epochs: 4, batchSize: 16, learningRate: 0.01, loss: 'sampled-softmax', negatives: 8, temperature: 0.1, weightDecay: 0, seed: 3 });
    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss);
    model.dispose();
  });
});

import { cacheBytes, createStrategy, silentLogger } from '@malloc/compression';
import { createSasRec, initBackend, loadCheckpoint, saveCheckpoint, trainModel, variantCacheBytes, type SequentialModel, type TrainingData } from '../../src/index';
import { invalidArgument } from '../../src/messages';
import { BLOCKED } from '../../src/ops/layers';
import { bucketBias, hashBuckets } from '../../src/sequence/lsh';
import type { TrainableModel } from '../../src/model/types';
import { expectClose, lastRow } from '../tolerance';
import { sequence, smallSasRec, useScratchFolder } from './fixtures';

/** SASRec with d 16, 2 heads (dHead 8), 2 layers and 4 LSH buckets. */
function sasRec(fields: object = {}, seed = 11): SequentialModel {
  return smallSasRec({ lsh: { buckets: 4, seed: 3 }, ...fields }, seed);
}

describe.each(['cpu', 'wasm'] as const)('LSH SASRec on %s', (backend) => {
  let model: SequentialModel;

  beforeAll(async () => {
    await initBackend(backend);
    model = sasRec();
  });

  afterAll(() => {
    model.dispose();
  });

  it.each([
    [1, 1],
    [3, 4],
    [6, 1],
    [9, 9],
    [15, 5],
  ])('prefill %i plus append %i equals the full pass', (prefilled, appended) => {
    const items = sequence(prefilled + appended);
    const { cache } = model.prefill(items.subarray(0, prefilled));
    const result = model.append(cache, items.subarray(prefilled));
    for (let i = 0; i < appended; i++) {
      expectClose(result.hidden.subarray(i * 16, (i + 1) * 16), model.forwardLast(items.subarray(0, prefilled + i + 1)), 1e-5);
    }
  });

  it('buckets change the output', () => {
    // Full attention of the same weights differs once some keys fall in other buckets.
    const plain = sasRec({ lsh: undefined });
    const hashed = model.forwardLast(sequence(12));
    const full = plain.forwardLast(sequence(12));
    const difference = Math.max(...hashed.map((value, i) => Math.abs(value - full[i])));
    expect(difference).toBeGreaterThan(1e-3);
    plain.dispose();
  });

  it('cache bytes equal the default formula', () => {
    // No bucket ids are stored: 2 layers × 2 heads × 10 tokens × (8 + 8) floats × 4 bytes.
    const { cache } = model.prefill(sequence(10));
    expect(cacheBytes(cache)).toBe(2 * 2 * 10 * 16 * 4);
    expect(variantCacheBytes(model.config, 10)).toBe(cacheBytes(cache));
  });

  it('statistics sum to one per query', () => {
    const len = 9;
    const { stats } = model.prefill(sequence(len), { recordStats: true });
    for (const accumulated of stats?.accumulated ?? []) {
      for (let head = 0; head < 2; head++) {
        const total = accumulated.subarray(head * len, (head + 1) * len).reduce((a, b) => a + b, 0);
        expect(total).toBeCloseTo(len, 4);
      }
    }
    expect(stats?.accumulated).toHaveLength(2);
  });

  it('SnapKV cache still appends', () => {
    const { cache, stats } = model.prefill(sequence(12), { recordStats: true });
    const compressed = createStrategy('snapkv', { compressionRatio: 0.5 }).compress(cache, { stats, logger: silentLogger });
    const result = model.append(compressed, sequence(2, 12));
    expect(compressed.layers[0].heads[0].keys.rows).toBe(6);
    expect(result.hidden.every(Number.isFinite)).toBe(true);
  });

  it('forwardLastBatch equals forwardLast', () => {
    const sequences = [sequence(3), sequence(9, 1), sequence(5, 4)];
    const batched = model.forwardLastBatch(sequences);
    sequences.forEach((items, index) => expectClose(batched.subarray(index * 16, (index + 1) * 16), model.forwardLast(items), 1e-5));
  });

  it('scoreImpressions with a click head equals append', () => {
    const clicks = sasRec({ ctrHead: true });
    const { cache } = clicks.prefill(sequence(7));
    const candidates = new Int32Array([3, 17, 29]);
    const logits = clicks.scoreImpressions(cache, candidates);
    candidates.forEach((candidate, i) => {
      const hidden = clicks.append(cache, new Int32Array([candidate])).hidden;
      expectClose([logits[i]], clicks.clickLogits(lastRow(hidden, 16)), 1e-5);
    });
    clicks.dispose();
  });
});

describe('LSH configuration', () => {
  const scratch = useScratchFolder('malloc-lsh-');

  it('hashes by rotated argmax', () => {
    // dHead 2, 2 buckets, R = [[1], [0]]: v · R is v[0], and the bucket is argmax([v[0], −v[0]]).
    // [2, 5] → [2, −2] → 0; [−1, 3] → [−1, 1] → 1; [0, 4] → [0, 0] → tie, lower bucket 0.
    const vectors = new Float32Array([2, 5, -1, 3, 0, 4]);
    expect(Array.from(hashBuckets(vectors, 3, 2, 0, 2, new Float32Array([1, 0]), 2))).toEqual([0, 1, 0]);
  });

  it('bucket bias blocks other buckets', () => {
    // One row of 3 causal tokens, 1 head with buckets [0, 1, 0]: token 2 keeps tokens 0 and 2.
    const causal = new Float32Array([0, BLOCKED, BLOCKED, 0, 0, BLOCKED, 0, 0, 0]);
    const bias = bucketBias(causal, [new Int32Array([0, 1, 0])], 1, 3);
    expect(Array.from(bias, (value) => Number(value === 0))).toEqual([1, 0, 0, 0, 1, 0, 1, 0, 1]);
  });

  it('adds no weights', () => {
    const plain = sasRec({ lsh: undefined });
    const hashed = sasRec();
    expect(hashed.numWeights()).toBe(plain.numWeights());
    expect(Object.keys(plain.config)).not.toContain('lsh');
    expect((hashed.config as { lsh?: object }).lsh).toEqual({ buckets: 4, seed: 3 });
    plain.dispose();
    hashed.dispose();
  });

  it('invalid settings are rejected', () => {
    expect(() => sasRec({ lsh: { buckets: 3 } })).toThrow(new RangeError(invalidArgument('createSasRec', 'config.lsh.buckets', 'an even integer ≥ 2', '3')));
    expect(() => sasRec({ lsh: { buckets: 4, seed: -1 } })).toThrow(/config\.lsh\.seed/);
    expect(() => sasRec({ lsh: 4 })).toThrow(TypeError);
    expect(() => sasRec({ kvHeads: 1 })).toThrow(/lsh and kvHeads/);
    expect(() => sasRec({ beacon: { chunkSize: 4, beaconsPerChunk: 1 } })).toThrow(/lsh and beacon/);
  });

  it('checkpoint round trip keeps the buckets', async () => {
    const model = sasRec();
    await saveCheckpoint(model, scratch(), { dataFingerprint: 'abc' });
    const loaded = await loadCheckpoint(scratch(), { dataFingerprint: 'abc' });
    expect(loaded.config).toEqual(model.config);
    expect(loaded.forwardLast(sequence(11))).toEqual(model.forwardLast(sequence(11)));
    loaded.dispose();
    model.dispose();
  });

  it('padded training batch keeps finite gradients', async () => {
    // Users of 3 to 10 items make padded batches, whose zero rows must not produce NaN.
    const lengths = Array.from({ length: 24 }, (_, u) => 3 + (u % 8));
    const offsets = Int32Array.from({ length: lengths.length + 1 }, (_, u) => lengths.slice(0, u).reduce((a, b) => a + b, 0));
    const items = Int32Array.from({ length: offsets[lengths.length] }, (_, index) => (index % 20) + 1);
    const data: TrainingData = { itemCount: 20, offsets, items, trainEnd: Int32Array.from(lengths) };
    const model = createSasRec({ itemCount: 20, maxLength: 12, hiddenSize: 16, layers: 2, heads: 2, dropout: 0.1, lsh: { buckets: 4 } }, 1);
    const result = await trainModel(model, data, { epochs: 2, batchSize: 8, learningRate: 0.01, loss: 'sampled-softmax', negatives: 8, temperature: 0.1, weightDecay: 0, seed: 3 });
    expect(result.epochs.every((epoch) => Number.isFinite(epoch.loss))).toBe(true);
    model.dispose();
  });

  it('training lowers the loss', async () => {
    // 32 users whose sequences walk the catalogue: item i is always followed by i % 20 + 1.
    const users = 32;
    const length = 10;
    const items = Int32Array.from({ length: users * length }, (_, index) => ((Math.floor(index / length) * 7 + (index % length)) % 20) + 1);
    const data: TrainingData = { itemCount: 20, offsets: Int32Array.from({ length: users + 1 }, (_, u) => u * length), items, trainEnd: new Int32Array(users).fill(length) };
    const model = createSasRec({ itemCount: 20, maxLength: 12, hiddenSize: 16, layers: 1, heads: 2, dropout: 0.1, lsh: { buckets: 2 } }, 1) as TrainableModel;
    const result = await trainModel(model, data, { epochs: 4, batchSize: 16, learningRate: 0.01, loss: 'sampled-softmax', negatives: 8, temperature: 0.1, weightDecay: 0, seed: 3 });
    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss);
    model.dispose();
  });
});

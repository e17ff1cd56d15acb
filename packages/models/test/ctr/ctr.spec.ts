import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gatherHead, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { candidateBias, candidateLayout } from '../../src/ctr/candidate-layout';
import { CTR_HEAD_BIAS, CTR_HEAD_KERNEL } from '../../src/ctr/head';
import { buildCtrBatch, clickBinaryCrossEntropy } from '../../src/ctr/training';
import { createHstu, createSasRec, initBackend, loadCheckpoint, saveCheckpoint, trainModel, type SequentialModel, type TrainingData } from '../../src/index';
import { invalidArgument, missingCtrHead, positionOutOfRange } from '../../src/messages';
import { BLOCKED } from '../../src/ops/layers';
import { isTrainableModel } from '../../src/model/types';
import { SeededRandom } from '../../src/random';
import { expectClose, lastRow } from '../tolerance';

const ITEMS = 30;

/** Items 1..30 in a scrambled order and increasing timestamps with gaps from 1 s to 10⁶ s. */
function sequence(length: number, offset = 0): { items: Int32Array; times: Float64Array } {
  const items = Int32Array.from({ length }, (_, i) => ((i + offset) * 7) % ITEMS + 1);
  const times = new Float64Array(length);
  for (let i = 1; i < length; i++) {
    times[i] = times[i - 1] + Math.floor(Math.pow(10, (i * 37 + offset) % 7));
  }
  return { items, times };
}

/** Sets the click head of a model to seeded values, so that logits depend on the hidden state. */
function setHead(model: SequentialModel, seed: number): { kernel: Float32Array; bias: number } {
  if (!isTrainableModel(model)) {
    throw new Error('setHead: expected a model of this package');
  }
  const random = new SeededRandom(seed);
  const d = model.config.hiddenSize;
  const kernel = Float32Array.from({ length: d }, () => random.normal());
  const bias = 0.25;
  for (const entry of model.variables) {
    if (entry.name === CTR_HEAD_KERNEL) {
      entry.variable.assign(tf.tensor1d(kernel));
    } else if (entry.name === CTR_HEAD_BIAS) {
      entry.variable.assign(tf.tensor1d([bias]));
    }
  }
  return { kernel, bias };
}

/** Keeps rows 0, 2, 3 and the last of every head: a pruned cache with gaps in its positions. */
function pruneCache(cache: KVCache): KVCache {
  return {
    ...cache,
    layers: cache.layers.map((layer) => ({ heads: layer.heads.map((head) => gatherHead(head, [0, 2, 3, head.keys.rows - 1])) })),
  };
}

describe('click head', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('computes w · h + b per row', () => {
    const model = createSasRec({ itemCount: ITEMS, maxLength: 8, hiddenSize: 2, layers: 1, heads: 1, dropout: 0, ctrHead: true }, 1);
    if (!isTrainableModel(model)) {
      throw new Error('expected a trainable model');
    }
    model.variables.find((entry) => entry.name === CTR_HEAD_KERNEL)?.variable.assign(tf.tensor1d([2, -1]));
    model.variables.find((entry) => entry.name === CTR_HEAD_BIAS)?.variable.assign(tf.tensor1d([0.5]));

    const logits = model.clickLogits(new Float32Array([1, 3, 0.5, 0.25]));

    // Row 0: 2·1 − 1·3 + 0.5 = −0.5. Row 1: 2·0.5 − 1·0.25 + 0.5 = 1.25.
    expect(Array.from(logits)).toEqual([-0.5, 1.25]);
    model.dispose();
  });

  it('starts at zero and adds d + 1 weights', () => {
    const plain = createSasRec({ itemCount: ITEMS, maxLength: 8, hiddenSize: 4, layers: 1, heads: 1, dropout: 0 }, 1);
    const withHead = createSasRec({ itemCount: ITEMS, maxLength: 8, hiddenSize: 4, layers: 1, heads: 1, dropout: 0, ctrHead: true }, 1);

    expect(withHead.numWeights()).toBe(plain.numWeights() + 4 + 1);
    expect(Array.from(withHead.clickLogits(new Float32Array([1, 2, 3, 4])))).toEqual([0]);
    expect(plain.config.ctrHead).toBeUndefined();
    plain.dispose();
    withHead.dispose();
  });

  it('is required by scoreImpressions and clickLogits', () => {
    const model = createSasRec({ itemCount: ITEMS, maxLength: 8, hiddenSize: 4, layers: 1, heads: 1, dropout: 0 }, 1);
    const { cache } = model.prefill(new Int32Array([1, 2]));

    expect(() => model.scoreImpressions(cache, new Int32Array([3]))).toThrow(new TypeError(missingCtrHead('SasRec.scoreImpressions')));
    expect(() => model.clickLogits(new Float32Array(4))).toThrow(new TypeError(missingCtrHead('SasRec.clickLogits')));
    model.dispose();
  });

  it('rejects a ctrHead flag that is not a boolean', () => {
    const config = { itemCount: ITEMS, ctrHead: 'yes' as unknown as boolean };

    expect(() => createHstu(config, 1)).toThrow(new TypeError(invalidArgument('createHstu', 'config.ctrHead', 'a boolean', 'yes')));
  });

  it('round-trips through checkpoints', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'malloc-ctr-'));
    try {
      const model = createSasRec({ itemCount: ITEMS, maxLength: 8, hiddenSize: 4, layers: 1, heads: 1, dropout: 0, ctrHead: true }, 2);
      setHead(model, 5);
      const { cache } = model.prefill(new Int32Array([4, 9, 1]));
      const expected = model.scoreImpressions(cache, new Int32Array([2, 7]));
      await saveCheckpoint(model, path.join(dir, 'with-head'), { dataFingerprint: 'x' });
      const plain = createSasRec({ itemCount: ITEMS, maxLength: 8, hiddenSize: 4, layers: 1, heads: 1, dropout: 0 }, 2);
      await saveCheckpoint(plain, path.join(dir, 'plain'), { dataFingerprint: 'x' });

      const loaded = await loadCheckpoint(path.join(dir, 'with-head'));
      const loadedPlain = await loadCheckpoint(path.join(dir, 'plain'));

      expect(loaded.config.ctrHead).toBe(true);
      expect(Array.from(loaded.scoreImpressions(loaded.prefill(new Int32Array([4, 9, 1])).cache, new Int32Array([2, 7])))).toEqual(Array.from(expected));
      expect(loadedPlain.config.ctrHead).toBeUndefined();
      expect(loadedPlain.numWeights()).toBe(plain.numWeights());
      for (const entry of [model, plain, loaded, loadedPlain]) {
        entry.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('candidate masks', () => {
  it('let each candidate see the cache and only itself', () => {
    const bias = candidateBias(new Float32Array([Math.log(2), 0]), 2, 3);

    // Row i: the two cached columns carry log(weight); of the 3 candidate columns only column i is open.
    expect(Array.from(bias)).toEqual([
      Math.fround(Math.log(2)), 0, 0, BLOCKED, BLOCKED,
      Math.fround(Math.log(2)), 0, BLOCKED, 0, BLOCKED,
      Math.fround(Math.log(2)), 0, BLOCKED, BLOCKED, 0,
    ]);
  });

  it('put every candidate at the same position in the point-wise layout', () => {
    const layout = candidateLayout(new Int32Array([0, 3]), new Float64Array([0, 100]), new Float32Array([1, 2]), 5, new Float64Array([100, 1000]), 2, 10, 16);

    // Relative positions 5 − 0 and 5 − 3 to the cache, 0 to itself.
    expect(Array.from(layout.positionIndex)).toEqual([5, 2, 0, 0, 5, 2, 0, 0]);
    // Time buckets floor(ln(Δt) / 0.301), clamped to 16: Δt = 100 → 15, Δt = 0 → 0, Δt = 1000 → 22 → 16, Δt = 900 → 22 → 16.
    expect(Array.from(layout.timeIndex ?? [])).toEqual([15, 0, 0, 0, 16, 16, 0, 0]);
    // Merge weight / N on the cache and 1 / N on itself; 0 on the other candidate.
    expect(Array.from(layout.scale)).toEqual([0.1, 0.2, 0.1, 0, 0.1, 0.2, 0, 0.1].map(Math.fround));
  });
});

describe('ctr-bce loss', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('equals the binary cross-entropy of the click probability', () => {
    const loss = tf.tidy(() => clickBinaryCrossEntropy(tf.tensor1d([0, 2, -1]), tf.tensor1d([1, 0, 1])).dataSync()[0]);

    // −ln σ(0) = ln 2; −ln(1 − σ(2)) = ln(1 + e²); −ln σ(−1) = ln(1 + e); mean of the three.
    const expected = (Math.log(2) + Math.log(1 + Math.exp(2)) + Math.log(1 + Math.E)) / 3;
    expect(loss).toBeCloseTo(expected, 6);
  });

  it('builds a batch with every real position as a labelled target', () => {
    const data: TrainingData = {
      itemCount: ITEMS,
      offsets: new Int32Array([0, 4, 7]),
      items: new Int32Array([5, 6, 7, 8, 9, 10, 11]),
      trainEnd: new Int32Array([4, 2]),
      labels: new Uint8Array([1, 0, 0, 1, 1, 1, 0]),
    };

    const batch = buildCtrBatch(data, new Int32Array([0, 1]), 3);

    // User 0 keeps its newest 3 inputs [6, 7, 8]. User 1 keeps its first 2, [9, 10], then one padding slot.
    expect(Array.from(batch.encoder.items)).toEqual([6, 7, 8, 9, 10, 0]);
    expect(Array.from(batch.encoder.positions)).toEqual([0, 1, 2, 0, 1, 0]);
    expect(Array.from(batch.rows)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(batch.labels)).toEqual([0, 0, 1, 1, 1]);
  });

  it('trains the head to separate clicked items', async () => {
    // 24 users over items 1..12; items 1..6 are clicked, items 7..12 are not.
    const users = 24;
    const length = 8;
    const items = Int32Array.from({ length: users * length }, (_, i) => ((Math.floor(i / length) * 5 + (i % length) * 7) % 12) + 1);
    const data: TrainingData = {
      itemCount: 12,
      offsets: Int32Array.from({ length: users + 1 }, (_, u) => u * length),
      items,
      trainEnd: new Int32Array(users).fill(length),
      labels: Uint8Array.from(items, (item) => (item <= 6 ? 1 : 0)),
    };
    const model = createSasRec({ itemCount: 12, maxLength: 8, hiddenSize: 8, layers: 1, heads: 1, dropout: 0, ctrHead: true }, 4);
    const options = { epochs: 8, batchSize: 8, learningRate: 0.05, loss: 'ctr-bce' as const, negatives: 1, temperature: 1, weightDecay: 0, seed: 2 };

    const result = await trainModel(model, data, options);

    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss);
    const { cache } = model.prefill(new Int32Array([3, 9]));
    const logits = model.scoreImpressions(cache, Int32Array.from({ length: 12 }, (_, i) => i + 1));
    let correct = 0;
    for (let clicked = 0; clicked < 6; clicked++) {
      for (let other = 6; other < 12; other++) {
        correct += logits[clicked] > logits[other] ? 1 : 0;
      }
    }
    // AUC over the 6 × 6 (clicked, not clicked) pairs.
    expect(correct / 36).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('leaks no tensors in a training step', async () => {
    const data: TrainingData = { itemCount: 6, offsets: new Int32Array([0, 4, 7]), items: new Int32Array([1, 2, 3, 4, 5, 6, 1]), trainEnd: new Int32Array([4, 3]), labels: new Uint8Array([1, 0, 1, 0, 0, 1, 1]) };
    const model = createHstu({ itemCount: 6, maxLength: 8, hiddenSize: 4, layers: 1, heads: 1, queryKeySize: 4, valueSize: 4, dropout: 0.1, ctrHead: true }, 3);
    const options = { epochs: 1, batchSize: 2, learningRate: 0.01, loss: 'ctr-bce' as const, negatives: 1, temperature: 1, weightDecay: 0, seed: 1 };
    await trainModel(model, data, options);
    const before = tf.memory().numTensors;

    await trainModel(model, data, options);

    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('is rejected without labels or without a click head', async () => {
    const data: TrainingData = { itemCount: 4, offsets: new Int32Array([0, 3]), items: new Int32Array([1, 2, 3]), trainEnd: new Int32Array([3]) };
    const options = { epochs: 1, batchSize: 1, learningRate: 0.01, loss: 'ctr-bce' as const, negatives: 1, temperature: 1, weightDecay: 0, seed: 1 };
    const withHead = createSasRec({ itemCount: 4, maxLength: 4, hiddenSize: 4, layers: 1, heads: 1, dropout: 0, ctrHead: true }, 1);
    const plain = createSasRec({ itemCount: 4, maxLength: 4, hiddenSize: 4, layers: 1, heads: 1, dropout: 0 }, 1);

    await expect(trainModel(withHead, data, options)).rejects.toThrow(
      new TypeError(invalidArgument('trainModel', 'data.labels', "a Uint8Array of 0/1 click labels for the 'ctr-bce' loss", 'none')),
    );
    await expect(trainModel(plain, { ...data, labels: new Uint8Array([1, 0, 1]) }, options)).rejects.toThrow(TypeError);
    withHead.dispose();
    plain.dispose();
  });
});

/** Model cases: SASRec, HSTU, SASRec with a multi-head latent (MLA) cache and HSTU with one shared key/value head (MQA). */
const MODEL_CASES = [0, 1, 2, 3];

describe.each(['cpu', 'wasm'] as const)('scoreImpressions on %s', (backend) => {
  const models: { name: string; model: SequentialModel; timed: boolean }[] = [];

  beforeAll(async () => {
    await initBackend(backend);
    models.push({ name: 'SasRec', model: createSasRec({ itemCount: ITEMS, maxLength: 16, hiddenSize: 12, layers: 2, heads: 2, dropout: 0.2, ctrHead: true }, 21), timed: false });
    models.push({
      name: 'Hstu',
      model: createHstu({ itemCount: ITEMS, maxLength: 16, hiddenSize: 12, layers: 2, heads: 2, queryKeySize: 6, valueSize: 5, timeBuckets: 16, ctrHead: true }, 22),
      timed: true,
    });
    models.push({ name: 'SasRec', model: createSasRec({ itemCount: ITEMS, maxLength: 16, hiddenSize: 12, layers: 2, heads: 2, kvHeads: 1, kvLatentSize: 6, dropout: 0.2, ctrHead: true }, 23), timed: false });
    models.push({
      name: 'Hstu',
      model: createHstu({ itemCount: ITEMS, maxLength: 16, hiddenSize: 12, layers: 2, heads: 2, kvHeads: 1, queryKeySize: 6, valueSize: 5, timeBuckets: 16, ctrHead: true }, 24),
      timed: true,
    });
    models.forEach((entry, index) => setHead(entry.model, 30 + index));
  });

  afterAll(() => models.forEach((entry) => entry.model.dispose()));

  const candidates = new Int32Array([5, 17, 5, 30, 1, 12]);
  const candidateTimes = new Float64Array([5e6, 5e6 + 10, 5e6 + 3600, 5e6, 6e6, 5e6 + 1]);

  it.each(MODEL_CASES)('matches full forward passes (model %i)', (index) => {
    const { model, timed } = models[index];
    const d = model.config.hiddenSize;
    const { items, times } = sequence(9, index);
    const { cache } = model.prefill(items, timed ? { timestamps: times } : {});

    const logits = model.scoreImpressions(cache, candidates, timed ? { timestamps: candidateTimes } : {});

    const expected = Array.from(candidates, (candidate, i) => {
      const full = Int32Array.from([...items, candidate]);
      const fullTimes = Float64Array.from([...times, candidateTimes[i]]);
      const hidden = model.forwardLast(full, timed ? { timestamps: fullTimes } : {});
      return model.clickLogits(lastRow(hidden, d))[0];
    });
    expectClose(logits, expected, 1e-5);
  });

  it.each(MODEL_CASES)('matches single appends on a pruned cache (model %i)', (index) => {
    const { model, timed } = models[index];
    const { items, times } = sequence(10, 3 + index);
    const pruned = pruneCache(model.prefill(items, timed ? { timestamps: times } : {}).cache);

    const logits = model.scoreImpressions(pruned, candidates, timed ? { timestamps: candidateTimes } : {});

    const expected = Array.from(candidates, (candidate, i) => {
      const appended = model.append(pruned, new Int32Array([candidate]), timed ? { timestamps: candidateTimes.subarray(i, i + 1) } : {});
      return model.clickLogits(appended.hidden)[0];
    });
    expectClose(logits, expected, 1e-5);
    expect(pruned.seenTokens).toBe(10);
  });

  it.each(MODEL_CASES)('ignores candidate order (model %i)', (index) => {
    const { model, timed } = models[index];
    const { items, times } = sequence(7, index);
    const { cache } = model.prefill(items, timed ? { timestamps: times } : {});
    const reference = model.scoreImpressions(cache, candidates, timed ? { timestamps: candidateTimes } : {});
    const random = new SeededRandom(99 + index);

    for (let trial = 0; trial < 5; trial++) {
      const order = random.shuffle(Int32Array.from({ length: candidates.length }, (_, i) => i));
      const permuted = Int32Array.from(order, (i) => candidates[i]);
      const permutedTimes = Float64Array.from(order, (i) => candidateTimes[i]);

      const logits = model.scoreImpressions(cache, permuted, timed ? { timestamps: permutedTimes } : {});

      expectClose(logits, Float32Array.from(order, (i) => reference[i]), 1e-6);
    }
    // Candidates 0 and 2 are the same item; without time they get the same logit.
    if (!timed) {
      expect(reference[0]).toBe(reference[2]);
    }
  });

  it('leaks no tensors', () => {
    const { model, timed } = models[1];
    const { items, times } = sequence(8);
    const { cache } = model.prefill(items, timed ? { timestamps: times } : {});
    const before = tf.memory().numTensors;

    model.scoreImpressions(cache, candidates, { timestamps: candidateTimes });

    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(MODEL_CASES)('rejects a full-length cache (model %i)', (index) => {
    const { model, name, timed } = models[index];
    const { items, times } = sequence(16, index);
    const { cache } = model.prefill(items, timed ? { timestamps: times } : {});

    expect(() => model.scoreImpressions(cache, new Int32Array([1]), timed ? { timestamps: new Float64Array([2e6]) } : {})).toThrow(
      new RangeError(positionOutOfRange(`${name}.scoreImpressions`, 16, 1, 16)),
    );
    expect(model.scoreImpressions(cache, new Int32Array(0)).length).toBe(0);
  });
});

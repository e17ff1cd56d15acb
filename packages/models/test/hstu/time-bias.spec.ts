import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { createHstu, initBackend, loadCheckpoint, saveCheckpoint, trainModel, type TrainingData } from '../../src/index';
import type { Hstu } from '../../src/hstu/hstu';
import { invalidArgument } from '../../src/messages';
import { expectClose, lastRow } from '../tolerance';

const CONFIG = { itemCount: 30, maxLength: 16, hiddenSize: 8, layers: 2, heads: 2, queryKeySize: 4, valueSize: 4, timeBuckets: 16 };

/** Items 1..30 in a scrambled order and increasing timestamps with gaps from 1 s to 10⁶ s. */
function sequence(length: number): { items: Int32Array; times: Float64Array } {
  const items = Int32Array.from({ length }, (_, i) => ((i * 11) % 30) + 1);
  const times = Float64Array.from({ length }, (_, i) => i * 1000 + Math.pow(10, i % 7));
  return { items, times };
}

/** 24 users of 9 items each, with increasing timestamps. */
function trainingData(withTime: boolean): TrainingData {
  const users = 24;
  const length = 9;
  const items = Int32Array.from({ length: users * length }, (_, i) => ((Math.floor(i / length) * 5 + (i % length) * 3) % 30) + 1);
  const data: TrainingData = { itemCount: 30, offsets: Int32Array.from({ length: users + 1 }, (_, u) => u * length), items, trainEnd: new Int32Array(users).fill(length) };
  return withTime ? { ...data, timestamps: Float64Array.from(items, (_, i) => (i % length) * 86_400 * ((i % 5) + 1)) } : data;
}

function weightsOf(model: Hstu): Float32Array[] {
  return (model as unknown as { variables: { variable: tf.Variable }[] }).variables.map((entry) => entry.variable.dataSync() as Float32Array);
}

describe.each(['cpu', 'wasm'] as const)('Hstu without the time bias on %s', (backend) => {
  let plain: Hstu;
  let timeless: Hstu;

  beforeAll(async () => {
    await initBackend(backend);
    plain = createHstu(CONFIG, 5) as Hstu;
    timeless = createHstu({ ...CONFIG, timeBias: false }, 5) as Hstu;
  });

  afterAll(() => {
    plain.dispose();
    timeless.dispose();
  });

  it('ignores timestamps in the full forward pass', () => {
    const { items, times } = sequence(12);

    const withTime = timeless.forwardLast(items, { timestamps: times });

    expectClose(withTime, timeless.forwardLast(items), 1e-6);
    expectClose(withTime, plain.forwardLast(items), 1e-6);
  });

  it('differs from the time-bias model given timestamps', () => {
    const { items, times } = sequence(12);

    const difference = Math.max(...Array.from(timeless.forwardLast(items, { timestamps: times }), (value, i) => Math.abs(value - plain.forwardLast(items, { timestamps: times })[i])));

    expect(difference).toBeGreaterThan(1e-4);
  });

  it.each([1, 4])('prefill plus append of %i items matches', (count) => {
    const { items, times } = sequence(7 + count);
    const { cache } = timeless.prefill(items.subarray(0, 7), { timestamps: times.subarray(0, 7) });

    const appended = timeless.append(cache, items.subarray(7), { timestamps: times.subarray(7) });

    expect(cache.layers[0].heads[0].timestamps).toBeNull();
    expectClose(lastRow(appended.hidden, CONFIG.hiddenSize), timeless.forwardLast(items), 1e-5);
  });

  it('trains to the same weights with or without timestamps', async () => {
    const first = createHstu({ ...CONFIG, timeBias: false }, 2) as Hstu;
    const second = createHstu({ ...CONFIG, timeBias: false }, 2) as Hstu;
    const settings = { epochs: 1, batchSize: 8, learningRate: 0.01, loss: 'sampled-softmax' as const, negatives: 4, temperature: 0.1, weightDecay: 0, seed: 3 };

    await trainModel(first, trainingData(true), settings);
    await trainModel(second, trainingData(false), settings);

    expect(weightsOf(first)).toEqual(weightsOf(second));
    first.dispose();
    second.dispose();
  });
});

describe('Hstu time bias setting', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('is left out of the default configuration', () => {
    const model = createHstu(CONFIG, 1) as Hstu;

    expect('timeBias' in model.config).toBe(false);
    model.dispose();
  });

  it('rejects a value that is not a boolean', () => {
    expect(() => createHstu({ ...CONFIG, timeBias: 'no' as unknown as boolean }, 1)).toThrow(invalidArgument('createHstu', 'config.timeBias', 'true or false', 'no'));
  });

  it('survives a checkpoint round trip', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'malloc-time-bias-'));
    const model = createHstu({ ...CONFIG, timeBias: false }, 1) as Hstu;

    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    const loaded = (await loadCheckpoint(dir)) as Hstu;

    expect(loaded.config.timeBias).toBe(false);
    model.dispose();
    loaded.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
});

import * as tf from '@tensorflow/tfjs';
import { createSasRec, initBackend } from '../../src/index';
import { SeededRandom } from '../../src/random';
import type { SasRec } from '../../src/sasrec/sasrec';
import { AdamW } from '../../src/training/optimizer';
import { trainStep } from '../../src/training/step';

describe.each(['cpu', 'wasm'] as const)('SasRec tensor memory on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('100 prefill, append and score calls leave no tensors behind', () => {
    const model = createSasRec({ itemCount: 30, maxLength: 16, hiddenSize: 8, heads: 2 }, 1);
    // Warm up once: the scoring table is built on first use and is a plain array, not a tensor.
    model.scoreAll(model.append(model.prefill(new Int32Array([1, 2])).cache, new Int32Array([3])).hidden);
    const before = tf.memory();

    for (let user = 0; user < 100; user++) {
      const history = Int32Array.from({ length: 1 + (user % 10) }, (_, i) => ((user + i) % 30) + 1);
      const { cache } = model.prefill(history, { recordStats: user % 2 === 0 });
      const { hidden } = model.append(cache, new Int32Array([(user % 30) + 1]));
      model.scoreAll(hidden);
      model.scoreCandidates(hidden, new Int32Array([1, 2, 3]));
      model.forwardLast(history);
    }
    model.forwardLastBatch([new Int32Array([1, 2, 3]), new Int32Array([4])]);

    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    model.dispose();
  });

  it.each(['per-position', 'shared'] as const)('%s training steps leave no tensors', (negativeSampling) => {
    const model = createSasRec({ itemCount: 30, maxLength: 8, hiddenSize: 8, heads: 2 }, 1) as SasRec;
    const optimizer = new AdamW(model.variables, { learningRate: 1e-3, weightDecay: 0 });
    // Two rows of 4 positions, the second right-padded after 3 items.
    const batch = {
      encoder: { batch: 2, len: 4, items: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 0]), positions: Int32Array.from([0, 1, 2, 3, 0, 1, 2, 0]), timestamps: null },
      targets: Int32Array.from([2, 3, 4, 5, 6, 7, 8, 0]),
      rows: Int32Array.from([0, 1, 2, 3, 4, 5, 6]),
    };
    const settings = { loss: 'sampled-softmax' as const, negatives: 5, temperature: 0.05, negativeSampling };
    // Warm up once: the optimizer creates its moment tensors on the first step.
    trainStep(model, optimizer, batch, settings, new SeededRandom(1));
    const before = tf.memory();

    for (let step = 0; step < 5; step++) {
      trainStep(model, optimizer, batch, settings, new SeededRandom(step + 2));
    }

    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    optimizer.dispose();
    model.dispose();
  });
});

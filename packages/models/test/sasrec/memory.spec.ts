import * as tf from '@tensorflow/tfjs';
import { createSasRec, initBackend } from '../../src/index';

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
});

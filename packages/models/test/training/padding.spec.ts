import * as tf from '@tensorflow/tfjs';
import { createHstu, createSasRec, initBackend } from '../../src/index';
import type { TrainableModel } from '../../src/model/types';
import { SeededRandom } from '../../src/random';
import type { SasRec } from '../../src/sasrec/sasrec';
import type { TrainingBatch } from '../../src/training/data';
import { lossAndGradients } from '../../src/training/step';
import { maxAbsDifference } from '../tolerance';

/**
 * Two users, [4, 9, 2] -> targets [9, 2, 7] and [5] -> [3], packed with the padding on the
 * left (0 = padding, positions count from the first real item) or on the right.
 */
function batch(side: 'left' | 'right', timed = false): TrainingBatch {
  if (side === 'left') {
    return {
      encoder: { batch: 2, len: 3, items: new Int32Array([4, 9, 2, 0, 0, 5]), positions: new Int32Array([0, 1, 2, 0, 0, 0]), timestamps: timed ? new Float64Array([0, 30, 4000, 0, 0, 9]) : null },
      targets: new Int32Array([9, 2, 7, 0, 0, 3]),
      rows: new Int32Array([0, 1, 2, 5]),
    };
  }
  return {
    encoder: { batch: 2, len: 3, items: new Int32Array([4, 9, 2, 5, 0, 0]), positions: new Int32Array([0, 1, 2, 0, 0, 0]), timestamps: timed ? new Float64Array([0, 30, 4000, 9, 0, 0]) : null },
    targets: new Int32Array([9, 2, 7, 3, 0, 0]),
    rows: new Int32Array([0, 1, 2, 3]),
  };
}

describe.each(['cpu', 'wasm'] as const)('padded training batches on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each(['sampled-softmax', 'bce', 'full-ce'] as const)('%s gradients are finite and equal for left and right padding', (loss) => {
    // Dropout 0, so that the same seed draws the same negatives for both layouts.
    const model = createSasRec({ itemCount: 12, maxLength: 6, hiddenSize: 8, heads: 2, dropout: 0 }, 4) as SasRec;
    const settings = { loss, negatives: 5, temperature: 0.1 };

    const left = lossAndGradients(model, batch('left'), settings, new SeededRandom(1));
    const right = lossAndGradients(model, batch('right'), settings, new SeededRandom(1));

    const leftLoss = left.loss.dataSync()[0];
    expect(Number.isFinite(leftLoss)).toBe(true);
    expect(Math.abs(leftLoss - right.loss.dataSync()[0])).toBeLessThan(1e-5);
    left.gradients.forEach((gradient, index) => {
      const values = gradient.dataSync();
      expect(values.every(Number.isFinite)).toBe(true);
      expect(maxAbsDifference(values, right.gradients[index].dataSync())).toBeLessThan(1e-4);
    });

    tf.dispose([left.loss, right.loss, ...left.gradients, ...right.gradients]);
    model.dispose();
  });

  it('loss of a padded batch equals the loss of its users alone', () => {
    const model = createSasRec({ itemCount: 12, maxLength: 6, hiddenSize: 8, dropout: 0 }, 4) as SasRec;
    const settings = { loss: 'full-ce' as const, negatives: 5, temperature: 0.1 };
    const padded = lossAndGradients(model, batch('left'), settings, new SeededRandom(1));

    // User 1 alone: [4, 9, 2] -> [9, 2, 7]; user 2 alone: [5] -> [3]. The batch mean weighs 3:1.
    const first = lossAndGradients(model, { encoder: { batch: 1, len: 3, items: new Int32Array([4, 9, 2]), positions: new Int32Array([0, 1, 2]), timestamps: null }, targets: new Int32Array([9, 2, 7]), rows: new Int32Array([0, 1, 2]) }, settings, new SeededRandom(1));
    const second = lossAndGradients(model, { encoder: { batch: 1, len: 1, items: new Int32Array([5]), positions: new Int32Array([0]), timestamps: null }, targets: new Int32Array([3]), rows: new Int32Array([0]) }, settings, new SeededRandom(1));
    const expected = (3 * first.loss.dataSync()[0] + 1 * second.loss.dataSync()[0]) / 4;
    expect(Math.abs(padded.loss.dataSync()[0] - expected)).toBeLessThan(1e-5);

    tf.dispose([padded.loss, first.loss, second.loss, ...padded.gradients, ...first.gradients, ...second.gradients]);
    model.dispose();
  });
});

describe.each(['cpu', 'wasm'] as const)('padded HSTU batches on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('gradients are finite and equal for left and right padding', () => {
    const model = createHstu({ itemCount: 12, maxLength: 6, hiddenSize: 8, heads: 2, queryKeySize: 4, valueSize: 3, dropout: 0, timeBuckets: 8 }, 4) as TrainableModel;
    const settings = { loss: 'sampled-softmax' as const, negatives: 5, temperature: 0.1 };
    const left = lossAndGradients(model, batch('left', true), settings, new SeededRandom(1));
    const right = lossAndGradients(model, batch('right', true), settings, new SeededRandom(1));

    expect(Math.abs(left.loss.dataSync()[0] - right.loss.dataSync()[0])).toBeLessThan(1e-5);
    left.gradients.forEach((gradient, index) => {
      const values = gradient.dataSync();
      expect(values.every(Number.isFinite)).toBe(true);
      expect(maxAbsDifference(values, right.gradients[index].dataSync())).toBeLessThan(1e-4);
    });
    tf.dispose([left.loss, right.loss, ...left.gradients, ...right.gradients]);
    model.dispose();
  });

  it('forwardLastBatch equals forwardLast with timestamps', () => {
    const model = createHstu({ itemCount: 12, maxLength: 6, hiddenSize: 8, queryKeySize: 4, valueSize: 3, timeBuckets: 8 }, 4);
    const sequences = [new Int32Array([4, 9, 2]), new Int32Array([0, 5]), new Int32Array([1, 2, 3, 4, 5, 6, 7])];
    const timestamps = [new Float64Array([0, 30, 4000]), new Float64Array([0, 7]), Float64Array.from({ length: 7 }, (_, i) => i * i * 100)];
    const batched = model.forwardLastBatch(sequences, { timestamps, batchSize: 2 });
    sequences.forEach((items, index) => {
      const single = model.forwardLast(items, { timestamps: timestamps[index] });
      expect(maxAbsDifference(batched.subarray(index * 8, (index + 1) * 8), single)).toBeLessThan(1e-5);
    });
    model.dispose();
  });
});

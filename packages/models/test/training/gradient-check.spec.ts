import * as tf from '@tensorflow/tfjs';
import { createSasRec, initBackend } from '../../src/index';
import { SeededRandom } from '../../src/random';
import type { SasRec } from '../../src/sasrec/sasrec';
import type { TrainingBatch } from '../../src/training/data';
import { lossAndGradients } from '../../src/training/step';

const BATCH: TrainingBatch = {
  encoder: { batch: 2, len: 4, items: new Int32Array([4, 9, 2, 7, 5, 3, 0, 0]), positions: new Int32Array([0, 1, 2, 3, 0, 1, 0, 0]), timestamps: null },
  targets: new Int32Array([9, 2, 7, 1, 3, 8, 0, 0]),
  rows: new Int32Array([0, 1, 2, 3, 4, 5]),
};

describe.each(['cpu', 'wasm'] as const)('whole-model gradients on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each(['full-ce', 'sampled-softmax'] as const)('%s gradients match central finite differences', (loss) => {
    const model = createSasRec({ itemCount: 12, maxLength: 6, hiddenSize: 8, heads: 2, dropout: 0 }, 7) as SasRec;
    const settings = { loss, negatives: 6, temperature: 0.5 };
    const lossValue = (): number => {
      const { loss: value, gradients } = lossAndGradients(model, BATCH, settings, new SeededRandom(3));
      const result = value.dataSync()[0];
      tf.dispose([value, ...gradients]);
      return result;
    };
    const { loss: value, gradients } = lossAndGradients(model, BATCH, settings, new SeededRandom(3));
    const analytic = gradients.map((gradient) => gradient.dataSync() as Float32Array);
    tf.dispose([value, ...gradients]);

    // Probe the largest-gradient coordinate of every variable: (f(w + h) - f(w - h)) / 2h.
    const step = 2e-3;
    const mismatches: string[] = [];
    model.variables.forEach((entry, index) => {
      const grad = analytic[index];
      let coordinate = 0;
      grad.forEach((g, i) => {
        if (Math.abs(g) > Math.abs(grad[coordinate])) coordinate = i;
      });
      if (Math.abs(grad[coordinate]) < 1e-3) return;
      const original = entry.variable.dataSync() as Float32Array;
      const shifted = (delta: number): number => {
        const values = original.slice();
        values[coordinate] += delta;
        tf.tidy(() => entry.variable.assign(tf.tensor(values, entry.variable.shape)));
        return lossValue();
      };
      const numeric = (shifted(step) - shifted(-step)) / (2 * step);
      tf.tidy(() => entry.variable.assign(tf.tensor(original, entry.variable.shape)));
      if (Math.abs(numeric - grad[coordinate]) > Math.max(0.02 * Math.abs(grad[coordinate]), 2e-3)) {
        mismatches.push(`${entry.name}[${coordinate}]: analytic ${grad[coordinate]}, numeric ${numeric}`);
      }
    });
    expect(mismatches).toEqual([]);
    model.dispose();
  });
});

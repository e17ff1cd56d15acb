import * as tf from '@tensorflow/tfjs';
import { checkKernels, createHstu, createSasRec, initBackend, REQUIRED_KERNELS } from '../../src/index';
import type { TrainableModel } from '../../src/model/types';
import { unsortedSegmentSumValues } from '../../src/backend/unsorted-segment-sum';
import { backendSelected, invalidArgument, missingKernel } from '../../src/messages';
import { SeededRandom } from '../../src/random';
import { AdamW } from '../../src/training/optimizer';
import { trainStep } from '../../src/training/step';

/** Values of tf.unsortedSegmentSum on the active backend. */
function segmentSum(x: Float32Array, shape: number[], ids: Int32Array, segments: number): Float32Array {
  return tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(x, shape), tf.tensor1d(ids, 'int32'), segments).dataSync() as Float32Array);
}

describe('initBackend', () => {
  it('auto falls back to wasm when no native binding is installed', async () => {
    const messages: string[] = [];
    const logger = { info: (m: string) => messages.push(m), warn: () => undefined, debug: () => undefined };
    const backend = await initBackend('auto', logger);
    expect(backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(messages).toContain(backendSelected('wasm', 'WebAssembly with SIMD, single-threaded'));
  });

  it('rejects an unknown backend name', async () => {
    await expect(initBackend('gpu' as 'cpu')).rejects.toThrow(new RangeError(invalidArgument('initBackend', 'requested', "'auto', 'tensorflow', 'wasm' or 'cpu'", "'gpu'")));
  });

  it('names the op when a kernel is missing', () => {
    expect(() => checkKernels('no-such-backend')).toThrow(missingKernel(REQUIRED_KERNELS[0], 'no-such-backend'));
  });
});

describe('UnsortedSegmentSum kernel', () => {
  // x is [5, 2]; ids send rows 0 and 3 to segment 2, row 1 to 0, row 2 nowhere (-1), row 4 nowhere (3 ≥ 3).
  const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const ids = new Int32Array([2, 0, -1, 2, 3]);
  // Segment 0 = row 1 = [3, 4]; segment 1 = nothing = [0, 0]; segment 2 = rows 0 + 3 = [1 + 7, 2 + 8].
  const expected = [3, 4, 0, 0, 8, 10];

  it('plain values match the hand sums', () => {
    const out = new Float32Array(6);
    unsortedSegmentSumValues(x, ids, 3, out);
    expect(Array.from(out)).toEqual(expected);
  });

  it('wasm kernel matches the stock cpu kernel', async () => {
    await tf.setBackend('cpu');
    const stock = segmentSum(x, [5, 2], ids, 3);
    await initBackend('wasm');
    expect(Array.from(segmentSum(x, [5, 2], ids, 3))).toEqual(Array.from(stock));
    expect(Array.from(stock)).toEqual(expected);
  });

  it('gradients of an embedding lookup agree between cpu and wasm', async () => {
    const table = Float32Array.from({ length: 12 }, (_, i) => i / 7);
    const lookup = new Int32Array([2, 0, 2, 5, 5, 5]);
    const gradient = (): Float32Array =>
      tf.tidy(() => {
        const weights = tf.tensor2d(table, [6, 2]);
        const grad = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.gather(w, tf.tensor1d(lookup, 'int32')), tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [6, 2]))));
        return grad(weights).dataSync() as Float32Array;
      });
    await initBackend('cpu');
    const onCpu = gradient();
    await initBackend('wasm');
    const onWasm = gradient();
    // Row 0 gets output row 1 = [3, 4]; row 2 gets rows 0 and 2 = [1 + 5, 2 + 6]; row 5 gets rows 3..5 = [7 + 9 + 11, 8 + 10 + 12].
    expect(Array.from(onCpu)).toEqual([3, 4, 0, 0, 6, 8, 0, 0, 0, 0, 27, 30]);
    expect(Array.from(onWasm)).toEqual(Array.from(onCpu));
  });
});

describe('wasm Slice kernel', () => {
  it('contiguous and strided slices match the cpu backend', async () => {
    const values = Float32Array.from({ length: 4 * 3 * 5 }, (_, i) => i * 0.5);
    const slices = (): number[][] =>
      tf.tidy(() => {
        const x = tf.tensor3d(values, [4, 3, 5]);
        return [tf.slice(x, [2, 0, 0], [1, 3, 5]), tf.slice(x, [1, 1, 0], [2, 2, 5]), tf.slice(x, [0, 1, 2], [4, 2, 3])].map((t) => Array.from(t.dataSync()));
      });
    await initBackend('cpu');
    const onCpu = slices();
    await initBackend('wasm');
    expect(slices()).toEqual(onCpu);
  });
});

describe('REQUIRED_KERNELS', () => {
  it.each(['cpu', 'wasm'] as const)('lists every kernel that training and inference run on %s', async (backend) => {
    await initBackend(backend);
    const models = [
      createSasRec({ itemCount: 12, maxLength: 8, hiddenSize: 8, heads: 2 }, 1),
      createHstu({ itemCount: 12, maxLength: 8, hiddenSize: 8, heads: 2, queryKeySize: 4, valueSize: 4 }, 1),
    ] as TrainableModel[];
    const batch = {
      encoder: { batch: 2, len: 3, items: new Int32Array([4, 9, 2, 5, 0, 0]), positions: new Int32Array([0, 1, 2, 0, 0, 0]), timestamps: new Float64Array([0, 10, 500, 0, 0, 0]) },
      targets: new Int32Array([9, 2, 7, 3, 0, 0]),
      rows: new Int32Array([0, 1, 2, 3]),
    };
    const used = new Set<string>();
    for (const model of models) {
      const optimizer = new AdamW(model.variables, { learningRate: 1e-3, weightDecay: 0.01 });
      for (const loss of ['sampled-softmax', 'bce', 'full-ce'] as const) {
        const profile = await tf.profile(() => {
          trainStep(model, optimizer, batch, { loss, negatives: 4, temperature: 0.1 }, new SeededRandom(2));
        });
        profile.kernelNames.forEach((name) => used.add(name));
      }
      const inference = await tf.profile(() => {
        const { cache } = model.prefill(new Int32Array([1, 2, 3]), { recordStats: true });
        const { hidden } = model.append(cache, new Int32Array([4, 5]));
        model.forwardLastBatch([new Int32Array([1]), new Int32Array([2, 3])]);
        model.scoreAll(hidden.subarray(8));
      });
      inference.kernelNames.forEach((name) => used.add(name));
      optimizer.dispose();
      model.dispose();
    }

    // Custom gradients and tidy scopes show up in profiles under these names; they are not kernels.
    used.delete('forward');
    used.delete('unnamed scope');
    expect([...used].filter((name) => !REQUIRED_KERNELS.includes(name))).toEqual([]);
  });
});

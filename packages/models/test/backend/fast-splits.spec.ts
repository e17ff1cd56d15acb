import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/index';

// The wasm Unpack and SplitV kernels that initBackend installs, against values taken by index.

/** x[i, j, k] = 100 i + 10 j + k, shape [2, 3, 4]; and [1, 3, 4] for the one-leading-axis case. */
function indexed(shape: number[]): tf.Tensor {
  const values: number[] = [];
  for (let i = 0; i < shape[0]; i++) {
    for (let j = 0; j < shape[1]; j++) {
      for (let k = 0; k < shape[2]; k++) {
        values.push(100 * i + 10 * j + k);
      }
    }
  }
  return tf.tensor(values, shape, 'float32');
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('wasm Unpack and SplitV', () => {
  it('unstack along axis 0 copies each step', () => {
    tf.tidy(() => {
      const [first, second] = tf.unstack(indexed([2, 3, 4]));
      expect(first.shape).toEqual([3, 4]);
      expect(Array.from(second.dataSync()).slice(0, 5)).toEqual([100, 101, 102, 103, 110]);
      expect(second.dataSync()[11]).toBe(123);
    });
  });

  it('unstack along axis 1 falls back', () => {
    tf.tidy(() => {
      const steps = tf.unstack(indexed([2, 3, 4]), 1);
      expect(steps).toHaveLength(3);
      expect(steps[2].shape).toEqual([2, 4]);
      // x[:, 2, :] is 20..23 then 120..123.
      expect(Array.from(steps[2].dataSync())).toEqual([20, 21, 22, 23, 120, 121, 122, 123]);
    });
  });

  it('split along axis 0 keeps the axis', () => {
    tf.tidy(() => {
      const [head, tail] = tf.split(indexed([2, 3, 4]), [1, 1], 0);
      expect(tail.shape).toEqual([1, 3, 4]);
      expect(head.dataSync()[11]).toBe(23);
      expect(tail.dataSync()[0]).toBe(100);
    });
  });

  it('split after a leading axis of size 1 is contiguous', () => {
    tf.tidy(() => {
      // [1, 3, 4] split along axis 1 into 2 + 1 rows: x[0, 2, :] is 20..23.
      const [top, bottom] = tf.split(indexed([1, 3, 4]), [2, 1], 1);
      expect(top.shape).toEqual([1, 2, 4]);
      expect(Array.from(bottom.dataSync())).toEqual([20, 21, 22, 23]);
    });
  });

  it('split along the last axis falls back', () => {
    tf.tidy(() => {
      const [left, right] = tf.split(indexed([2, 3, 4]), [3, 1], 2);
      expect(left.shape).toEqual([2, 3, 3]);
      // x[:, :, 3] is 3, 13, 23, 103, 113, 123.
      expect(Array.from(right.dataSync())).toEqual([3, 13, 23, 103, 113, 123]);
    });
  });
});

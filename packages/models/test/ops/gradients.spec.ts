import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/index';
import { l2Normalize, layerNorm, logSumExp } from '../../src/ops/layers';
import { gatheredDot } from '../../src/ops/gathered-dot';
import { batchMatMul, matMul2d } from '../../src/ops/matmul';
import { SeededRandom } from '../../src/random';
import { maxAbsDifference } from '../tolerance';

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const random = new SeededRandom(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal()), shape);
}

/** Values and gradients of `f` with respect to both inputs, weighted by a fixed random cotangent. */
function valueAndGradients(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const value = f(a, b);
    const weights = randomTensor(value.shape, 99);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), weights)))([a, b]);
    return [value, ga, gb].map((t) => t.dataSync() as Float32Array);
  });
}

describe.each(['cpu', 'wasm'] as const)('custom-gradient ops on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('matMul2d and its gradients equal tf.matMul', () => {
    const a = randomTensor([7, 5], 1);
    const b = randomTensor([5, 3], 2);
    const ours = valueAndGradients((x, y) => matMul2d(x as tf.Tensor2D, y as tf.Tensor2D), a, b);
    const stock = valueAndGradients((x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), a, b);
    ours.forEach((values, i) => expect(maxAbsDifference(values, stock[i])).toBeLessThan(1e-5));
  });

  it('batchMatMul and its gradients equal tf.matMul on 3-D operands', () => {
    const a = randomTensor([3, 4, 6], 3);
    const b = randomTensor([3, 6, 2], 4);
    const ours = valueAndGradients((x, y) => batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D), a, b);
    const stock = valueAndGradients((x, y) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D), a, b);
    ours.forEach((values, i) => expect(maxAbsDifference(values, stock[i])).toBeLessThan(1e-5));
  });

  it('logSumExp and its gradient equal tf.logSumExp', () => {
    const x = tf.mul(randomTensor([4, 9], 5), 30);
    const zero = tf.zeros([1]);
    const ours = valueAndGradients((v, z) => tf.add(logSumExp(v as tf.Tensor2D), tf.sum(z)), x, zero);
    const stock = valueAndGradients((v, z) => tf.add(tf.logSumExp(v, -1), tf.sum(z)), x, zero);
    expect(maxAbsDifference(ours[0], stock[0])).toBeLessThan(1e-4);
    expect(maxAbsDifference(ours[1], stock[1])).toBeLessThan(1e-5);
  });

  it('layerNorm matches the formula and l2Normalize keeps zero rows at zero', () => {
    // Row [1, 2, 3, 6]: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5.
    const normed = tf.tidy(() => layerNorm(tf.tensor2d([[1, 2, 3, 6]]), null, null, 0).dataSync());
    const s = Math.sqrt(3.5);
    expect(maxAbsDifference(normed, [-2 / s, -1 / s, 0, 3 / s])).toBeLessThan(1e-6);

    const unit = tf.tidy(() => l2Normalize(tf.tensor2d([[3, 4], [0, 0]])).dataSync());
    expect(maxAbsDifference(unit, [0.6, 0.8, 0, 0])).toBeLessThan(1e-6);
  });

  it('gatheredDot gradients equal the gather route', () => {
    // 5 positions take 6 rows each (one pass of four, then two) from a table of 4 rows. Rows
    // repeat within a pass of four, within a position and across positions.
    const hidden = randomTensor([5, 6], 6);
    const table = randomTensor([4, 6], 7);
    const ids = Int32Array.from([2, 0, 2, 1, 3, 2, 0, 0, 0, 3, 2, 1, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 0, 2, 3, 0, 1, 2, 3, 3]);
    const ours = valueAndGradients((h, t) => gatheredDot(h as tf.Tensor2D, t as tf.Tensor2D, ids, 6), hidden, table);
    const stock = valueAndGradients((h, t) => {
      const rows = tf.reshape(tf.gather(t, tf.tensor1d(ids, 'int32')), [5, 6, 6]);
      return tf.sum(tf.mul(rows, tf.reshape(h, [5, 1, 6])), -1);
    }, hidden, table);
    ours.forEach((values, i) => expect(maxAbsDifference(values, stock[i])).toBeLessThan(1e-5));
  });

  it('gatheredDot matches hand-worked products', () => {
    // hidden [[1, 2], [3, -1]], table rows [0, 0], [1, 1], [2, -1]; ids [[1, 2], [2, 2]].
    const value = tf.tidy(() => gatheredDot(tf.tensor2d([[1, 2], [3, -1]]), tf.tensor2d([[0, 0], [1, 1], [2, -1]]), Int32Array.from([1, 2, 2, 2]), 2).dataSync());
    // [1·1 + 2·1, 1·2 − 2·1], [3·2 + 1·1, 3·2 + 1·1].
    expect(Array.from(value)).toEqual([3, 0, 7, 7]);
  });

  it('gatheredDot handles whole passes and no positions', () => {
    // 2 positions × 8 rows: two passes of four and no rest.
    const hidden = randomTensor([2, 3], 8);
    const table = randomTensor([5, 3], 9);
    const ids = Int32Array.from([4, 4, 0, 1, 2, 3, 4, 0, 1, 1, 1, 1, 3, 2, 0, 4]);
    const ours = valueAndGradients((h, t) => gatheredDot(h as tf.Tensor2D, t as tf.Tensor2D, ids, 8), hidden, table);
    const stock = valueAndGradients((h, t) => tf.sum(tf.mul(tf.reshape(tf.gather(t, tf.tensor1d(ids, 'int32')), [2, 8, 3]), tf.reshape(h, [2, 1, 3])), -1), hidden, table);
    ours.forEach((values, i) => expect(maxAbsDifference(values, stock[i])).toBeLessThan(1e-5));

    const empty = tf.tidy(() => gatheredDot(tf.zeros([0, 3]) as tf.Tensor2D, table as tf.Tensor2D, new Int32Array(0), 4));
    expect(empty.shape).toEqual([0, 4]);
  });

  it('gatheredDot rejects mismatched arguments', () => {
    const hidden = tf.zeros([2, 3]) as tf.Tensor2D;
    const table = tf.zeros([4, 3]) as tf.Tensor2D;
    expect(() => gatheredDot(hidden, table, Int32Array.from([0, 1, 2]), 2)).toThrow("gatheredDot: invalid ids: expected 4 ids (2 positions × 2), received 3.");
    expect(() => gatheredDot(hidden, table, Int32Array.from([0, 1, 4, 2]), 2)).toThrow('gatheredDot: invalid ids[2]: expected a row index in [0, 4), received 4.');
    expect(() => gatheredDot(hidden, tf.zeros([4, 2]) as tf.Tensor2D, Int32Array.from([0, 1, 2, 3]), 2)).toThrow('gatheredDot: invalid table: expected a [rows, 3] tensor (the width of hidden), received [4, 2].');
  });
});

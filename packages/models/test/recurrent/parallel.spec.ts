import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/index';
import { matMul2d } from '../../src/ops/matmul';
import { SeededRandom } from '../../src/random';
import { resolveRecurrentConfig, RWKV_DEFAULTS } from '../../src/recurrent/config';
import { runGruLayer, type GruLayerWeights } from '../../src/recurrent/gru4rec';
import { hasContiguousRows, type LayerRun } from '../../src/recurrent/recurrent-model';
import { EMPTY_EXPONENT, Rwkv } from '../../src/recurrent/rwkv';
import { unstackSteps } from '../../src/recurrent/steps';
import { PARALLEL_WKV_MAX_SPREAD, parallelWkvIsSafe, wkvParallel, wkvRecurrent } from '../../src/recurrent/wkv';

// The training paths of GRU4Rec and RWKV against the step-by-step computation they replace.

/** Deterministic normal values of `shape` scaled by `std`. */
function normal(random: SeededRandom, shape: number[], std = 1): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    values[i] = random.normal() * std;
  }
  return tf.tensor(values, shape);
}

/** Real items per row and the side they sit on. The padding fills the other side. */
interface Padding {
  real: number[];
  side: 'left' | 'right';
}

/** Mask `[batch, len, 1]` whose row r has `real[r]` real items, at the end (left padding) or at the start (right padding). */
function paddedMask(len: number, real: readonly number[], side: 'left' | 'right'): tf.Tensor3D {
  const values = new Float32Array(real.length * len);
  real.forEach((count, row) => {
    for (let t = 0; t < len; t++) {
      const isReal = side === 'left' ? t >= len - count : t < count;
      values[row * len + t] = isReal ? 1 : 0;
    }
  });
  return tf.tensor3d(values, [real.length, len, 1]);
}

/** Weights `[batch, len, d]` that are 1 up to the last real item of each row and 0 after it. */
function upToLastReal(mask: tf.Tensor3D, d: number): tf.Tensor3D {
  const [batch, len] = mask.shape;
  const flags = mask.dataSync();
  const values = new Float32Array(batch * len * d);
  for (let row = 0; row < batch; row++) {
    let last = -1;
    for (let t = 0; t < len; t++) {
      if (flags[row * len + t] === 1) {
        last = t;
      }
    }
    // A row without real items keeps every step: both forms give v_t there.
    const end = last === -1 ? len - 1 : last;
    values.fill(1, row * len * d, (row * len + end + 1) * d);
  }
  return tf.tensor3d(values, [batch, len, d]);
}

/** Largest |a − b| relative to max(1, max |b|). */
function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  const a = actual.dataSync();
  const b = expected.dataSync();
  expect(a.length).toBe(b.length);
  let scale = 1;
  let error = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    error = Math.max(error, Math.abs(a[i] - b[i]));
  }
  return error / scale;
}

/** Names and relative errors of the gradients that differ by more than `tolerance`, empty when all agree. */
function tooFar(names: readonly string[], actual: readonly tf.Tensor[], expected: readonly tf.Tensor[], tolerance: number): string[] {
  return names.flatMap((name, index) => {
    const error = relativeError(actual[index], expected[index]);
    return error <= tolerance ? [] : [`${name}: ${error}`];
  });
}

/** GRU layer as it ran before the time-major rewrite: per-step slices of `[batch, len, 3d]` and tanh as 2σ(2a) − 1. */
function previousGruLayer(x: tf.Tensor3D, mask: tf.Tensor3D, state: tf.Tensor2D, weights: GruLayerWeights): tf.Tensor3D {
  const [batch, len, d] = x.shape;
  const tanhOf = (a: tf.Tensor): tf.Tensor => tf.sub(tf.mul(tf.sigmoid(tf.mul(a, 2)), 2), 1);
  const projected = tf.reshape(tf.add(matMul2d(tf.reshape(x, [batch * len, d]) as tf.Tensor2D, weights.inputKernel as tf.Tensor2D), weights.inputBias), [batch, len, 3 * d]);
  const gateKernel = tf.slice(weights.recurrentKernel, [0, 0], [d, 2 * d]) as tf.Tensor2D;
  const candidateKernel = tf.slice(weights.recurrentKernel, [0, 2 * d], [d, d]) as tf.Tensor2D;
  let h = state;
  const outputs: tf.Tensor3D[] = [];
  for (let t = 0; t < len; t++) {
    const step = tf.reshape(tf.slice(projected, [0, t, 0], [batch, 1, 3 * d]), [batch, 3 * d]) as tf.Tensor2D;
    const keep = tf.reshape(tf.slice(mask, [0, t, 0], [batch, 1, 1]), [batch, 1]);
    const gates = tf.sigmoid(tf.add(tf.slice(step, [0, 0], [batch, 2 * d]), matMul2d(h, gateKernel)));
    const update = tf.slice(gates, [0, 0], [batch, d]);
    const reset = tf.slice(gates, [0, d], [batch, d]);
    const candidate = tanhOf(tf.add(tf.slice(step, [0, 2 * d], [batch, d]), matMul2d(tf.mul(reset, h) as tf.Tensor2D, candidateKernel)));
    const next = tf.add(h, tf.mul(update, tf.sub(candidate, h)));
    h = tf.add(tf.mul(keep, next), tf.mul(tf.sub(1, keep), h)) as tf.Tensor2D;
    outputs.push(tf.reshape(h, [batch, 1, d]) as tf.Tensor3D);
  }
  return outputs.length === 1 ? outputs[0] : (tf.concat(outputs, 1) as tf.Tensor3D);
}

/** Empty WKV state a = b = 0, p = EMPTY_EXPONENT, `[batch, d]` each. */
function emptyWkvState(batch: number, d: number): tf.Tensor2D[] {
  return [tf.zeros([batch, d]), tf.zeros([batch, d]), tf.fill([batch, d], EMPTY_EXPONENT)] as tf.Tensor2D[];
}

/** RWKV whose layers always run the recurrent form, with the same weights as an Rwkv of the same seed. */
class RecurrentOnlyRwkv extends Rwkv {
  protected override runLayer(layer: number, x: tf.Tensor3D, mask: tf.Tensor3D, state: tf.Tensor2D, random: SeededRandom | null, parallel: boolean): LayerRun {
    void parallel;
    return super.runLayer(layer, x, mask, state, random, false);
  }
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('unstackSteps', () => {
  it.each([1, 2, 17])('splits %i steps like tf.unstack', (len) => {
    tf.tidy(() => {
      const x = normal(new SeededRandom(len), [len, 3, 2]);
      const steps = unstackSteps<tf.Tensor2D>(x);
      expect(steps).toHaveLength(len);
      expect(steps[len - 1].shape).toEqual([3, 2]);
      expect(Array.from(tf.stack(steps).dataSync())).toEqual(Array.from(x.dataSync()));
    });
  });

  it('one step has a gradient', () => {
    tf.tidy(() => {
      // tf.unstack of one step fails here in TensorFlow.js 4.22; the gradient of 3 · x is 3.
      const x = normal(new SeededRandom(1), [1, 2, 3]);
      const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(unstackSteps(input)[0], 3)))(x);
      expect(Array.from(gradient.dataSync())).toEqual([3, 3, 3, 3, 3, 3]);
    });
  });
});

describe('hasContiguousRows', () => {
  it('accepts left, right and no padding', () => {
    expect(hasContiguousRows(new Int32Array([0, 0, 3, 4, 5, 6, 0, 0, 7, 8, 9, 1]), 3, 4)).toBe(true);
    expect(hasContiguousRows(new Int32Array([0, 0, 0]), 1, 3)).toBe(true);
  });

  it('rejects padding inside a row', () => {
    expect(hasContiguousRows(new Int32Array([1, 2, 3, 4, 5, 0, 6, 0]), 2, 4)).toBe(false);
  });
});

describe('runGruLayer against the step-by-step layer it replaces', () => {
  const cases: [string, number, number, number, Padding | null][] = [
    ['one step', 2, 1, 4, null],
    ['unpadded', 3, 9, 5, null],
    ['left-padded', 3, 12, 4, { real: [12, 5, 0], side: 'left' }],
    ['right-padded', 3, 12, 4, { real: [3, 12, 7], side: 'right' }],
  ];

  it.each(cases)('%s: forward and gradients', (_name, batch, len, d, padding) => {
    tf.tidy(() => {
      const random = new SeededRandom(batch * 100 + len);
      const x = normal(random, [batch, len, d]) as tf.Tensor3D;
      const state = normal(random, [batch, d], 0.5) as tf.Tensor2D;
      const mask = padding === null ? (tf.ones([batch, len, 1]) as tf.Tensor3D) : paddedMask(len, padding.real, padding.side);
      const weights: GruLayerWeights = {
        inputKernel: tf.variable(normal(random, [d, 3 * d], Math.sqrt(1 / d))),
        inputBias: tf.variable(normal(random, [3 * d], 0.1)),
        recurrentKernel: tf.variable(normal(random, [d, 3 * d], Math.sqrt(1 / d))),
      };
      const outputWeights = normal(random, [batch, len, d]);

      // Forward: every step, padded ones included, and the final state.
      const run = runGruLayer(x, mask, state, weights);
      const previous = previousGruLayer(x, mask, state, weights);
      expect(relativeError(run.output, previous)).toBeLessThanOrEqual(1e-6);
      expect(relativeError(run.state, tf.reshape(tf.slice(previous, [0, len - 1, 0], [batch, 1, d]), [batch, d]))).toBeLessThanOrEqual(1e-6);

      // Gradients of a weighted sum of the outputs with respect to the input, the state and every weight.
      const gradientsOf = (layer: (input: tf.Tensor3D, initial: tf.Tensor2D) => tf.Tensor3D) => {
        const inputGradients = tf.grads((input: tf.Tensor, initial: tf.Tensor) => tf.sum(tf.mul(layer(input as tf.Tensor3D, initial as tf.Tensor2D), outputWeights)))([x, state]);
        const variableGradients = tf.variableGrads(() => tf.sum(tf.mul(layer(x, state), outputWeights)) as tf.Scalar, [weights.inputKernel, weights.inputBias, weights.recurrentKernel]);
        return [...inputGradients, variableGradients.grads[weights.inputKernel.name], variableGradients.grads[weights.inputBias.name], variableGradients.grads[weights.recurrentKernel.name]];
      };
      const actual = gradientsOf((input, initial) => runGruLayer(input, mask, initial, weights).output);
      const expected = gradientsOf((input, initial) => previousGruLayer(input, mask, initial, weights));
      const names = ['x', 'state', 'inputKernel', 'inputBias', 'recurrentKernel'];
      expect(tooFar(names, actual, expected, 1e-5)).toEqual([]);
      weights.inputKernel.dispose();
      weights.inputBias.dispose();
      weights.recurrentKernel.dispose();
    });
  });
});

describe('wkvParallel against wkvRecurrent', () => {
  // Decay centres (timeDecay = centre ± 1 across channels): w = exp(−12 ± 1) ≤ 2e−5 is a decay
  // near 0, so the sums barely fade over 200 steps. w = exp(3 ± 1) ≥ 7 leaves under e^−7 of the
  // past after one step.
  const cases: [string, number, number, number, number, Padding | null][] = [
    ['one step', 2, 1, 3, 0, null],
    ['unpadded', 3, 9, 4, 0, null],
    ['decay near 0, length 200', 2, 200, 3, -12, null],
    ['fast decay, length 200', 2, 200, 3, 3, null],
    ['left-padded', 3, 16, 4, -1, { real: [16, 6, 0], side: 'left' }],
    ['right-padded', 3, 16, 4, -1, { real: [2, 16, 9], side: 'right' }],
  ];

  it.each(cases)('%s: forward and gradients', (_name, batch, len, d, decayCentre, padding) => {
    tf.tidy(() => {
      const random = new SeededRandom(batch * 1000 + len + d);
      const keys = normal(random, [batch, len, d], 2) as tf.Tensor3D;
      const values = normal(random, [batch, len, d]) as tf.Tensor3D;
      const mask = padding === null ? (tf.ones([batch, len, 1]) as tf.Tensor3D) : paddedMask(len, padding.real, padding.side);
      // Per-channel decays spread around the centre, and bonuses of both signs.
      const timeDecay = tf.add(decayCentre, tf.linspace(-1, 1, d)) as tf.Tensor1D;
      const timeFirst = tf.linspace(-2, 1, d) as tf.Tensor1D;
      const comparedSteps = upToLastReal(mask, d);
      const outputWeights = tf.mul(normal(random, [batch, len, d]), comparedSteps);
      expect(parallelWkvIsSafe(keys, timeFirst)).toBe(true);

      // Forward at every step up to the last real item of each row.
      const parallel = wkvParallel(keys, values, mask, timeDecay, timeFirst);
      const recurrent = wkvRecurrent(keys, values, mask, timeDecay, timeFirst, emptyWkvState(batch, d)).output;
      expect(relativeError(tf.mul(parallel, comparedSteps), tf.mul(recurrent, comparedSteps))).toBeLessThanOrEqual(1e-5);
      expect(tf.all(tf.isFinite(parallel)).dataSync()[0]).toBe(1);

      // Gradients with respect to keys, values, decay and bonus. The decay also enters with
      // weight 0, because tf.grads rejects an input that the output does not depend on, and
      // the output of one step does not depend on the decay.
      const gradientsOf = (wkv: (k: tf.Tensor3D, v: tf.Tensor3D, w: tf.Tensor1D, u: tf.Tensor1D) => tf.Tensor3D): tf.Tensor[] =>
        tf.grads((k: tf.Tensor, v: tf.Tensor, w: tf.Tensor, u: tf.Tensor) => tf.add(tf.sum(tf.mul(wkv(k as tf.Tensor3D, v as tf.Tensor3D, w as tf.Tensor1D, u as tf.Tensor1D), outputWeights)), tf.mul(tf.sum(w), 0)))([keys, values, timeDecay, timeFirst]);
      const actual = gradientsOf((k, v, w, u) => wkvParallel(k, v, mask, w, u));
      const expected = gradientsOf((k, v, w, u) => wkvRecurrent(k, v, mask, w, u, emptyWkvState(batch, d)).output);
      expect(tooFar(['keys', 'values', 'timeDecay', 'timeFirst'], actual, expected, 1e-5)).toEqual([]);
    });
  });

  it('is flagged unsafe past the maximum spread', () => {
    tf.tidy(() => {
      // Row 0, channel 0: keys 0 and 31 with u = 0 spread by 31. Channel 1 spreads by 1.
      const keys = tf.tensor3d([0, 0, 31, 1], [1, 2, 2]);
      expect(parallelWkvIsSafe(keys, tf.tensor1d([0, 0]))).toBe(false);
      // A bonus of 2 narrows the spread of channel 0 to 31 − 2 = 29 ≤ 30.
      expect(PARALLEL_WKV_MAX_SPREAD).toBe(30);
      expect(parallelWkvIsSafe(keys, tf.tensor1d([2, 0]))).toBe(true);
    });
  });
});

describe('Rwkv training path against the recurrent form', () => {
  const ITEMS = 30;
  const config = resolveRecurrentConfig('test', { itemCount: ITEMS, maxLength: 40, hiddenSize: 8, layers: 2, dropout: 0, l2NormalizeEmbeddings: false }, RWKV_DEFAULTS);

  it.each(['left', 'right'] as const)('%s-padded batch: outputs and gradients', (side) => {
    const parallel = new Rwkv(config, 3);
    const recurrent = new RecurrentOnlyRwkv(config, 3);
    const lengths = [12, 5, 9];
    const len = 12;
    const items = new Int32Array(lengths.length * len);
    const rows: number[] = [];
    lengths.forEach((length, row) => {
      for (let i = 0; i < length; i++) {
        const t = side === 'left' ? len - length + i : i;
        items[row * len + t] = ((row * 11 + i * 7) % ITEMS) + 1;
        rows.push(row * len + t);
      }
    });
    const batch = { batch: lengths.length, len, items, positions: new Int32Array(items.length), timestamps: null };
    tf.tidy(() => {
      const rowIndex = tf.tensor1d(rows, 'int32');
      const outputWeights = normal(new SeededRandom(5), [rows.length, config.hiddenSize]);
      const lossOf = (model: Rwkv) => () => tf.sum(tf.mul(tf.gather(model.encodeBatch(batch, null), rowIndex), outputWeights)) as tf.Scalar;
      expect(relativeError(tf.gather(parallel.encodeBatch(batch, null), rowIndex), tf.gather(recurrent.encodeBatch(batch, null), rowIndex))).toBeLessThanOrEqual(1e-5);
      const actual = tf.variableGrads(lossOf(parallel), parallel.variables.map((entry) => entry.variable));
      const expected = tf.variableGrads(lossOf(recurrent), recurrent.variables.map((entry) => entry.variable));
      const names = parallel.variables.map((entry) => entry.name);
      const actualGradients = parallel.variables.map((entry) => actual.grads[entry.variable.name]);
      const expectedGradients = recurrent.variables.map((entry) => expected.grads[entry.variable.name]);
      expect(tooFar(names, actualGradients, expectedGradients, 1e-5)).toEqual([]);
    });
    parallel.dispose();
    recurrent.dispose();
  });
});

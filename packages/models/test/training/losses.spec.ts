import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/index';
import type { TrainableModel } from '../../src/model/types';
import { l2Normalize } from '../../src/ops/layers';
import { SeededRandom } from '../../src/random';
import { computeLoss, drawPerPositionNegatives, drawSharedNegatives } from '../../src/training/losses';

// Item embeddings of a catalogue of 4 items (row 0 is padding), d = 2, not normalised.
const TABLE = [
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 1],
  [-1, 2],
];

/** Builds a stand-in model with the two members that `computeLoss` reads: a plain lookup in TABLE. */
function tableModel(): TrainableModel {
  return {
    normalizesEmbeddings: false,
    outputEmbeddings: (items: tf.Tensor1D) => tf.gather(tf.tensor2d(TABLE), items) as tf.Tensor2D,
  } as unknown as TrainableModel;
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, value, k) => sum + value * b[k], 0);
}

/** Computes the mean over positions of logsumexp([positive, negatives]) − positive in float64. A negative equal to the target gets −5e4. */
function expectedLoss(hidden: number[][], targets: number[], negativesOf: (position: number) => number[], table: number[][] = TABLE): number {
  const losses = hidden.map((h, t) => {
    const positive = dot(h, table[targets[t]]);
    const logits = [positive, ...negativesOf(t).map((id) => dot(h, table[id]) + (id === targets[t] ? -5e4 : 0))];
    const max = Math.max(...logits);
    return max + Math.log(logits.reduce((sum, logit) => sum + Math.exp(logit - max), 0)) - positive;
  });
  return losses.reduce((sum, value) => sum + value, 0) / losses.length;
}

describe.each(['cpu', 'wasm'] as const)('sampled softmax on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  const hidden = [
    [0.5, -1],
    [2, 1],
    [-1, 0.25],
  ];
  const targets = Int32Array.from([1, 3, 4]);

  it('per-position negatives match the formula', () => {
    // Position 1 draws its own target (3) once, and position 2 draws item 2 twice.
    const negativeIds = Int32Array.from([2, 3, 4, 3, 1, 2, 2, 2, 1]);
    const loss = tf.tidy(() => computeLoss(tableModel(), 'sampled-softmax', { hidden: tf.tensor2d(hidden), targets, itemCount: 4, temperature: 1, negatives: 3, random: new SeededRandom(1), negativeIds }).dataSync()[0]);

    const expected = expectedLoss(hidden, Array.from(targets), (t) => Array.from(negativeIds.subarray(3 * t, 3 * t + 3)));
    expect(Math.abs(loss - expected)).toBeLessThan(1e-5);
  });

  it('scales normalised logits by the temperature', () => {
    // With normalised embeddings every logit is a cosine divided by the temperature 0.5.
    const normalised = { normalizesEmbeddings: true, outputEmbeddings: (items: tf.Tensor1D) => l2Normalize(tf.gather(tf.tensor2d(TABLE), items) as tf.Tensor2D) } as unknown as TrainableModel;
    const unit = (row: number[]): number[] => row.map((value) => value / Math.hypot(...row));
    const unitHidden = hidden.map(unit);
    const negativeIds = Int32Array.from([2, 3, 4, 3, 1, 2, 2, 2, 1]);
    const loss = tf.tidy(() => computeLoss(normalised, 'sampled-softmax', { hidden: tf.tensor2d(unitHidden), targets, itemCount: 4, temperature: 0.5, negatives: 3, random: new SeededRandom(1), negativeIds }).dataSync()[0]);

    const scaled = unitHidden.map((row) => row.map((value) => value / 0.5));
    const unitTable = TABLE.map((row, id) => (id === 0 ? row : unit(row)));
    const expected = expectedLoss(scaled, Array.from(targets), (t) => Array.from(negativeIds.subarray(3 * t, 3 * t + 3)), unitTable);
    expect(Math.abs(loss - expected)).toBeLessThan(1e-5);
  });

  it('shared negatives match the formula', () => {
    const negativeIds = Int32Array.from([2, 3, 4]);
    const loss = tf.tidy(() => computeLoss(tableModel(), 'sampled-softmax', { hidden: tf.tensor2d(hidden), targets, itemCount: 4, temperature: 1, negatives: 3, random: new SeededRandom(1), negativeIds, negativeSampling: 'shared' }).dataSync()[0]);

    const expected = expectedLoss(hidden, Array.from(targets), () => [2, 3, 4]);
    expect(Math.abs(loss - expected)).toBeLessThan(1e-5);
  });

  it('draws per position by default', () => {
    const inputs = { hidden: tf.tensor2d(hidden), targets, itemCount: 4, temperature: 1, negatives: 3 };
    const perPosition = tf.tidy(() => computeLoss(tableModel(), 'sampled-softmax', { ...inputs, random: new SeededRandom(5) }).dataSync()[0]);
    const shared = tf.tidy(() => computeLoss(tableModel(), 'sampled-softmax', { ...inputs, random: new SeededRandom(5), negativeSampling: 'shared' }).dataSync()[0]);

    const drawn = drawPerPositionNegatives(3, 3, 4, new SeededRandom(5));
    expect(Math.abs(perPosition - expectedLoss(hidden, Array.from(targets), (t) => Array.from(drawn.subarray(3 * t, 3 * t + 3))))).toBeLessThan(1e-5);
    const sharedDrawn = Array.from(drawSharedNegatives(3, 4, new SeededRandom(5)));
    expect(Math.abs(shared - expectedLoss(hidden, Array.from(targets), () => sharedDrawn))).toBeLessThan(1e-5);
  });

  it('rejects negatives of the wrong count', () => {
    const inputs = { hidden: tf.tensor2d(hidden), targets, itemCount: 4, temperature: 1, negatives: 3, random: new SeededRandom(1), negativeIds: Int32Array.from([2, 3, 4]) };
    expect(() => computeLoss(tableModel(), 'sampled-softmax', inputs)).toThrow("computeLoss: invalid inputs.negativeIds: expected 9 ids for the 'sampled-softmax' loss, received 3.");
  });
});

describe('drawPerPositionNegatives', () => {
  it('draws repeatable ids in range', () => {
    const first = drawPerPositionNegatives(50, 7, 5, new SeededRandom(9));
    expect(first).toHaveLength(350);
    expect(Math.min(...first)).toBe(1);
    expect(Math.max(...first)).toBe(5);
    expect(Array.from(drawPerPositionNegatives(50, 7, 5, new SeededRandom(9)))).toEqual(Array.from(first));
  });
});

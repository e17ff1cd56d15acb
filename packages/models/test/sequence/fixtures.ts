import { cacheBytes, headPositions, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHstu, createSasRec, initBackend, type SequentialModel } from '../../src/index';
import type { TrainableModel } from '../../src/model/types';
import { expectClose, lastRow } from '../tolerance';

/** SASRec with 40 items, max length 24, d 16, 2 heads (dHead 8), 2 layers and dropout 0.2, plus `fields`. */
export function smallSasRec(fields: object, seed = 11): SequentialModel {
  return createSasRec({ itemCount: 40, maxLength: 24, hiddenSize: 16, layers: 2, heads: 2, dropout: 0.2, ...fields }, seed);
}

/** Items 1..40 in a scrambled order. */
export function sequence(length: number, offset = 0): Int32Array {
  return Int32Array.from({ length }, (_, i) => (((i + offset) * 7) % 40) + 1);
}

/** Original positions of the rows of the first head of each layer. */
export function rowPositions(cache: KVCache): number[][] {
  return cache.layers.map((layer) => Array.from(headPositions(layer.heads[0])));
}

/** HSTU with 40 items, max length 24, d 12, 2 heads (dqk 6, dv 5), 2 layers, 16 time buckets and dropout 0.2, plus `fields`. */
export function smallHstu(fields: object, seed = 13): SequentialModel {
  return createHstu({ itemCount: 40, maxLength: 24, hiddenSize: 12, layers: 2, heads: 2, queryKeySize: 6, valueSize: 5, timeBuckets: 16, dropout: 0.2, ...fields }, seed);
}

/** Increasing timestamps in seconds with gaps from 1 s to 10⁶ s, so that many time buckets occur. */
export function timestamps(length: number, offset = 0): Float64Array {
  const times = new Float64Array(length); // [length]
  for (let i = 1; i < length; i++) {
    times[i] = times[i - 1] + Math.pow(10, ((i + offset) * 37) % 7);
  }
  return times;
}

/**
 * Sets every relative position and time bucket bias of an HSTU model to values of order 1
 * (sin and cos of the index). A wrong relative position or time bucket then changes the output
 * by far more than a test tolerance. The initial biases (standard deviation 0.02) move the
 * output by less than 1e-5.
 */
export function amplifyRelativeBias(model: SequentialModel): void {
  const trainable = model as TrainableModel;
  for (const { name, variable } of trainable.variables) {
    if (name.endsWith('relative_position_bias') || name.endsWith('time_bucket_bias')) {
      const phase = name.endsWith('relative_position_bias') ? Math.sin : Math.cos;
      variable.assign(tf.tensor1d(Float32Array.from({ length: variable.size }, (_, index) => phase(index))));
    }
  }
  trainable.weightsChanged();
}

/**
 * Registers the wasm backend before the tests of the enclosing `describe` and a fresh scratch
 * folder for each of them, removed afterwards.
 *
 * @returns the current test's folder.
 */
export function useScratchFolder(prefix: string): () => string {
  let dir = '';

  beforeAll(async () => {
    await initBackend('wasm');
  });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), prefix));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  return () => dir;
}

/**
 * Registers the tests that the batched paths of a SASRec-shaped model without timestamps equal
 * its one-sequence paths: `forwardLastBatch`, a left-padded training batch and `prefillBatch`.
 *
 * @param getModel - the model under test, read when each test runs.
 * @param hiddenSize - its d, the width of a hidden state.
 */
export function itMatchesBatchedPaths(getModel: () => SequentialModel, hiddenSize: number): void {
  it('forwardLastBatch equals forwardLast', () => {
    const model = getModel();
    const sequences = [sequence(3), sequence(9, 1), sequence(12, 2), sequence(5, 4)];
    const batched = model.forwardLastBatch(sequences, { batchSize: 4 });
    sequences.forEach((items, index) => expectClose(batched.subarray(index * hiddenSize, (index + 1) * hiddenSize), model.forwardLast(items), 1e-5));
  });

  it('left-padded training batch equals forwardLast', () => {
    // encodeBatch with left padding, as training batches may be laid out.
    const trainable = getModel() as TrainableModel;
    const items = new Int32Array([0, 0, 0, ...sequence(9)]); // [1, 12]
    const positions = new Int32Array([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const hidden = tf.tidy(() => trainable.encodeBatch({ batch: 1, len: 12, items, positions, timestamps: null }, null).dataSync() as Float32Array);
    expectClose(lastRow(hidden, hiddenSize), getModel().forwardLast(sequence(9)), 1e-5);
  });

  it('prefillBatch equals prefill per history', () => {
    const model = getModel();
    const histories = [sequence(6), sequence(9, 1)];
    const batched = model.prefillBatch(histories);
    histories.forEach((history, index) => {
      const single = model.prefill(history);
      const last = single.cache.layers.length - 1;
      expect(cacheBytes(batched[index].cache)).toBe(cacheBytes(single.cache));
      expectClose(batched[index].cache.layers[last].heads[0].keys.decode(), single.cache.layers[last].heads[0].keys.decode(), 1e-6);
      expectClose(batched[index].cache.layers[last].heads[0].values.decode(), single.cache.layers[last].heads[0].values.decode(), 1e-6);
    });
  });
}

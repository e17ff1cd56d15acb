import { headPositions, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { createHstu, createSasRec, type SequentialModel } from '../../src/index';
import type { TrainableModel } from '../../src/model/types';

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

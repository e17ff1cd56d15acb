import * as tf from '@tensorflow/tfjs';
import { dropout } from '../ops/layers';
import type { SeededRandom } from '../random';
import type { BeaconBatch } from './beacon';

/** Embedding tables that the input of a beacon model reads. */
export interface BeaconEmbeddingWeights {
  /** Item embedding, `[items + 1, d]`. */
  itemEmbedding: tf.Tensor;
  /** Learned beacon embedding, `[beaconsPerChunk, d]`. */
  beaconEmbedding: tf.Tensor;
  /** Position embedding, `[maxLength, d]`. */
  positionEmbedding: tf.Tensor;
}

/**
 * Embeds the rows of a batch expanded with beacon tokens (see `expandBeaconBatch`), the input
 * of SASRec and HSTU beacon models in training. An item row is its item embedding × √d, and a
 * beacon row is its beacon embedding. Each row then adds its position embedding and passes
 * through dropout, and padding rows are set to zero.
 *
 * @returns `x`, `[batch · len, d]` with `len` the expanded length, and `validMask`, `[batch · len, 1]`.
 */
export function embedBeaconBatch(
  expanded: BeaconBatch,
  batchSize: number,
  weights: BeaconEmbeddingWeights,
  hiddenSize: number,
  dropoutRate: number,
  random: SeededRandom | null,
): { x: tf.Tensor2D; validMask: tf.Tensor2D } {
  const rows = batchSize * expanded.len;

  // Token rows: the item embedding for items, the beacon embedding for beacons.
  const isBeacon = Float32Array.from(expanded.beaconIndex, (index) => (index >= 0 ? 1 : 0)); // [rows]
  const isItem = Float32Array.from(expanded.items, (item) => (item === 0 ? 0 : 1)); // [rows]
  const beaconIds = Int32Array.from(expanded.beaconIndex, (index) => Math.max(index, 0)); // [rows]
  const itemRows = tf.mul(tf.gather(weights.itemEmbedding, tf.tensor1d(expanded.items, 'int32')), Math.sqrt(hiddenSize)); // [rows, d]
  const beaconRows = tf.gather(weights.beaconEmbedding, tf.tensor1d(beaconIds, 'int32')); // [rows, d]
  const tokenRows = tf.add(tf.mul(itemRows, tf.tensor2d(isItem, [rows, 1])), tf.mul(beaconRows, tf.tensor2d(isBeacon, [rows, 1]))); // [rows, d]

  // Positions, dropout and the padding mask.
  const positionRows = tf.gather(weights.positionEmbedding, tf.tensor1d(expanded.positions, 'int32')); // [rows, d]
  const validMask = tf.tensor2d(expanded.valid, [rows, 1]); // [rows, 1]
  const x = tf.mul(dropout(tf.add(tokenRows, positionRows) as tf.Tensor2D, dropoutRate, random), validMask) as tf.Tensor2D; // [rows, d]
  return { x, validMask };
}

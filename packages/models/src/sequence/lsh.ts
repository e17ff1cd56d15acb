import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import { mergeHeads, splitHeads } from '../ops/attention';
import { BLOCKED, dropout } from '../ops/layers';
import { batchMatMul } from '../ops/matmul';
import { SeededRandom } from '../random';

// Reformer-style LSH attention (Nikita Kitaev, Łukasz Kaiser and Anselm Levskaya, "Reformer:
// The Efficient Transformer", ICLR 2020, arXiv:2001.04451), for causal attention with a cache.
//
// Queries and keys share one projection: with s = LN(x) · W_q + b_q per head in SASRec, or
// s = SiLU(LN(x) · W_q) in HSTU, the query is s (HSTU scales it by 1/√dqk) and the key is
// s / ‖s‖. Angular LSH hashes each token into one of `buckets` buckets,
// argmax([s·R; −s·R]) with a fixed random rotation R of shape [dHead, buckets / 2] per layer
// and head, drawn from `seed`. A query attends causally to the keys of its own bucket only.
// Deviations from Reformer: one hash round, and exact attention over the whole bucket instead
// of sorted chunks of fixed size. A token may also attend to itself, so every query has at
// least one key. Reformer masks that unless no other key is available.

/** LSH attention settings of a model configuration. */
export interface LshConfig {
  /**
   * Hash buckets per layer and head, an even number.
   * @minimum 2
   */
  buckets: number;
  /**
   * Seed of the random rotations. Default value: 0
   * @minimum 0
   */
  seed?: number;
}

/**
 * Validates the `lsh` field of a model configuration.
 *
 * @param where - function named in errors, for example `createSasRec`.
 * @throws TypeError when `lsh` is not an object.
 * @throws RangeError when `buckets` is not an even integer ≥ 2 or `seed` is not an integer ≥ 0.
 */
export function validateLsh(where: string, lsh: LshConfig): void {
  if (lsh === null || typeof lsh !== 'object') {
    throw new TypeError(invalidArgument(where, 'config.lsh', 'an object { buckets, seed }', String(lsh)));
  }
  if (!Number.isInteger(lsh.buckets) || lsh.buckets < 2 || lsh.buckets % 2 !== 0) {
    throw new RangeError(invalidArgument(where, 'config.lsh.buckets', 'an even integer ≥ 2', String(lsh.buckets)));
  }
  if (lsh.seed !== undefined && (!Number.isInteger(lsh.seed) || lsh.seed < 0)) {
    throw new RangeError(invalidArgument(where, 'config.lsh.seed', 'an integer ≥ 0', String(lsh.seed)));
  }
}

/**
 * Draws the fixed random rotations, standard normal: per layer and head `[dHead, buckets / 2]`
 * row-major. They are not trained and not stored in checkpoints, because `seed` determines them.
 */
export function createRotations(lsh: LshConfig, layers: number, heads: number, dHead: number): Float32Array[][] {
  const random = new SeededRandom(lsh.seed ?? 0);
  const half = lsh.buckets / 2;
  return Array.from({ length: layers }, () =>
    Array.from({ length: heads }, () => Float32Array.from({ length: dHead * half }, () => random.normal())),
  );
}

/**
 * Hashes vectors of one head into buckets: argmax over `[v · R, −v · R]`, ties to the lower
 * bucket. Scaling v by a positive number does not change its bucket.
 *
 * @param vectors - `[n, width]` row-major; the head's columns start at `offset`.
 * @param rotation - `[dHead, buckets / 2]` row-major.
 * @returns `[n]` bucket ids.
 */
export function hashBuckets(vectors: Float32Array, n: number, width: number, offset: number, dHead: number, rotation: Float32Array, buckets: number): Int32Array {
  const half = buckets / 2;
  const out = new Int32Array(n); // [n]
  const projected = new Float64Array(half); // [buckets / 2]
  for (let row = 0; row < n; row++) {
    projected.fill(0);
    for (let c = 0; c < dHead; c++) {
      const value = vectors[row * width + offset + c];
      for (let b = 0; b < half; b++) {
        projected[b] += value * rotation[c * half + b];
      }
    }
    let best = 0;
    let bestValue = -Infinity;
    for (let b = 0; b < buckets; b++) {
      const value = b < half ? projected[b] : -projected[b - half];
      if (value > bestValue) {
        best = b;
        bestValue = value;
      }
    }
    out[row] = best;
  }
  return out;
}

/**
 * Divides each head's columns by `sqrt(‖v‖² + 1e-12)`, so that shared-QK keys have unit length.
 * The epsilon sits inside the root because the gradient of `sqrt` at 0 is infinite, which
 * made the training loss NaN on zero rows (padding).
 *
 * @param x - `[n, heads · dHead]`.
 */
export function normalizeHeads(x: tf.Tensor2D, heads: number): tf.Tensor2D {
  const [n, width] = x.shape;
  const perHead = tf.reshape(x, [n, heads, width / heads]);
  const norms = tf.sqrt(tf.add(tf.sum(tf.square(perHead), 2, true), 1e-12));
  return tf.reshape(tf.div(perHead, norms), [n, width]) as tf.Tensor2D;
}

/**
 * Adds the bucket mask to a shared attention bias: per head, query i may attend to key j only
 * when both hash to the same bucket.
 *
 * @param bias - `[batch, len, len]`.
 * @param buckets - per head, `[batch · len]` bucket ids.
 * @param blocked - entry of a pair in different buckets: {@link BLOCKED} for a softmax bias, 0 for HSTU's attention scale.
 * @returns `[batch · heads, len, len]`.
 */
export function bucketBias(bias: Float32Array, buckets: readonly Int32Array[], batch: number, len: number, blocked: number = BLOCKED): Float32Array {
  const heads = buckets.length;
  const out = new Float32Array(batch * heads * len * len); // [batch · heads, len, len]
  for (let b = 0; b < batch; b++) {
    for (let head = 0; head < heads; head++) {
      const ids = buckets[head];
      for (let i = 0; i < len; i++) {
        const from = (b * len + i) * len;
        const to = ((b * heads + head) * len + i) * len;
        for (let j = 0; j < len; j++) {
          out[to + j] = ids[b * len + i] === ids[b * len + j] ? bias[from + j] : blocked;
        }
      }
    }
  }
  return out;
}

/**
 * Computes softmax attention for a padded batch with a separate bias per head.
 *
 * @param queries - `[batch · len, heads · dHead]`, not yet scaled.
 * @param keys - `[batch · len, heads · dHead]`.
 * @param values - `[batch · len, heads · dHead]`.
 * @param bias - `[batch · heads, len, len]`, from {@link bucketBias}.
 * @returns the output `[batch · len, heads · dHead]` and the softmax weights `[batch · heads, len, len]`.
 */
export function perHeadBiasAttention(
  queries: tf.Tensor2D,
  keys: tf.Tensor2D,
  values: tf.Tensor2D,
  bias: tf.Tensor3D,
  batch: number,
  len: number,
  heads: number,
  dropoutRate: number,
  random: SeededRandom | null,
): { output: tf.Tensor2D; probabilities: tf.Tensor3D } {
  const dHead = queries.shape[1] / heads;
  const q = splitHeads(tf.mul(queries, 1 / Math.sqrt(dHead)) as tf.Tensor2D, batch, len, heads); // [batch · heads, len, dHead]
  const kTransposed = tf.transpose(splitHeads(keys, batch, len, heads), [0, 2, 1]); // [batch · heads, dHead, len]
  const v = splitHeads(values, batch, len, heads); // [batch · heads, len, dHead]
  const probabilities = tf.softmax(tf.add(batchMatMul(q, kTransposed), bias)) as tf.Tensor3D; // [batch · heads, len, len]
  const weights = dropout(probabilities, dropoutRate, random);
  return { output: mergeHeads(batchMatMul(weights, v), batch, len, heads), probabilities };
}

/**
 * Blocks, in an append bias `[count, len + count]`, every key whose bucket differs from the
 * query's. Buckets are hashed again from the keys, and the query of new token i has the
 * bucket of its own key, row `len + i`.
 *
 * @param keys - `[len + count, dHead]` cached keys followed by the new tokens' keys.
 * @param blocked - entry of a blocked pair: {@link BLOCKED} for a softmax bias, 0 for HSTU's attention scale.
 */
export function maskOtherBuckets(bias: Float32Array, keys: Float32Array, dHead: number, rotation: Float32Array, buckets: number, len: number, count: number, blocked: number = BLOCKED): void {
  const width = len + count;
  const ids = hashBuckets(keys, width, dHead, 0, dHead, rotation, buckets); // [len + count]
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < width; j++) {
      if (ids[j] !== ids[len + i]) {
        bias[i * width + j] = blocked;
      }
    }
  }
}

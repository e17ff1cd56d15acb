import { BLOCKED } from '../ops/layers';
import { timeBucket, type PointwiseAttentionLayout } from '../ops/pointwise-attention';

/**
 * Builds the softmax attention bias of `count` candidates scored independently after `len`
 * cached keys (M-FALCON): each candidate attends to every cached key, with `log(weight)` for
 * a merged token, and to its own key, never to another candidate's.
 *
 * @param logWeights - `[len]` log of each cached token's weight, or `null` (all weights 1).
 * @returns `[count, len + count]` row-major.
 */
export function candidateBias(logWeights: Float32Array | null, len: number, count: number): Float32Array {
  const width = len + count;
  const bias = new Float32Array(count * width); // [count, len + count]
  for (let i = 0; i < count; i++) {
    const offset = i * width;
    if (logWeights !== null) {
      bias.set(logWeights, offset);
    }
    for (let j = 0; j < count; j++) {
      bias[offset + len + j] = j === i ? 0 : BLOCKED;
    }
  }
  return bias;
}

/**
 * Lays out `count` candidates scored independently after `len` cached keys for HSTU's
 * point-wise attention (M-FALCON). Every candidate sits at position `position` and attends to
 * each cached key with its relative position, time bucket and merge weight. It also attends to
 * its own key at relative position 0 and time difference 0, never to another candidate's key.
 *
 * @param cachedPositions - `[len]` original positions of the cached tokens.
 * @param cachedTimestamps - `[len]` seconds, or `null`.
 * @param cachedWeights - `[len]` merge weights, or `null` (all 1).
 * @param position - position of every candidate, the cache's `seenTokens`.
 * @param newTimestamps - `[count]` seconds, or `null`.
 * @param normalizer - N, the divisor of every attention weight (the maximum length).
 * @returns arrays of `[count, len + count]`.
 */
export function candidateLayout(
  cachedPositions: Int32Array,
  cachedTimestamps: Float64Array | null,
  cachedWeights: Float32Array | null,
  position: number,
  newTimestamps: Float64Array | null,
  count: number,
  normalizer: number,
  buckets: number,
): PointwiseAttentionLayout {
  const len = cachedPositions.length;
  const width = len + count;
  const positionIndex = new Int32Array(count * width); // [count, len + count]
  const timeIndex = new Int32Array(count * width); // [count, len + count]
  const scale = new Float32Array(count * width); // [count, len + count]
  const usesTime = cachedTimestamps !== null || newTimestamps !== null;
  for (let i = 0; i < count; i++) {
    const offset = i * width;
    const time = newTimestamps === null ? 0 : newTimestamps[i];
    for (let j = 0; j < len; j++) {
      positionIndex[offset + j] = position - cachedPositions[j];
      timeIndex[offset + j] = cachedTimestamps === null ? 0 : timeBucket(time - cachedTimestamps[j], buckets);
      scale[offset + j] = (cachedWeights === null ? 1 : cachedWeights[j]) / normalizer;
    }

    // The candidate's own key: relative position 0, time bucket of a zero difference.
    positionIndex[offset + len + i] = 0;
    timeIndex[offset + len + i] = timeBucket(0, buckets);
    scale[offset + len + i] = 1 / normalizer;
  }
  return { positionIndex, sharedPositions: false, timeIndex: usesTime ? timeIndex : null, scale };
}

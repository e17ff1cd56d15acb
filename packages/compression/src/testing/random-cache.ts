import { createFullHead, headLength, type KVCache } from '../kv-cache';
import { createSeededRandom } from '../prng';
import type { AttentionStats } from '../strategy';
import { checkInteger } from '../validation';

/** Shape and seed of a cache made by {@link createRandomCache}. */
export interface RandomCacheOptions {
  /** Number of layers, ≥ 1. */
  readonly layers: number;
  /** KV heads per layer, ≥ 1. */
  readonly kvHeads: number;
  /** Cached tokens per head, ≥ 0. */
  readonly len: number;
  /** Key width, ≥ 1. */
  readonly dKey: number;
  /** Value width, ≥ 1. */
  readonly dValue: number;
  /** Seed of the generator, an integer in [0, 2^32 − 1]. */
  readonly seed: number;
  /** Whether heads store timestamps. @defaultValue false */
  readonly withTimestamps?: boolean;
}

/**
 * Fixture: a float32 cache of uniform random keys and values, for tests of this package and
 * of the packages that use its cache format.
 *
 * Numbers lie in [−1, 1) and each key row is scaled by a factor in [0.5, 1.5), so that key
 * norms differ. Timestamps, when requested, rise by one hour per token from 1.7e9 s. Item
 * ids are 1..len. The same options always give the same cache.
 *
 * @throws RangeError when a count is out of range or the seed is invalid.
 * @example
 * const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 20, dKey: 8, dValue: 8, seed: 1 });
 */
export function createRandomCache(options: RandomCacheOptions): KVCache {
  const where = 'createRandomCache';
  const layers = checkInteger(where, 'layers', options.layers, 1);
  const kvHeads = checkInteger(where, 'kvHeads', options.kvHeads, 1);
  const len = checkInteger(where, 'len', options.len, 0);
  const dKey = checkInteger(where, 'dKey', options.dKey, 1);
  const dValue = checkInteger(where, 'dValue', options.dValue, 1);
  const random = createSeededRandom(options.seed);

  const makeHead = () => {
    const keys = new Float32Array(len * dKey); // [len, dKey]
    for (let i = 0; i < len; i++) {
      const scale = 0.5 + random();
      for (let c = 0; c < dKey; c++) {
        keys[i * dKey + c] = scale * (2 * random() - 1);
      }
    }
    const values = new Float32Array(len * dValue); // [len, dValue]
    for (let i = 0; i < values.length; i++) {
      values[i] = 2 * random() - 1;
    }
    let timestamps: Float64Array | null = null;
    if (options.withTimestamps === true) {
      timestamps = new Float64Array(len); // [len]
      for (let i = 0; i < len; i++) {
        timestamps[i] = 1.7e9 + 3600 * i;
      }
    }
    return createFullHead(keys, values, len, dKey, dValue, timestamps);
  };

  const itemIds = new Int32Array(len); // [len]
  for (let i = 0; i < len; i++) {
    itemIds[i] = i + 1;
  }
  return {
    layers: Array.from({ length: layers }, () => ({ heads: Array.from({ length: kvHeads }, makeHead) })),
    seenTokens: len,
    itemIds,
  };
}

/**
 * Fixture: attention statistics consistent with a cache's shape, from a causal softmax over
 * random logits in [0, 3) per layer and head.
 *
 * Query `q` attends to keys `0..q` with weights that sum to 1. `accumulated` sums each key's
 * weights over all queries; `window` contains the rows of the last `min(windowSize, len)`
 * queries (zero for keys after the query). Layers may hold different lengths; the window
 * size is the smallest of `windowSize` and every layer's length.
 *
 * @param windowSize - requested observation window, ≥ 1.
 * @param seed - seed of the generator.
 * @example
 * const stats = createSyntheticStats(cache, { windowSize: 4, seed: 2 });
 */
export function createSyntheticStats(cache: KVCache, options: { readonly windowSize: number; readonly seed: number }): AttentionStats {
  checkInteger('createSyntheticStats', 'windowSize', options.windowSize, 1);
  const random = createSeededRandom(options.seed);
  const lengths = cache.layers.map((layer) => (layer.heads.length > 0 ? headLength(layer.heads[0]) : 0));
  const windowSize = Math.max(1, Math.min(options.windowSize, ...lengths));

  const accumulated: Float32Array[] = [];
  const window: Float32Array[] = [];
  cache.layers.forEach((layer, l) => {
    const len = lengths[l];
    const kvHeads = layer.heads.length;
    const layerAccumulated = new Float32Array(kvHeads * len); // [kvHeads, len]
    const layerWindow = new Float32Array(kvHeads * windowSize * len); // [kvHeads, windowSize, len]
    for (let h = 0; h < kvHeads; h++) {
      const sums = new Float64Array(len); // [len]
      for (let q = 0; q < len; q++) {
        // Causal softmax of query q over keys 0..q.
        const weights = new Float64Array(q + 1); // [q + 1]
        let total = 0;
        for (let j = 0; j <= q; j++) {
          weights[j] = Math.exp(3 * random());
          total += weights[j];
        }
        const windowRow = q - (len - windowSize);
        for (let j = 0; j <= q; j++) {
          const weight = weights[j] / total;
          sums[j] += weight;
          if (windowRow >= 0) {
            layerWindow[(h * windowSize + windowRow) * len + j] = weight;
          }
        }
      }
      layerAccumulated.set(sums, h * len);
    }
    accumulated.push(layerAccumulated);
    window.push(layerWindow);
  });
  return { accumulated, window, windowSize };
}

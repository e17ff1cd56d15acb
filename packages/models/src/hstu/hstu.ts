import { appendToHead, headPositions, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { invalidArgument, positionOutOfRange } from '../messages';
import { BaseSequentialModel, checkCacheLayout, mergeWeights, type EncoderRecord } from '../model/base-model';
import { validateItems, validateTimestamps } from '../model/input';
import type { AppendResult, EncoderBatch, SequenceOptions, SequentialModel } from '../model/types';
import { dense, dropout, l2Normalize, layerNorm } from '../ops/layers';
import { matMul2d } from '../ops/matmul';
import { appendLayout, batchedPointwiseAttention, batchLayout, cachedPointwiseAttention } from '../ops/pointwise-attention';
import type { SeededRandom } from '../random';
import { resolveHstuConfig, type HstuConfig } from './config';
import { createHstuWeights, type HstuLayerWeights, type HstuWeights } from './weights';

/** Layer-norm epsilon of generative-recommenders' HSTU. */
const NORM_EPSILON = 1e-6;

/** U, V, Q, K of a set of tokens, heads side by side. */
interface Projections {
  u: tf.Tensor2D; // [n, heads · dv]
  v: tf.Tensor2D; // [n, heads · dv]
  q: tf.Tensor2D; // [n, heads · dqk], scaled by α = 1/√dqk
  k: tf.Tensor2D; // [n, heads · dqk]
}

/**
 * Creates an HSTU model with weights drawn from `seed`.
 *
 * HSTU (Hierarchical Sequential Transduction Unit): each layer computes
 * `U, V, Q, K = SiLU(LN(x) · W)`, point-wise attention `A = SiLU(α·Q·Kᵀ + rab) / N` over
 * earlier tokens (no softmax; N = maxLength, α = 1/√dqk), and `x ← x + f2(LN(A·V) ⊙ U)` with
 * dropout before f2. The relative attention bias `rab` is a learned scalar per relative
 * position plus a learned scalar per logarithmic bucket of the time difference, shared by the
 * heads. The input is the item embedding times √d plus a learned position embedding; the
 * output and the scoring embeddings are L2-normalised. Layer norms have no learned scale.
 *
 * Deviation from paper: the time bucket of query i and key j uses t_i − t_j, the query's own
 * timestamp. generative-recommenders uses the timestamp of the item after the query (the one
 * being predicted), which is unknown for the last token, and which would make the cached keys
 * of a history depend on the request that follows it. Positions count from 0 at the first
 * item of the window, as in SASRec here.
 *
 * @see Jiaqi Zhai et al., "Actions Speak Louder than Words: Trillion-Parameter Sequential Transducers for Generative Recommendations", ICML 2024, arXiv:2402.17152.
 * @param config - `itemCount` is required; see {@link HstuConfig} for the other fields and defaults.
 * @param seed - seed of the weight initialisation.
 * @throws RangeError naming an invalid configuration field.
 * @example
 * const model = createHstu({ itemCount: 3706 }, 42);
 * const { cache } = model.prefill(history, { timestamps });
 * const { hidden } = model.append(cache, request, { timestamps: requestTimes });
 */
export function createHstu(config: Partial<HstuConfig> & { itemCount: number }, seed: number): SequentialModel {
  if (!Number.isFinite(seed)) {
    throw new RangeError(invalidArgument('createHstu', 'seed', 'a finite number', String(seed)));
  }
  return new Hstu(resolveHstuConfig(config), seed);
}

/** HSTU with cached incremental inference; see {@link createHstu}. */
export class Hstu extends BaseSequentialModel {
  readonly kind = 'hstu' as const;
  declare readonly config: Readonly<HstuConfig>;
  private readonly weights: HstuWeights;

  constructor(config: HstuConfig, seed: number) {
    const created = createHstuWeights(config, seed);
    super(Object.freeze({ ...config }), created.variables, created.weights.itemEmbedding);
    this.weights = created.weights;
  }

  protected get label(): string {
    return 'Hstu';
  }

  protected get keySize(): number {
    return this.config.queryKeySize;
  }

  protected get valueSize(): number {
    return this.config.valueSize;
  }

  protected get usesTime(): boolean {
    return true;
  }

  append(cache: KVCache, items: Int32Array, options: SequenceOptions = {}): AppendResult {
    // Validate the request against the cache and the position range.
    const where = 'Hstu.append';
    validateItems(where, 'items', items, this.config.itemCount);
    if (items.length === 0) {
      throw new RangeError(invalidArgument(where, 'items', 'at least one item', 'an empty array'));
    }
    validateTimestamps(where, options.timestamps, items.length);
    const { layers, heads, queryKeySize: dqk, valueSize: dv, maxLength, timeBuckets } = this.config;
    checkCacheLayout(where, cache, layers, heads, dqk, dv);
    const cacheHasTime = cache.layers[0].heads[0].timestamps !== null;
    if (cacheHasTime !== (options.timestamps !== undefined)) {
      const expected = cacheHasTime ? 'timestamps, because the cache stores them' : 'no timestamps, because the cache was prefilled without them';
      throw new TypeError(invalidArgument(where, 'options.timestamps', expected, options.timestamps === undefined ? 'none' : `${options.timestamps.length} timestamps`));
    }
    const count = items.length;
    const firstPosition = cache.seenTokens;
    if (firstPosition + count > maxLength) {
      throw new RangeError(positionOutOfRange(where, firstPosition, count, maxLength));
    }
    const newTimes = options.timestamps ?? null;

    // Run the new tokens through every layer against the cached keys and values.
    const newKeys: Float32Array[][] = []; // [layer][head] -> [count, dqk]
    const newValues: Float32Array[][] = []; // [layer][head] -> [count, dv]
    const hidden = tf.tidy(() => {
      const positions = Int32Array.from({ length: count }, (_, i) => firstPosition + i); // [count]
      let x = this.embed(items, positions, null); // [count, d]
      for (let layer = 0; layer < layers; layer++) {
        const weights = this.weights.layers[layer];
        const { u, v, q, k } = this.project(weights, x);

        // Attend head by head: heads may keep different cached tokens.
        const outputs: tf.Tensor2D[] = [];
        newKeys.push([]);
        newValues.push([]);
        for (let head = 0; head < heads; head++) {
          const cached = cache.layers[layer].heads[head];
          const len = cached.keys.rows;
          const headQueries = tf.slice(q, [0, head * dqk], [count, dqk]); // [count, dqk]
          const headKeys = tf.slice(k, [0, head * dqk], [count, dqk]); // [count, dqk]
          const headValues = tf.slice(v, [0, head * dv], [count, dv]); // [count, dv]
          const allKeys = tf.concat([tf.tensor2d(cached.keys.decode(), [len, dqk]), headKeys], 0); // [len + count, dqk]
          const allValues = tf.concat([tf.tensor2d(cached.values.decode(), [len, dv]), headValues], 0); // [len + count, dv]
          const layout = appendLayout(headPositions(cached), cached.timestamps, mergeWeights(where, cached), firstPosition, newTimes, count, maxLength, timeBuckets);
          outputs.push(cachedPointwiseAttention(headQueries, allKeys, allValues, layout, weights.positionBias as tf.Tensor1D, weights.timeBias as tf.Tensor1D));
          newKeys[layer].push(headKeys.dataSync() as Float32Array);
          newValues[layer].push(headValues.dataSync() as Float32Array);
        }
        const attended = heads === 1 ? outputs[0] : (tf.concat(outputs, 1) as tf.Tensor2D); // [count, heads · dv]
        x = this.finishLayer(weights, x, attended, u, null, null);
      }
      return this.output(x).dataSync() as Float32Array; // [count, d]
    });

    // Grow the cache with the new tokens' keys, values and timestamps.
    const grown = cache.layers.map((layerCache, layer) => ({
      heads: layerCache.heads.map((head, index) => appendToHead(head, newKeys[layer][index], newValues[layer][index], count, firstPosition, newTimes === null ? null : newTimes.slice())),
    }));
    const itemIds = new Int32Array(cache.itemIds.length + count); // [seenTokens + count]
    itemIds.set(cache.itemIds);
    itemIds.set(items, cache.itemIds.length);
    return { hidden, cache: { layers: grown, seenTokens: firstPosition + count, itemIds } };
  }

  protected encode(batch: EncoderBatch, random: SeededRandom | null, record: EncoderRecord | null): tf.Tensor2D {
    const { layers, heads, maxLength, timeBuckets } = this.config;

    // Embed the items; lay out the attention pairs once for all layers.
    const valid = Float32Array.from(batch.items, (item) => (item === 0 ? 0 : 1)); // [batch · len]
    const validMask = tf.tensor2d(valid, [valid.length, 1]); // [batch · len, 1]
    const layout = batchLayout(batch.items, batch.positions, batch.timestamps, batch.batch, batch.len, maxLength, timeBuckets);
    let x = tf.mul(this.embed(batch.items, batch.positions, random), validMask) as tf.Tensor2D; // [batch · len, d]

    // HSTU layers.
    for (let layer = 0; layer < layers; layer++) {
      const weights = this.weights.layers[layer];
      const { u, v, q, k } = this.project(weights, x);
      const attention = batchedPointwiseAttention(q, k, v, layout, weights.positionBias as tf.Tensor1D, weights.timeBias as tf.Tensor1D, batch.batch, batch.len, heads, record !== null && record.weights !== null);
      if (record !== null) {
        record.keys.push(k);
        record.values.push(v);
        if (record.weights !== null && attention.weights !== null) {
          record.weights.push(attention.weights);
        }
      }
      x = this.finishLayer(weights, x, attention.output, u, validMask, random);
    }
    return this.output(x);
  }

  /** Item embedding × √d + position embedding, with dropout when training, `[n, d]`. */
  private embed(items: Int32Array, positions: Int32Array, random: SeededRandom | null): tf.Tensor2D {
    const itemRows = tf.gather(this.weights.itemEmbedding, tf.tensor1d(items, 'int32')) as tf.Tensor2D; // [n, d]
    const positionRows = tf.gather(this.weights.positionEmbedding, tf.tensor1d(positions, 'int32')) as tf.Tensor2D; // [n, d]
    const x = tf.add(tf.mul(itemRows, Math.sqrt(this.config.hiddenSize)), positionRows) as tf.Tensor2D;
    return dropout(x, this.config.dropout, random);
  }

  /**
   * U, V, Q, K = SiLU(LN(x) · W), one product per part: the parts are column blocks of W, and
   * SiLU acts element-wise, so this equals splitting the fused product.
   */
  private project(weights: HstuLayerWeights, x: tf.Tensor2D): Projections {
    const { heads, queryKeySize: dqk, valueSize: dv, hiddenSize: d } = this.config;
    const normed = layerNorm(x, null, null, NORM_EPSILON); // [n, d]
    const part = (start: number, width: number): tf.Tensor2D => {
      const kernel = tf.slice(weights.projectionKernel, [0, start], [d, width]) as tf.Tensor2D; // [d, width]
      const projected = matMul2d(normed, kernel);
      return tf.mul(projected, tf.sigmoid(projected)) as tf.Tensor2D;
    };
    const u = part(0, heads * dv);
    const v = part(heads * dv, heads * dv);
    const q = tf.mul(part(2 * heads * dv, heads * dqk), 1 / Math.sqrt(dqk)) as tf.Tensor2D;
    const k = part(2 * heads * dv + heads * dqk, heads * dqk);
    return { u, v, q, k };
  }

  /** `x + f2(dropout(LN(A·V) ⊙ U))`, padding rows zeroed, `[n, d]`. */
  private finishLayer(weights: HstuLayerWeights, x: tf.Tensor2D, attended: tf.Tensor2D, u: tf.Tensor2D, validMask: tf.Tensor2D | null, random: SeededRandom | null): tf.Tensor2D {
    const gated = tf.mul(layerNorm(attended, null, null, NORM_EPSILON), u) as tf.Tensor2D; // [n, heads · dv]
    const projected = dense(dropout(gated, this.config.dropout, random), weights.outputKernel as tf.Tensor2D, weights.outputBias as tf.Tensor1D);
    const out = tf.add(x, projected) as tf.Tensor2D;
    return validMask === null ? out : (tf.mul(out, validMask) as tf.Tensor2D);
  }

  /** L2 normalisation when configured, `[n, d]`. */
  private output(x: tf.Tensor2D): tf.Tensor2D {
    return this.normalizesEmbeddings ? l2Normalize(x) : x;
  }
}

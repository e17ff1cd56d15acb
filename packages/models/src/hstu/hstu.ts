import { appendToHead, headPositions, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { invalidArgument, positionOutOfRange } from '../messages';
import { BaseSequentialModel, checkCacheLayout, mergeWeights, type EncoderRecord } from '../model/base-model';
import { validateItems, validateTimestamps } from '../model/input';
import type { AppendResult, EncoderBatch, SequenceOptions, SequentialModel } from '../model/types';
import { dense, dropout, l2Normalize, layerNorm } from '../ops/layers';
import { matMul2d } from '../ops/matmul';
import { candidateLayout } from '../ctr/candidate-layout';
import { appendLayout, batchedPointwiseAttention, batchLayout, cachedPointwiseAttention } from '../ops/pointwise-attention';
import type { SeededRandom } from '../random';
import { resolveHstuConfig, type HstuConfig } from './config';
import { createHstuWeights, type HstuLayerWeights, type HstuWeights } from './weights';
import { cachedColumns, cachedKeyValueHeads } from '../variants/cached-heads';
import { cacheLayoutOf, kvHeadsOf, repeatKvHeads } from '../variants/head-sharing';

/** Layer-norm epsilon of generative-recommenders' HSTU. */
const NORM_EPSILON = 1e-6;

/** U, V, Q, K of a set of tokens, heads side by side. */
interface Projections {
  u: tf.Tensor2D; // [n, heads · dv]
  v: tf.Tensor2D; // [n, kvHeads · dv]
  q: tf.Tensor2D; // [n, heads · dqk], scaled by α = 1/√dqk
  k: tf.Tensor2D; // [n, kvHeads · dqk]
  latent: tf.Tensor2D | null; // [n, r] with kvLatentSize, else null
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
    return this.cacheLayout.keyWidth;
  }

  protected get valueSize(): number {
    return this.cacheLayout.valueWidth;
  }

  /** Cache heads and widths: one head per key/value head (dqk keys, dv values), or the latent halves. */
  private get cacheLayout(): ReturnType<typeof cacheLayoutOf> {
    return cacheLayoutOf(this.config, this.config.queryKeySize, this.config.valueSize);
  }

  protected get usesTime(): boolean {
    return true;
  }

  append(cache: KVCache, items: Int32Array, options: SequenceOptions = {}): AppendResult {
    return this.appendTokens('Hstu.append', cache, items, options, false);
  }

  protected override candidateHidden(cache: KVCache, candidates: Int32Array, options: SequenceOptions): Float32Array {
    return this.appendTokens('Hstu.scoreImpressions', cache, candidates, options, true).hidden;
  }

  /**
   * Runs tokens through every layer against the cached keys and values. When `independent` is
   * false the tokens are appended in order (positions seenTokens, +1, ..., causal among them)
   * and the grown cache is returned. When it is true every token is a candidate at position
   * seenTokens that attends to the cache and to itself only, and the cache is returned unchanged.
   */
  private appendTokens(where: string, cache: KVCache, items: Int32Array, options: SequenceOptions, independent: boolean): AppendResult {
    // Validate the request against the cache and the position range.
    validateItems(where, 'items', items, this.config.itemCount);
    if (items.length === 0) {
      throw new RangeError(invalidArgument(where, 'items', 'at least one item', 'an empty array'));
    }
    validateTimestamps(where, options.timestamps, items.length);
    const { layers, heads, queryKeySize: dqk, valueSize: dv, maxLength, timeBuckets } = this.config;
    const kvHeads = kvHeadsOf(this.config);
    const cacheLayout = this.cacheLayout;
    const group = heads / kvHeads;
    checkCacheLayout(where, cache, layers, cacheLayout.heads, cacheLayout.keyWidth, cacheLayout.valueWidth);
    const cacheHasTime = cache.layers[0].heads[0].timestamps !== null;
    if (cacheHasTime !== (options.timestamps !== undefined)) {
      const expected = cacheHasTime ? 'timestamps, because the cache stores them' : 'no timestamps, because the cache was prefilled without them';
      throw new TypeError(invalidArgument(where, 'options.timestamps', expected, options.timestamps === undefined ? 'none' : `${options.timestamps.length} timestamps`));
    }
    const count = items.length;
    const firstPosition = cache.seenTokens;
    const span = independent ? 1 : count;
    if (firstPosition + span > maxLength) {
      throw new RangeError(positionOutOfRange(where, firstPosition, span, maxLength));
    }
    const newTimes = options.timestamps ?? null;

    // Run the new tokens through every layer against the cached keys and values.
    const newKeys: Float32Array[][] = []; // [layer][cache head] -> [count, keyWidth]
    const newValues: Float32Array[][] = []; // [layer][cache head] -> [count, valueWidth]
    const hidden = tf.tidy(() => {
      const positions = Int32Array.from({ length: count }, (_, i) => firstPosition + (independent ? 0 : i)); // [count]
      let x = this.embed(items, positions, null); // [count, d]
      for (let layer = 0; layer < layers; layer++) {
        const weights = this.weights.layers[layer];
        const { u, v, q, k, latent } = this.project(weights, x);
        const kv = cachedKeyValueHeads(cache.layers[layer], { keys: k, values: v, latent }, cacheLayout, kvHeads, dqk, dv, (all) => this.upProject(weights, all));

        // Attend head by head: heads may keep different cached tokens, and a group of query heads reads one key/value head.
        const outputs: tf.Tensor2D[] = [];
        newKeys.push(kv.newKeys);
        newValues.push(kv.newValues);
        for (let head = 0; head < heads; head++) {
          const kvHead = Math.floor(head / group);
          const cached = kv.cached[kvHead];
          const headQueries = tf.slice(q, [0, head * dqk], [count, dqk]); // [count, dqk]
          const allKeys = kv.keys[kvHead]; // [len + count, dqk]
          const allValues = kv.values[kvHead]; // [len + count, dv]
          const layout = (independent ? candidateLayout : appendLayout)(headPositions(cached), cached.timestamps, mergeWeights(where, cached), firstPosition, newTimes, count, maxLength, timeBuckets);
          outputs.push(cachedPointwiseAttention(headQueries, allKeys, allValues, layout, weights.positionBias as tf.Tensor1D, weights.timeBias as tf.Tensor1D));
        }
        const attended = heads === 1 ? outputs[0] : (tf.concat(outputs, 1) as tf.Tensor2D); // [count, heads · dv]
        x = this.finishLayer(weights, x, attended, u, null, null);
      }
      return this.output(x).dataSync() as Float32Array; // [count, d]
    });

    if (independent) {
      return { hidden, cache };
    }

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
      const { u, v, q, k, latent } = this.project(weights, x);
      const kvHeads = kvHeadsOf(this.config);
      const attention = batchedPointwiseAttention(q, repeatKvHeads(k, heads, kvHeads), repeatKvHeads(v, heads, kvHeads), layout, weights.positionBias as tf.Tensor1D, weights.timeBias as tf.Tensor1D, batch.batch, batch.len, heads, record !== null && record.weights !== null);
      if (record !== null) {
        const stored = cachedColumns({ keys: k, values: v, latent }, this.cacheLayout);
        record.keys.push(stored.keys);
        record.values.push(stored.values);
        if (record.weights !== null && attention.weights !== null) {
          record.weights.push(attention.weights);
        }
        if (record.recordOnly === true && layer === layers - 1) {
          // The caller reads only the record, so the last layer's output is skipped.
          return x;
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
    const kvHeads = kvHeadsOf(this.config);
    if (weights.kvDownKernel !== null) {
      // With a latent, the kernel contains U and Q, and V and K come from the latent.
      const latent = matMul2d(normed, weights.kvDownKernel as tf.Tensor2D); // [n, r]
      const u = part(0, heads * dv);
      const q = tf.mul(part(heads * dv, heads * dqk), 1 / Math.sqrt(dqk)) as tf.Tensor2D;
      const up = this.upProject(weights, latent);
      return { u, v: up.values, q, k: up.keys, latent };
    }
    const u = part(0, heads * dv);
    const v = part(heads * dv, kvHeads * dv);
    const q = tf.mul(part((heads + kvHeads) * dv, heads * dqk), 1 / Math.sqrt(dqk)) as tf.Tensor2D;
    const k = part((heads + kvHeads) * dv + heads * dqk, kvHeads * dqk);
    return { u, v, q, k, latent: null };
  }

  /** V and K = SiLU(c · W_ukv) from latents c `[n, r]`: `[n, kvHeads · dv]` and `[n, kvHeads · dqk]`. */
  private upProject(weights: HstuLayerWeights, latent: tf.Tensor2D): { keys: tf.Tensor2D; values: tf.Tensor2D } {
    const { queryKeySize: dqk, valueSize: dv } = this.config;
    const kvHeads = kvHeadsOf(this.config);
    const projected = matMul2d(latent, weights.kvUpKernel as tf.Tensor2D); // [n, kvHeads · (dv + dqk)]
    const activated = tf.mul(projected, tf.sigmoid(projected)) as tf.Tensor2D;
    const rows = latent.shape[0];
    const values = tf.slice(activated, [0, 0], [rows, kvHeads * dv]); // [n, kvHeads · dv]
    const keys = tf.slice(activated, [0, kvHeads * dv], [rows, kvHeads * dqk]); // [n, kvHeads · dqk]
    return { keys, values };
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

import { appendToHead, type HeadCache, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { invalidArgument, positionOutOfRange } from '../messages';
import { BaseSequentialModel, checkCacheLayout, mergeWeights, type EncoderRecord } from '../model/base-model';
import { validateItems, validateTimestamps } from '../model/input';
import type { AppendResult, EncoderBatch, SequenceOptions, SequentialModel } from '../model/types';
import { candidateBias } from '../ctr/candidate-layout';
import { appendBias, batchedSoftmaxAttention, cachedSoftmaxAttention, causalPaddingBias } from '../ops/attention';
import { dense, dropout, l2Normalize, layerNorm } from '../ops/layers';
import { matMul2d } from '../ops/matmul';
import type { SeededRandom } from '../random';
import { resolveSasRecConfig, type SasRecConfig } from './config';
import { createSasRecWeights, type SasRecBlockWeights, type SasRecWeights } from './weights';
import { cachedColumns, cachedKeyValueHeads, type KeyValueProjection } from '../variants/cached-heads';
import { cacheLayoutOf, kvHeadsOf, repeatKvHeads } from '../variants/head-sharing';

/** Layer-norm epsilon of the SASRec reference implementations. */
const NORM_EPSILON = 1e-8;

/**
 * Creates a SASRec model with weights drawn from `seed`.
 *
 * SASRec runs causal self-attention over the item history, and the output at position i
 * predicts item i+1. Each block computes `Q = LN(x)`, `x' = Q + MHA(Q, x, x)` and
 * `x'' = LN(x') + FFN(LN(x'))`, where FFN is a ReLU network of width d. Padding rows are
 * zeroed after each block, and a final layer norm follows the last one. The input is the item
 * embedding times √d plus a learned absolute position embedding, with dropout. Scores are
 * dot products with the item embedding table.
 *
 * Deviation from paper: positions count from 0 at the first item of the input window, so
 * that a cached token keeps its position when tokens are appended. The paper left-pads to
 * the window, so its newest item always has position maxLength-1. The attention has an
 * output projection and biases, as torch.nn.MultiheadAttention in the PyTorch ports and in
 * generative-recommenders. With `l2NormalizeEmbeddings` (the default) the final hidden state
 * and the scoring embeddings are L2-normalised, as in generative-recommenders' sampled-softmax
 * SASRec; the input embeddings are not normalised.
 *
 * @see Wang-Cheng Kang and Julian McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018, arXiv:1808.09781.
 * @param config - `itemCount` is required; see {@link SasRecConfig} for the other fields and defaults.
 * @param seed - seed of the weight initialisation.
 * @throws RangeError naming an invalid configuration field.
 * @example
 * const model = createSasRec({ itemCount: 3706 }, 42);
 * const { cache } = model.prefill(new Int32Array([5, 9, 12]));
 * const { hidden } = model.append(cache, new Int32Array([7]));
 * const scores = model.scoreAll(hidden); // [3707], scores[0] = -Infinity
 */
export function createSasRec(config: Partial<SasRecConfig> & { itemCount: number }, seed: number): SequentialModel {
  if (!Number.isFinite(seed)) {
    throw new RangeError(invalidArgument('createSasRec', 'seed', 'a finite number', String(seed)));
  }
  return new SasRec(resolveSasRecConfig(config), seed);
}

/** SASRec with cached incremental inference; see {@link createSasRec}. */
export class SasRec extends BaseSequentialModel {
  readonly kind = 'sasrec' as const;
  declare readonly config: Readonly<SasRecConfig>;
  private readonly weights: SasRecWeights;

  constructor(config: SasRecConfig, seed: number) {
    const created = createSasRecWeights(config, seed);
    super(Object.freeze({ ...config }), created.variables, created.weights.itemEmbedding);
    this.weights = created.weights;
  }

  protected get label(): string {
    return 'SasRec';
  }

  protected get keySize(): number {
    return this.cacheLayout.keyWidth;
  }

  protected get valueSize(): number {
    return this.cacheLayout.valueWidth;
  }

  /** Cache heads and widths: one head per key/value head of width dHead, or the latent halves. */
  private get cacheLayout(): ReturnType<typeof cacheLayoutOf> {
    const dHead = this.config.hiddenSize / this.config.heads;
    return cacheLayoutOf(this.config, dHead, dHead);
  }

  protected get usesTime(): boolean {
    return false;
  }

  append(cache: KVCache, items: Int32Array, options: SequenceOptions = {}): AppendResult {
    return this.appendTokens('SasRec.append', cache, items, options, false);
  }

  protected override candidateHidden(cache: KVCache, candidates: Int32Array, options: SequenceOptions): Float32Array {
    return this.appendTokens('SasRec.scoreImpressions', cache, candidates, options, true).hidden;
  }

  /**
   * Runs tokens through every block against the cached keys and values. When `independent` is
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
    const { layers, heads } = this.config;
    const dHead = this.config.hiddenSize / heads;
    const kvHeads = kvHeadsOf(this.config);
    const layout = this.cacheLayout;
    const group = heads / kvHeads;
    checkCacheLayout(where, cache, layers, layout.heads, layout.keyWidth, layout.valueWidth);
    const count = items.length;
    const firstPosition = cache.seenTokens;
    const span = independent ? 1 : count;
    if (firstPosition + span > this.config.maxLength) {
      throw new RangeError(positionOutOfRange(where, firstPosition, span, this.config.maxLength));
    }

    // Run the new tokens through every block against the cached keys and values.
    const newKeys: Float32Array[][] = []; // [layer][cache head] -> [count, keyWidth]
    const newValues: Float32Array[][] = [];
    const hidden = tf.tidy(() => {
      const positions = Int32Array.from({ length: count }, (_, i) => firstPosition + (independent ? 0 : i)); // [count]
      let x = this.embed(items, positions, null); // [count, d]
      for (let layer = 0; layer < layers; layer++) {
        const block = this.weights.blocks[layer];
        const normed = layerNorm(x, block.attentionNormScale as tf.Tensor1D, block.attentionNormShift as tf.Tensor1D, NORM_EPSILON);
        const queries = tf.mul(dense(normed, block.queryKernel as tf.Tensor2D, block.queryBias as tf.Tensor1D), 1 / Math.sqrt(dHead)) as tf.Tensor2D; // [count, d]
        const projection = this.projectKeysValues(block, x); // keys, values [count, kvHeads · dHead]
        const kv = cachedKeyValueHeads(cache.layers[layer], projection, layout, kvHeads, dHead, dHead, (latent) => this.upProject(block, latent));

        // Attend head by head: heads may keep different cached tokens, and a group of query heads reads one key/value head.
        const outputs: tf.Tensor2D[] = [];
        newKeys.push(kv.newKeys);
        newValues.push(kv.newValues);
        for (let head = 0; head < heads; head++) {
          const kvHead = Math.floor(head / group);
          const cached = kv.cached[kvHead];
          const len = cached.keys.rows;
          const headQueries = tf.slice(queries, [0, head * dHead], [count, dHead]); // [count, dHead]
          const bias = tf.tensor2d((independent ? candidateBias : appendBias)(logWeights(cached), len, count), [count, len + count]);
          outputs.push(cachedSoftmaxAttention(headQueries, kv.keys[kvHead], kv.values[kvHead], bias));
        }
        const attended = heads === 1 ? outputs[0] : (tf.concat(outputs, 1) as tf.Tensor2D); // [count, d]
        x = this.finishBlock(block, normed, attended, null, null);
      }
      return this.finalNorm(x).dataSync() as Float32Array; // [count, d]
    });

    if (independent) {
      return { hidden, cache };
    }

    // Grow the cache with the new tokens' keys and values.
    const grown = cache.layers.map((layerCache, layer) => ({
      heads: layerCache.heads.map((head, index) => appendToHead(head, newKeys[layer][index], newValues[layer][index], count, firstPosition, null)),
    }));
    const itemIds = new Int32Array(cache.itemIds.length + count); // [seenTokens + count]
    itemIds.set(cache.itemIds);
    itemIds.set(items, cache.itemIds.length);
    return { hidden, cache: { layers: grown, seenTokens: firstPosition + count, itemIds } };
  }

  protected encode(batch: EncoderBatch, random: SeededRandom | null, record: EncoderRecord | null): tf.Tensor2D {
    const { layers, heads, dropout: rate } = this.config;

    // Embed the items and build the validity mask and the attention bias.
    const valid = Float32Array.from(batch.items, (item) => (item === 0 ? 0 : 1)); // [batch · len]
    const validMask = tf.tensor2d(valid, [valid.length, 1]); // [batch · len, 1]
    const bias = tf.tensor3d(causalPaddingBias(batch.items, batch.batch, batch.len), [batch.batch, batch.len, batch.len]);
    let x = tf.mul(this.embed(batch.items, batch.positions, random), validMask) as tf.Tensor2D; // [batch · len, d]

    // Self-attention blocks.
    for (let layer = 0; layer < layers; layer++) {
      const block = this.weights.blocks[layer];
      const normed = layerNorm(x, block.attentionNormScale as tf.Tensor1D, block.attentionNormShift as tf.Tensor1D, NORM_EPSILON);
      const queries = dense(normed, block.queryKernel as tf.Tensor2D, block.queryBias as tf.Tensor1D); // [batch · len, d]
      const projection = this.projectKeysValues(block, x); // keys, values [batch · len, kvHeads · dHead]
      const kvHeads = kvHeadsOf(this.config);
      const keys = repeatKvHeads(projection.keys, heads, kvHeads); // [batch · len, d]
      const values = repeatKvHeads(projection.values, heads, kvHeads); // [batch · len, d]
      const attention = batchedSoftmaxAttention(queries, keys, values, bias, batch.batch, batch.len, heads, rate, random, record !== null && record.weights !== null);
      if (record !== null) {
        const stored = cachedColumns(projection, this.cacheLayout);
        record.keys.push(stored.keys);
        record.values.push(stored.values);
        if (record.weights !== null && attention.probabilities !== null) {
          record.weights.push(attention.probabilities);
        }
        if (record.recordOnly === true && layer === layers - 1) {
          // The caller reads only the record, so the last layer's output is skipped.
          return x;
        }
      }
      x = this.finishBlock(block, normed, attention.output, validMask, random);
    }
    return this.finalNorm(x);
  }

  /**
   * Keys and values of one block, `[n, kvHeads · dHead]` each. With a latent they are projected
   * up from `c = x · W_dkv`, which is returned too; the position embedding is already in x.
   */
  private projectKeysValues(block: SasRecBlockWeights, x: tf.Tensor2D): KeyValueProjection {
    if (block.kvDownKernel === null) {
      const keys = dense(x, block.keyKernel as tf.Tensor2D, block.keyBias as tf.Tensor1D);
      const values = dense(x, block.valueKernel as tf.Tensor2D, block.valueBias as tf.Tensor1D);
      return { keys, values, latent: null };
    }
    const latent = matMul2d(x, block.kvDownKernel as tf.Tensor2D); // [n, r]
    return { ...this.upProject(block, latent), latent };
  }

  /** Keys and values from latents `[n, r]`, `[n, kvHeads · dHead]` each. */
  private upProject(block: SasRecBlockWeights, latent: tf.Tensor2D): { keys: tf.Tensor2D; values: tf.Tensor2D } {
    const keys = dense(latent, block.keyKernel as tf.Tensor2D, block.keyBias as tf.Tensor1D);
    const values = dense(latent, block.valueKernel as tf.Tensor2D, block.valueBias as tf.Tensor1D);
    return { keys, values };
  }

  /** Item embedding × √d + position embedding, with dropout when training, `[n, d]`. */
  private embed(items: Int32Array, positions: Int32Array, random: SeededRandom | null): tf.Tensor2D {
    const itemRows = tf.gather(this.weights.itemEmbedding, tf.tensor1d(items, 'int32')) as tf.Tensor2D; // [n, d]
    const positionRows = tf.gather(this.weights.positionEmbedding, tf.tensor1d(positions, 'int32')) as tf.Tensor2D; // [n, d]
    const x = tf.add(tf.mul(itemRows, Math.sqrt(this.config.hiddenSize)), positionRows) as tf.Tensor2D;
    return dropout(x, this.config.dropout, random);
  }

  /** Output projection, residual, layer norm and feed-forward network of one block, `[n, d]`. */
  private finishBlock(block: SasRecBlockWeights, normed: tf.Tensor2D, attended: tf.Tensor2D, validMask: tf.Tensor2D | null, random: SeededRandom | null): tf.Tensor2D {
    const rate = this.config.dropout;
    const projected = dense(attended, block.outputKernel as tf.Tensor2D, block.outputBias as tf.Tensor1D);
    const y = layerNorm(tf.add(normed, projected) as tf.Tensor2D, block.ffnNormScale as tf.Tensor1D, block.ffnNormShift as tf.Tensor1D, NORM_EPSILON);
    const inner = dropout(tf.relu(dense(y, block.ffnInnerKernel as tf.Tensor2D, block.ffnInnerBias as tf.Tensor1D)) as tf.Tensor2D, rate, random);
    const outer = dropout(dense(inner, block.ffnOuterKernel as tf.Tensor2D, block.ffnOuterBias as tf.Tensor1D), rate, random);
    const out = tf.add(y, outer) as tf.Tensor2D;
    return validMask === null ? out : (tf.mul(out, validMask) as tf.Tensor2D);
  }

  /** Final layer norm, then L2 normalisation when configured, `[n, d]`. */
  private finalNorm(x: tf.Tensor2D): tf.Tensor2D {
    const normed = layerNorm(x, this.weights.finalNormScale as tf.Tensor1D, this.weights.finalNormShift as tf.Tensor1D, NORM_EPSILON);
    return this.normalizesEmbeddings ? l2Normalize(normed) : normed;
  }
}

/** Log of each cached token's merge weight, `[len]`, or `null` when all weights are 1. */
function logWeights(head: HeadCache): Float32Array | null {
  const weights = mergeWeights('SasRec.append', head);
  return weights === null ? null : Float32Array.from(weights, Math.log);
}

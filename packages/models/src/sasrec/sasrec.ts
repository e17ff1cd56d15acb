import { appendToHead, headPositions, type HeadCache, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import { AttentionSequentialModel } from '../model/attention-model';
import { mergeWeights, type EncoderRecord } from '../model/base-model';
import type { AppendResult, EncoderBatch, SequenceOptions, SequentialModel } from '../model/types';
import { expandBeaconBatch, type BeaconConfig } from '../sequence/beacon';
import { embedBeaconBatch } from '../sequence/beacon-embedding';
import { firstCondensedPosition, splitChunkRows } from '../sequence/chunk-cache';
import { concatFloat32, type AppendAttentionRecord } from '../sequence/chunk-stats';
import { linformerAttention, linformerLayout, projectCompletedBlock, type LinformerConfig, type LinformerLayout } from '../sequence/linformer';
import { bucketBias, createRotations, hashBuckets, maskOtherBuckets, normalizeHeads, perHeadBiasAttention } from '../sequence/lsh';
import { candidateBias } from '../ctr/candidate-layout';
import { appendBias, batchedSoftmaxAttention, cachedSoftmaxAttentionWithWeights, causalPaddingBias } from '../ops/attention';
import { dense, dropout, l2Normalize, layerNorm } from '../ops/layers';
import { matMul2d } from '../ops/matmul';
import type { SeededRandom } from '../random';
import { resolveSasRecConfig, type SasRecConfig } from './config';
import { createSasRecWeights, type SasRecBlockWeights, type SasRecWeights } from './weights';
import { cachedColumns, cachedKeyValueHeads, cachedLatentRows, type KeyValueProjection } from '../variants/cached-heads';
import { cacheLayoutOf, kvHeadsOf, repeatKvHeads, type CacheLayout } from '../variants/head-sharing';

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
 * SASRec; the input embeddings are not normalised. `malloc bench` stops each user's training
 * targets before the validation item by default, while generative-recommenders trains on every
 * item but the test item (the runner's `training.trainOnValidation` does the same).
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
export class SasRec extends AttentionSequentialModel {
  readonly kind = 'sasrec' as const;
  declare readonly config: Readonly<SasRecConfig>;
  private readonly weights: SasRecWeights;
  /** Fixed LSH rotations per layer and head, `[dHead, buckets / 2]`; `null` without `lsh`. */
  private readonly rotations: Float32Array[][] | null;

  constructor(config: SasRecConfig, seed: number) {
    const created = createSasRecWeights(config, seed);
    super(Object.freeze({ ...config }), created.variables, created.weights.itemEmbedding);
    this.weights = created.weights;
    this.rotations = config.lsh === undefined ? null : createRotations(config.lsh, config.layers, config.heads, config.hiddenSize / config.heads);
  }

  protected get label(): string {
    return 'SasRec';
  }

  /** Cache heads and widths: one head per key/value head of width dHead, or the latent halves. */
  protected get cacheLayout(): CacheLayout {
    const dHead = this.config.hiddenSize / this.config.heads;
    return cacheLayoutOf(this.config, dHead, dHead);
  }

  protected get usesTime(): boolean {
    return false;
  }

  protected appendTokens(where: string, cache: KVCache, items: Int32Array, options: SequenceOptions, independent: boolean, records: AppendAttentionRecord[] | null = null): AppendResult {
    const firstPosition = this.checkAppendRequest(where, cache, items, options, independent);
    const count = items.length;

    // Run the new tokens through every block against the cached keys and values.
    const positions = Int32Array.from({ length: count }, (_, i) => firstPosition + (independent ? 0 : i)); // [count]
    const { hidden, newKeys, newValues, weights } = this.attendToCache(cache, () => this.embed(items, positions, null), count, independent, records !== null);
    if (records !== null && weights !== null) {
      const keyPositions = Int32Array.from([...headPositions(cache.layers[0].heads[0]), ...positions]); // [len + count]
      records.push({ queryPositions: positions, keyPositions, weights });
    }

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

  /**
   * Runs `count` embedded tokens through every block against a cache's keys and values, as
   * {@link appendTokens} describes, and returns the final hidden states `[count, d]` and each
   * layer's new keys and values per cache head. With `recordWeights` it also returns each
   * layer's softmax probabilities `[heads, count, len + count]`, which needs every head to
   * read the same number of cached rows (true of an uncompressed cache).
   */
  private attendToCache(
    cache: KVCache,
    embedded: () => tf.Tensor2D,
    count: number,
    independent: boolean,
    recordWeights = false,
  ): { hidden: Float32Array; newKeys: Float32Array[][]; newValues: Float32Array[][]; weights: Float32Array[] | null } {
    const { layers, heads } = this.config;
    const dHead = this.config.hiddenSize / heads;
    const kvHeads = kvHeadsOf(this.config);
    const layout = this.cacheLayout;
    const group = heads / kvHeads;
    const newKeys: Float32Array[][] = []; // [layer][cache head] -> [count, keyWidth]
    const newValues: Float32Array[][] = [];
    const weights: Float32Array[] | null = recordWeights ? [] : null; // per layer [heads, count, len + count]
    const hidden = tf.tidy(() => {
      let x = embedded(); // [count, d]
      for (let layer = 0; layer < layers; layer++) {
        const block = this.weights.blocks[layer];
        const normed = layerNorm(x, block.attentionNormScale as tf.Tensor1D, block.attentionNormShift as tf.Tensor1D, NORM_EPSILON);
        const queries = tf.mul(dense(normed, block.queryKernel as tf.Tensor2D, block.queryBias as tf.Tensor1D), 1 / Math.sqrt(dHead)) as tf.Tensor2D; // [count, d]
        const outputs: tf.Tensor2D[] = [];
        const probabilities: tf.Tensor2D[] = []; // per head [count, len + count]

        if (block.kvDownKernel !== null && this.rotations === null) {
          // MLA without LSH attends in latent space, so no cached latent is projected up.
          const rows = cachedLatentRows(cache.layers[layer], matMul2d(x, block.kvDownKernel as tf.Tensor2D), layout);
          const len = rows.cached.keys.rows;
          const bias = tf.tensor2d((independent ? candidateBias : appendBias)(logWeights(rows.cached), len, count), [count, len + count]);
          newKeys.push([rows.newKeys]);
          newValues.push([rows.newValues]);
          for (let head = 0; head < heads; head++) {
            const attention = this.absorbedAttention(block, tf.slice(queries, [0, head * dHead], [count, dHead]), Math.floor(head / group), rows.latent, bias);
            outputs.push(attention.output);
            probabilities.push(attention.probabilities);
          }
        } else {
          // Attend head by head: heads may keep different cached tokens, and a group of query heads reads one key/value head.
          const projection = this.rotations === null ? this.projectKeysValues(block, x) : this.sharedQueryKeys(block, normed, x); // keys, values [count, kvHeads · dHead]
          const kv = cachedKeyValueHeads(cache.layers[layer], projection, layout, kvHeads, dHead, dHead, (latent) => this.upProject(block, latent));
          newKeys.push(kv.newKeys);
          newValues.push(kv.newValues);
          for (let head = 0; head < heads; head++) {
            const kvHead = Math.floor(head / group);
            const cached = kv.cached[kvHead];
            const len = cached.keys.rows;
            const headQueries = tf.slice(queries, [0, head * dHead], [count, dHead]); // [count, dHead]
            const biasValues = (independent ? candidateBias : appendBias)(logWeights(cached), len, count); // [count, len + count]
            if (this.rotations !== null) {
              const buckets = (this.config.lsh as { buckets: number }).buckets;
              maskOtherBuckets(biasValues, kv.keys[kvHead].dataSync() as Float32Array, dHead, this.rotations[layer][head], buckets, len, count);
            }
            const bias = tf.tensor2d(biasValues, [count, len + count]);
            const attention = cachedSoftmaxAttentionWithWeights(headQueries, kv.keys[kvHead], kv.values[kvHead], bias);
            outputs.push(attention.output);
            probabilities.push(attention.probabilities);
          }
        }
        if (weights !== null) {
          weights.push(concatFloat32(probabilities.map((tensor) => tensor.dataSync() as Float32Array)));
        }
        const attended = heads === 1 ? outputs[0] : (tf.concat(outputs, 1) as tf.Tensor2D); // [count, d]
        x = this.finishBlock(block, normed, attended, null, null);
      }
      return this.finalNorm(x).dataSync() as Float32Array; // [count, d]
    });
    return { hidden, newKeys, newValues, weights };
  }

  protected encode(batch: EncoderBatch, random: SeededRandom | null, record: EncoderRecord | null): tf.Tensor2D {
    if (this.weights.beaconEmbedding !== null) {
      return this.encodeWithBeacons(batch, random, record);
    }

    // Embed the items and build the validity mask and the attention bias.
    const valid = Float32Array.from(batch.items, (item) => (item === 0 ? 0 : 1)); // [batch · len]
    const validMask = tf.tensor2d(valid, [valid.length, 1]); // [batch · len, 1]
    const bias = tf.tensor3d(causalPaddingBias(batch.items, batch.batch, batch.len), [batch.batch, batch.len, batch.len]);
    const x = tf.mul(this.embed(batch.items, batch.positions, random), validMask) as tf.Tensor2D; // [batch · len, d]
    if (this.config.linformer !== undefined) {
      if (record !== null) {
        // Prefill of a Linformer model runs block by block through `append`, never through a record.
        throw new Error('SasRec.encode: a Linformer model cannot record keys and values in one encoder pass.');
      }
      return this.runBlocks(x, bias, validMask, batch.batch, batch.len, random, null, linformerLayout(batch, this.config.linformer));
    }

    return this.runBlocks(x, bias, validMask, batch.batch, batch.len, random, record);
  }

  /**
   * Encodes a padded batch of a beacon model: the batch is expanded with beacon tokens after
   * each complete chunk (see `expandBeaconBatch`), run under the beacon attention mask, and
   * the output rows of the input tokens are gathered back, `[batch · len, d]`.
   */
  private encodeWithBeacons(batch: EncoderBatch, random: SeededRandom | null, record: EncoderRecord | null): tf.Tensor2D {
    if (record !== null) {
      // Prefill of a beacon model runs chunk by chunk through `append`, never through a record.
      throw new Error('SasRec.encode: a beacon model cannot record keys and values in one encoder pass.');
    }
    const expanded = expandBeaconBatch(batch, this.config.beacon as BeaconConfig);

    // Embed items (item embedding × √d) and beacons (beacon embedding), then add positions.
    const weights = { itemEmbedding: this.weights.itemEmbedding, beaconEmbedding: this.weights.beaconEmbedding as tf.Variable, positionEmbedding: this.weights.positionEmbedding };
    const { x, validMask } = embedBeaconBatch(expanded, batch.batch, weights, this.config.hiddenSize, this.config.dropout, random); // [batch · expanded len, d]

    // Run the blocks under the beacon mask and pick the rows of the input tokens.
    const bias = tf.tensor3d(expanded.bias, [batch.batch, expanded.len, expanded.len]);
    const hidden = this.runBlocks(x, bias, validMask, batch.batch, expanded.len, random, null); // [rows, d]
    return tf.gather(hidden, tf.tensor1d(expanded.sourceRows, 'int32')) as tf.Tensor2D; // [batch · len, d]
  }

  /**
   * Runs the beacons of the chunk that just completed against the cache, which has seen a
   * multiple of `chunkSize` items. Then replaces the chunk's rows in every head with the
   * beacons' keys and values, at the chunk's last `beaconsPerChunk` positions.
   */
  private condenseBeacons(cache: KVCache): KVCache {
    const beacon = this.config.beacon as BeaconConfig;
    const beaconEmbedding = this.weights.beaconEmbedding as tf.Variable;
    const count = beacon.beaconsPerChunk;
    const chunkEnd = cache.seenTokens;
    const firstPosition = firstCondensedPosition(chunkEnd, count);

    // The beacons attend to the cache (earlier beacons and the raw chunk) and causally to each other.
    const positions = Int32Array.from({ length: count }, (_, j) => firstPosition + j); // [count]
    const embedded = (): tf.Tensor2D => {
      const positionRows = tf.gather(this.weights.positionEmbedding, tf.tensor1d(positions, 'int32')); // [count, d]
      return tf.add(beaconEmbedding, positionRows) as tf.Tensor2D;
    };
    const { newKeys, newValues } = this.attendToCache(cache, embedded, count, false);

    // Drop the chunk's rows and append the beacons.
    const chunkStart = chunkEnd - beacon.chunkSize;
    const layers = cache.layers.map((layerCache, layer) => ({
      heads: layerCache.heads.map((head, index) => appendToHead(splitChunkRows(head, chunkStart).remaining, newKeys[layer][index], newValues[layer][index], count, firstPosition, null)),
    }));
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }

  /** Replaces the block that just completed by its Linformer projection, layer by layer. */
  private projectLinformerBlock(cache: KVCache): KVCache {
    const keyProjections = this.weights.blocks.map((block) => (block.linformerKeyKernel as tf.Variable).dataSync() as Float32Array); // per layer [projectedRows, blockSize]
    const valueProjections = this.weights.blocks.map((block) => (block.linformerValueKernel as tf.Variable).dataSync() as Float32Array); // per layer [projectedRows, blockSize]
    return projectCompletedBlock(cache, this.config.linformer as LinformerConfig, keyProjections, valueProjections);
  }

  /** Condenses the chunk that just completed, with beacons or with the Linformer projection. SASRec uses no time, so it takes no timestamp. */
  protected condenseChunk(cache: KVCache): KVCache {
    return this.weights.beaconEmbedding !== null ? this.condenseBeacons(cache) : this.projectLinformerBlock(cache);
  }

  /**
   * Runs embedded tokens of a padded batch through every block and the final normalisation.
   *
   * @param input - `[batch · len, d]` embedded tokens, zero at padding.
   * @param bias - `[batch, len, len]` additive attention bias.
   * @param validMask - `[batch · len, 1]`, 0 at padding.
   * @param linformer - projection layout of a Linformer model (then `bias` is unused), else `null`.
   * @returns final hidden states `[batch · len, d]`.
   */
  private runBlocks(
    input: tf.Tensor2D,
    bias: tf.Tensor3D,
    validMask: tf.Tensor2D,
    batchSize: number,
    len: number,
    random: SeededRandom | null,
    record: EncoderRecord | null,
    linformer: LinformerLayout | null = null,
  ): tf.Tensor2D {
    const { layers, heads, dropout: rate } = this.config;
    let x = input; // [batch · len, d]

    // Self-attention blocks.
    for (let layer = 0; layer < layers; layer++) {
      const block = this.weights.blocks[layer];
      const normed = layerNorm(x, block.attentionNormScale as tf.Tensor1D, block.attentionNormShift as tf.Tensor1D, NORM_EPSILON);
      const queries = dense(normed, block.queryKernel as tf.Tensor2D, block.queryBias as tf.Tensor1D); // [batch · len, d]
      if (this.rotations !== null) {
        x = this.lshBlock(layer, x, normed, queries, bias, validMask, batchSize, len, random, record);
        if (record !== null && record.recordOnly === true && layer === layers - 1) {
          // The caller reads only the record, so the last layer's output is not needed.
          return x;
        }
        continue;
      }
      const projection = this.projectKeysValues(block, x); // keys, values [batch · len, kvHeads · dHead]
      const kvHeads = kvHeadsOf(this.config);
      const keys = repeatKvHeads(projection.keys, heads, kvHeads); // [batch · len, d]
      const values = repeatKvHeads(projection.values, heads, kvHeads); // [batch · len, d]
      if (linformer !== null) {
        const attended = linformerAttention(queries, keys, values, block.linformerKeyKernel as tf.Tensor2D, block.linformerValueKernel as tf.Tensor2D, linformer, batchSize, len, heads, rate, random);
        x = this.finishBlock(block, normed, attended, validMask, random);
        continue;
      }
      const attention = batchedSoftmaxAttention(queries, keys, values, bias, batchSize, len, heads, rate, random, record !== null && record.weights !== null);
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
   * Runs one block with LSH attention on a padded batch: shared-QK keys, per-head bucket
   * masks on top of `bias`, and the record of keys, values and weights when requested.
   *
   * @param queries - `[batch · len, d]`, the shared query projection.
   * @returns the block output `[batch · len, d]`.
   */
  private lshBlock(
    layer: number,
    x: tf.Tensor2D,
    normed: tf.Tensor2D,
    queries: tf.Tensor2D,
    bias: tf.Tensor3D,
    validMask: tf.Tensor2D,
    batchSize: number,
    len: number,
    random: SeededRandom | null,
    record: EncoderRecord | null,
  ): tf.Tensor2D {
    const { heads } = this.config;
    const dHead = this.config.hiddenSize / heads;
    const block = this.weights.blocks[layer];
    const rotations = (this.rotations as Float32Array[][])[layer];
    const buckets = (this.config.lsh as { buckets: number }).buckets;

    // Hash every token's key per head, then attend within buckets.
    const projection = this.sharedQueryKeys(block, normed, x); // keys, values [batch · len, d]
    const keyData = projection.keys.dataSync() as Float32Array; // [batch · len, d]
    const rows = batchSize * len;
    const bucketIds = rotations.map((rotation, head) => hashBuckets(keyData, rows, heads * dHead, head * dHead, dHead, rotation, buckets)); // per head [batch · len]
    const headBias = tf.tensor3d(bucketBias(bias.dataSync() as Float32Array, bucketIds, batchSize, len), [batchSize * heads, len, len]);
    const attention = perHeadBiasAttention(queries, projection.keys, projection.values, headBias, batchSize, len, heads, this.config.dropout, random);
    if (record !== null) {
      record.keys.push(projection.keys);
      record.values.push(projection.values);
      if (record.weights !== null) {
        record.weights.push(attention.probabilities);
      }
    }
    return this.finishBlock(block, normed, attention.output, validMask, random);
  }

  /**
   * Keys and values of an LSH block, `[n, d]` each. The keys are the query projection of
   * `LN(x)` with each head scaled to unit length (shared QK), and the values are the usual projection of x.
   */
  private sharedQueryKeys(block: SasRecBlockWeights, normed: tf.Tensor2D, x: tf.Tensor2D): KeyValueProjection {
    const shared = dense(normed, block.queryKernel as tf.Tensor2D, block.queryBias as tf.Tensor1D); // [n, d]
    const keys = normalizeHeads(shared, this.config.heads);
    const values = dense(x, block.valueKernel as tf.Tensor2D, block.valueBias as tf.Tensor1D);
    return { keys, values, latent: null };
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

  /**
   * Computes the softmax attention of one query head over MLA latents, with the up projections
   * folded into the query and the output (absorbed attention, as in DeepSeek-V2). The score of
   * latent c is q · (c W_k + b_k) = (q W_kᵀ) · c + q · b_k, and the last term is the same for
   * every key of a query, so the softmax drops it. The output is Σ p_j (c_j W_v + b_v) = (Σ p_j c_j) W_v + b_v,
   * because the probabilities sum to 1.
   *
   * @param queries - scaled queries of the head, `[count, dHead]`.
   * @param kvHead - the key/value head the query head reads.
   * @param latent - cached and new latents, `[len + count, r]`.
   * @param bias - additive attention bias, `[count, len + count]`.
   * @returns the head's output `[count, dHead]` and its probabilities `[count, len + count]`.
   */
  private absorbedAttention(block: SasRecBlockWeights, queries: tf.Tensor2D, kvHead: number, latent: tf.Tensor2D, bias: tf.Tensor2D): { output: tf.Tensor2D; probabilities: tf.Tensor2D } {
    const dHead = queries.shape[1];
    const r = latent.shape[1];
    const keyKernel = tf.slice(block.keyKernel as tf.Tensor2D, [0, kvHead * dHead], [r, dHead]); // [r, dHead]
    const valueKernel = tf.slice(block.valueKernel as tf.Tensor2D, [0, kvHead * dHead], [r, dHead]); // [r, dHead]
    const valueBias = tf.slice(block.valueBias as tf.Tensor1D, [kvHead * dHead], [dHead]); // [dHead]
    const absorbed = matMul2d(queries, tf.transpose(keyKernel)); // [count, r]
    const attention = cachedSoftmaxAttentionWithWeights(absorbed, latent, latent, bias); // output [count, r]
    return { output: tf.add(matMul2d(attention.output, valueKernel), valueBias) as tf.Tensor2D, probabilities: attention.probabilities };
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

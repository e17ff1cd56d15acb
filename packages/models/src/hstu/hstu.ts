import { appendToHead, headPositions, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import { AttentionSequentialModel } from '../model/attention-model';
import { mergeWeights, type EncoderRecord } from '../model/base-model';
import type { AppendResult, EncoderBatch, SequenceOptions, SequentialModel } from '../model/types';
import { dense, dropout, l2Normalize, layerNorm } from '../ops/layers';
import { matMul2d } from '../ops/matmul';
import { candidateLayout } from '../ctr/candidate-layout';
import { appendLayout, batchedPointwiseAttention, batchLayout, cachedPointwiseAttention, cachedPointwiseAttentionWithWeights, maskedLayout, type PointwiseAttentionLayout } from '../ops/pointwise-attention';
import { expandBeaconBatch, type BeaconConfig } from '../sequence/beacon';
import { embedBeaconBatch } from '../sequence/beacon-embedding';
import { firstCondensedPosition, splitChunkRows } from '../sequence/chunk-cache';
import { concatFloat32, type AppendAttentionRecord } from '../sequence/chunk-stats';
import { linformerLayout, linformerPointwiseLayout, projectBlocks, projectCompletedBlock, type LinformerConfig } from '../sequence/linformer';
import { bucketBias, createRotations, hashBuckets, maskOtherBuckets, normalizeHeads } from '../sequence/lsh';
import type { SeededRandom } from '../random';
import { resolveHstuConfig, type HstuConfig } from './config';
import { createHstuWeights, type HstuLayerWeights, type HstuWeights } from './weights';
import { nextQueryTimes } from './query-times';
import { checkRequestTime } from '../model/input';
import { cachedColumns, cachedKeyValueHeads } from '../variants/cached-heads';
import { cacheLayoutOf, kvHeadsOf, repeatKvHeads, type CacheLayout } from '../variants/head-sharing';

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
 * Differences from the paper and from generative-recommenders' research code (the code of the
 * published ML-1M numbers):
 * - By default (`queryTime: 'own'`) the time bucket of query i and key j uses t_i − t_j, the
 *   query's own timestamp. The reference uses the timestamp of the item after the query (the
 *   one being predicted), which is unknown for the last token, and which makes the cached keys
 *   of a history depend on the request that follows it. `queryTime: 'next'` follows the
 *   reference, with the last token's time passed as `requestTime`. The ML-100K time-bias
 *   ablation in BENCHMARKS.md compares the two.
 * - Scores are scaled by α = 1/√dqk before the bias and SiLU, as in the newer
 *   generative-recommenders code; the research code has no α. Without α, training on ML-1M
 *   with the paper preset was slightly slower: validation NDCG@10 after epochs 4, 6 and 8 was
 *   0.0806, 0.1050 and 0.1209, against 0.0842, 0.1097 and 0.1235 with α (the package's
 *   BENCHMARKS.md has the run).
 * - N is `maxLength`; the reference divides by the maximum length plus its 11 output slots.
 *   LN(A·V) removes any constant factor of A, so N changes the output only through the
 *   epsilon of that layer norm.
 * - The output projection is Xavier-normal with a zero bias; the reference draws it
 *   Xavier-uniform (the same variance) with PyTorch's default uniform bias.
 * - Positions count from 0 at the first item of the window, as in SASRec here and in the
 *   reference.
 * - Training data (set by the caller, not by the model): `malloc bench` stops each user's
 *   training targets before the validation item and keeps the best validation epoch. The
 *   reference trains on every item but the test item for 101 epochs and selects no epoch.
 *   The runner's `training.trainOnValidation` trains on the reference's data.
 *
 * Sequence-level variants (`beacon`, `linformer`, `lsh`) share their cache layout and masks
 * with SASRec's and adapt to point-wise attention as follows. The normaliser N stays
 * `maxLength` for every query, whatever rows the cache contains. Training and serving both
 * know this constant, while a count of cache rows would differ between them. A condensed row (beacon or projected row) sits at one of the last
 * positions of its chunk and carries the timestamp of the chunk's last item, so both are
 * known once the chunk completes. Relative positions are `max(i − j, 0)`, because a beacon
 * attends to items of its own chunk at later positions. With `lsh` the key of a head is its
 * unscaled query scaled to unit length, so the fused projection has no K columns.
 *
 * @see Jiaqi Zhai et al., "Actions Speak Louder than Words: Trillion-Parameter Sequential Transducers for Generative Recommendations", ICML 2024, arXiv:2402.17152.
 * @param config - `itemCount` is required; see {@link HstuConfig} for the other fields and defaults.
 * @param seed - seed of the weight initialisation.
 * @throws RangeError naming an invalid configuration field.
 * @example
 * const model = createHstu({ itemCount: 3706 }, 42);
 * const { cache } = model.prefill(history, { timestamps });
 * const { hidden } = model.append(cache, request, { timestamps: requestTimes });
 * // With queryTime 'next', each call also takes the time of the request after its last item.
 * const next = createHstu({ itemCount: 3706, queryTime: 'next' }, 42);
 * const prefilled = next.prefill(history, { timestamps, requestTime: requestTimes[0] });
 * next.append(prefilled.cache, request, { timestamps: requestTimes, requestTime: targetTime });
 */
export function createHstu(config: Partial<HstuConfig> & { itemCount: number }, seed: number): SequentialModel {
  if (!Number.isFinite(seed)) {
    throw new RangeError(invalidArgument('createHstu', 'seed', 'a finite number', String(seed)));
  }
  return new Hstu(resolveHstuConfig(config), seed);
}

/** HSTU with cached incremental inference; see {@link createHstu}. */
export class Hstu extends AttentionSequentialModel {
  readonly kind = 'hstu' as const;
  declare readonly config: Readonly<HstuConfig>;
  private readonly weights: HstuWeights;
  /** Fixed LSH rotations per layer and head, `[dqk, buckets / 2]`; `null` without `lsh`. */
  private readonly rotations: Float32Array[][] | null;

  constructor(config: HstuConfig, seed: number) {
    const created = createHstuWeights(config, seed);
    super(Object.freeze({ ...config }), created.variables, created.weights.itemEmbedding);
    this.weights = created.weights;
    this.rotations = config.lsh === undefined ? null : createRotations(config.lsh, config.layers, config.heads, config.queryKeySize);
  }

  protected get label(): string {
    return 'Hstu';
  }

  /** Cache heads and widths: one head per key/value head (dqk keys, dv values), or the latent halves. */
  protected get cacheLayout(): CacheLayout {
    return cacheLayoutOf(this.config, this.config.queryKeySize, this.config.valueSize);
  }

  protected get usesTime(): boolean {
    return this.config.timeBias !== false;
  }

  protected override get readsRequestTime(): boolean {
    return this.config.queryTime === 'next';
  }

  protected appendTokens(where: string, cache: KVCache, items: Int32Array, options: SequenceOptions, independent: boolean, records: AppendAttentionRecord[] | null = null): AppendResult {
    const firstPosition = this.checkAppendRequest(where, cache, items, options, independent);
    const count = items.length;
    const newTimes = this.usesTime ? (options.timestamps ?? null) : null; // [count] or null
    const requestTime = checkRequestTime(where, 'options.requestTime', options.requestTime, this.readsRequestTime && newTimes !== null);
    const queryTimes = requestTime === null || newTimes === null ? newTimes : nextQueryTimes(items, newTimes, Float64Array.of(requestTime), 1, count); // [count] or null

    // Run the new tokens through every layer against the cached keys and values.
    const positions = Int32Array.from({ length: count }, (_, i) => firstPosition + (independent ? 0 : i)); // [count]
    const { hidden, newKeys, newValues, weights } = this.attendToCache(where, cache, () => this.embed(items, positions, null), firstPosition, newTimes, count, independent, records !== null, queryTimes);
    if (records !== null && weights !== null) {
      const keyPositions = Int32Array.from([...headPositions(cache.layers[0].heads[0]), ...positions]); // [len + count]
      records.push({ queryPositions: positions, keyPositions, weights });
    }

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

  /**
   * Runs `count` embedded tokens at positions `firstPosition`, +1, ... (all at `firstPosition`
   * when `independent`) through every layer against a cache's keys and values, as
   * {@link appendTokens} describes. Returns the final hidden states `[count, d]` and each
   * layer's new keys and values per cache head. With `recordWeights` it also returns each
   * layer's |A| `[heads, count, len + count]`, which needs every head to read the same number
   * of cached rows (true of an uncompressed cache).
   *
   * @param newTimes - `[count]` seconds, or `null` when the cache stores no timestamps.
   * @param queryTimes - `[count]` seconds from which the new queries measure time differences; default `newTimes`.
   */
  private attendToCache(
    where: string,
    cache: KVCache,
    embedded: () => tf.Tensor2D,
    firstPosition: number,
    newTimes: Float64Array | null,
    count: number,
    independent: boolean,
    recordWeights = false,
    queryTimes: Float64Array | null = newTimes,
  ): { hidden: Float32Array; newKeys: Float32Array[][]; newValues: Float32Array[][]; weights: Float32Array[] | null } {
    const { layers, heads, queryKeySize: dqk, valueSize: dv, maxLength, timeBuckets } = this.config;
    const kvHeads = kvHeadsOf(this.config);
    const cacheLayout = this.cacheLayout;
    const group = heads / kvHeads;
    const newKeys: Float32Array[][] = []; // [layer][cache head] -> [count, keyWidth]
    const newValues: Float32Array[][] = []; // [layer][cache head] -> [count, valueWidth]
    const weights: Float32Array[] | null = recordWeights ? [] : null; // per layer [heads, count, len + count]
    const hidden = tf.tidy(() => {
      let x = embedded(); // [count, d]
      for (let layer = 0; layer < layers; layer++) {
        const layerWeights = this.weights.layers[layer];
        const { u, v, q, k, latent } = this.project(layerWeights, x);
        const kv = cachedKeyValueHeads(cache.layers[layer], { keys: k, values: v, latent }, cacheLayout, kvHeads, dqk, dv, (all) => this.upProject(layerWeights, all));

        // Attend head by head: heads may keep different cached tokens, and a group of query heads reads one key/value head.
        const outputs: tf.Tensor2D[] = [];
        const absolute: tf.Tensor2D[] = []; // per head |A| [count, len + count]
        newKeys.push(kv.newKeys);
        newValues.push(kv.newValues);
        for (let head = 0; head < heads; head++) {
          const kvHead = Math.floor(head / group);
          const cached = kv.cached[kvHead];
          const headQueries = tf.slice(q, [0, head * dqk], [count, dqk]); // [count, dqk]
          const allKeys = kv.keys[kvHead]; // [len + count, dqk]
          const allValues = kv.values[kvHead]; // [len + count, dv]
          const layout = independent
            ? candidateLayout(headPositions(cached), cached.timestamps, mergeWeights(where, cached), firstPosition, newTimes, count, maxLength, timeBuckets)
            : appendLayout(headPositions(cached), cached.timestamps, mergeWeights(where, cached), firstPosition, newTimes, count, maxLength, timeBuckets, queryTimes);
          if (this.rotations !== null) {
            const buckets = (this.config.lsh as { buckets: number }).buckets;
            maskOtherBuckets(layout.scale, allKeys.dataSync() as Float32Array, dqk, this.rotations[layer][head], buckets, cached.keys.rows, count, 0);
          }
          const positionBias = layerWeights.positionBias as tf.Tensor1D;
          const timeBias = layerWeights.timeBias as tf.Tensor1D;
          if (weights === null) {
            outputs.push(cachedPointwiseAttention(headQueries, allKeys, allValues, layout, positionBias, timeBias));
            continue;
          }
          const attention = cachedPointwiseAttentionWithWeights(headQueries, allKeys, allValues, layout, positionBias, timeBias);
          outputs.push(attention.output);
          absolute.push(attention.weights);
        }
        if (weights !== null) {
          weights.push(concatFloat32(absolute.map((tensor) => tensor.dataSync() as Float32Array)));
        }
        const attended = heads === 1 ? outputs[0] : (tf.concat(outputs, 1) as tf.Tensor2D); // [count, heads · dv]
        x = this.finishLayer(layerWeights, x, attended, u, null, null);
      }
      return this.output(x).dataSync() as Float32Array; // [count, d]
    });
    return { hidden, newKeys, newValues, weights };
  }

  /** Condenses the chunk that just completed, with beacons or with the Linformer projection. */
  protected condenseChunk(cache: KVCache, lastTimestamp: number | null): KVCache {
    return this.weights.beaconEmbedding !== null ? this.condenseBeacons(cache, lastTimestamp) : this.projectLinformerBlock(cache, lastTimestamp);
  }

  /**
   * Runs the beacons of the chunk that just completed against the cache, which has seen a
   * multiple of `chunkSize` items. Then replaces the chunk's rows in every head with the
   * beacons' keys and values, at the chunk's last `beaconsPerChunk` positions and with the
   * timestamp of the chunk's last item.
   */
  private condenseBeacons(cache: KVCache, lastTimestamp: number | null): KVCache {
    const beacon = this.config.beacon as BeaconConfig;
    const beaconEmbedding = this.weights.beaconEmbedding as tf.Variable;
    const count = beacon.beaconsPerChunk;
    const chunkEnd = cache.seenTokens;
    const firstPosition = firstCondensedPosition(chunkEnd, count);
    const times = cache.layers[0].heads[0].timestamps === null ? null : new Float64Array(count).fill(lastTimestamp ?? 0); // [count]

    // The beacons attend to the cache (earlier beacons and the raw chunk) and causally to each other.
    const positions = Int32Array.from({ length: count }, (_, j) => firstPosition + j); // [count]
    const embedded = (): tf.Tensor2D => {
      const positionRows = tf.gather(this.weights.positionEmbedding, tf.tensor1d(positions, 'int32')); // [count, d]
      return tf.add(beaconEmbedding, positionRows) as tf.Tensor2D;
    };
    const { newKeys, newValues } = this.attendToCache('Hstu.append', cache, embedded, firstPosition, times, count, false);

    // Drop the chunk's rows and append the beacons.
    const chunkStart = chunkEnd - beacon.chunkSize;
    const layers = cache.layers.map((layerCache, layer) => ({
      heads: layerCache.heads.map((head, index) => appendToHead(splitChunkRows(head, chunkStart).remaining, newKeys[layer][index], newValues[layer][index], count, firstPosition, times === null ? null : times.slice())),
    }));
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }

  /** Replaces the block that just completed by its Linformer projection, layer by layer. */
  private projectLinformerBlock(cache: KVCache, lastTimestamp: number | null): KVCache {
    const keyProjections = this.weights.layers.map((layer) => (layer.linformerKeyKernel as tf.Variable).dataSync() as Float32Array); // per layer [projectedRows, blockSize]
    const valueProjections = this.weights.layers.map((layer) => (layer.linformerValueKernel as tf.Variable).dataSync() as Float32Array); // per layer [projectedRows, blockSize]
    return projectCompletedBlock(cache, this.config.linformer as LinformerConfig, keyProjections, valueProjections, lastTimestamp);
  }

  protected encode(input: EncoderBatch, random: SeededRandom | null, record: EncoderRecord | null): tf.Tensor2D {
    const { maxLength, timeBuckets } = this.config;
    const batch = this.usesTime || input.timestamps === null ? input : { ...input, timestamps: null };
    if (this.weights.beaconEmbedding !== null) {
      return this.encodeWithBeacons(batch, random, record);
    }

    // Embed the items; lay out the attention pairs once for all layers.
    const valid = Float32Array.from(batch.items, (item) => (item === 0 ? 0 : 1)); // [batch · len]
    const validMask = tf.tensor2d(valid, [valid.length, 1]); // [batch · len, 1]
    const x = tf.mul(this.embed(batch.items, batch.positions, random), validMask) as tf.Tensor2D; // [batch · len, d]
    if (this.config.linformer !== undefined) {
      if (record !== null) {
        // Prefill of a Linformer model runs block by block through `append`, never through a record.
        throw new Error('Hstu.encode: a Linformer model cannot record keys and values in one encoder pass.');
      }
      return this.runLinformerLayers(x, batch, validMask, random);
    }
    const layout = batchLayout(batch.items, batch.positions, batch.timestamps, batch.batch, batch.len, maxLength, timeBuckets, this.queryTimesOf(batch));
    return this.runLayers(x, layout, validMask, batch.batch, batch.len, random, record);
  }

  /**
   * Times from which the queries of a batch measure their time differences, `[batch, len]`:
   * the tokens' own timestamps, or with `queryTime: 'next'` those of the next tokens and the
   * request times (see {@link nextQueryTimes}). `null` when the batch has no timestamps.
   *
   * @throws RangeError when `queryTime` is `'next'` and the batch has timestamps but no request times.
   */
  private queryTimesOf(batch: EncoderBatch): Float64Array | null {
    if (batch.timestamps === null || !this.readsRequestTime) {
      return batch.timestamps;
    }
    const requestTimes = batch.requestTimes ?? null;
    if (requestTimes === null || requestTimes.length !== batch.batch) {
      throw new RangeError(invalidArgument('Hstu.encode', 'batch.requestTimes', `[batch] = [${batch.batch}] request times, which queryTime 'next' reads with timestamps`, requestTimes === null ? 'none' : `${requestTimes.length}`));
    }
    return nextQueryTimes(batch.items, batch.timestamps, requestTimes, batch.batch, batch.len);
  }

  /**
   * Encodes a padded batch of a beacon model: the batch is expanded with beacon tokens after
   * each complete chunk (see `expandBeaconBatch`), run under the beacon attention mask, and
   * the output rows of the input tokens are gathered back, `[batch · len, d]`.
   */
  private encodeWithBeacons(batch: EncoderBatch, random: SeededRandom | null, record: EncoderRecord | null): tf.Tensor2D {
    if (record !== null) {
      // Prefill of a beacon model runs chunk by chunk through `append`, never through a record.
      throw new Error('Hstu.encode: a beacon model cannot record keys and values in one encoder pass.');
    }
    const expanded = expandBeaconBatch(batch, this.config.beacon as BeaconConfig);

    // Embed items (item embedding × √d) and beacons (beacon embedding), then add positions.
    const weights = { itemEmbedding: this.weights.itemEmbedding, beaconEmbedding: this.weights.beaconEmbedding as tf.Variable, positionEmbedding: this.weights.positionEmbedding };
    const { x, validMask } = embedBeaconBatch(expanded, batch.batch, weights, this.config.hiddenSize, this.config.dropout, random); // [batch · expanded len, d]

    // Run the layers under the beacon mask and pick the rows of the input tokens.
    const layout = maskedLayout(expanded.bias, expanded.positions, expanded.timestamps, batch.batch, expanded.len, this.config.maxLength, this.config.timeBuckets);
    const hidden = this.runLayers(x, layout, validMask, batch.batch, expanded.len, random, null); // [rows, d]
    return tf.gather(hidden, tf.tensor1d(expanded.sourceRows, 'int32')) as tf.Tensor2D; // [batch · len, d]
  }

  /**
   * Runs embedded tokens of a padded batch through every layer and the output normalisation.
   * With `lsh`, each head's attention is further restricted to keys of the query's bucket.
   *
   * @param input - `[batch · len, d]` embedded tokens, zero at padding.
   * @param layout - attention pairs, `[batch, len, len]`.
   * @param validMask - `[batch · len, 1]`, 0 at padding.
   * @returns final hidden states `[batch · len, d]`, or the last layer's input when `record.recordOnly` is set.
   */
  private runLayers(
    input: tf.Tensor2D,
    layout: PointwiseAttentionLayout,
    validMask: tf.Tensor2D,
    batchSize: number,
    len: number,
    random: SeededRandom | null,
    record: EncoderRecord | null,
  ): tf.Tensor2D {
    const { layers, heads } = this.config;
    const kvHeads = kvHeadsOf(this.config);
    let x = input; // [batch · len, d]
    for (let layer = 0; layer < layers; layer++) {
      const weights = this.weights.layers[layer];
      const { u, v, q, k, latent } = this.project(weights, x);
      const layerLayout = this.rotations === null ? layout : this.bucketLayout(layer, layout, k, batchSize, len);
      const attention = batchedPointwiseAttention(q, repeatKvHeads(k, heads, kvHeads), repeatKvHeads(v, heads, kvHeads), layerLayout, weights.positionBias as tf.Tensor1D, weights.timeBias as tf.Tensor1D, batchSize, len, heads, record !== null && record.weights !== null);
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

  /**
   * Restricts a layout to pairs in the same LSH bucket, head by head: the keys `[batch · len,
   * heads · dqk]` are hashed with the layer's rotations, and the scale of a pair in different
   * buckets becomes 0. Returns a layout whose scale is `[batch, heads, len, len]`.
   */
  private bucketLayout(layer: number, layout: PointwiseAttentionLayout, keys: tf.Tensor2D, batchSize: number, len: number): PointwiseAttentionLayout {
    const { heads, queryKeySize: dqk } = this.config;
    const buckets = (this.config.lsh as { buckets: number }).buckets;
    const keyData = keys.dataSync() as Float32Array; // [batch · len, heads · dqk]
    const rotations = (this.rotations as Float32Array[][])[layer];
    const bucketIds = rotations.map((rotation, head) => hashBuckets(keyData, batchSize * len, heads * dqk, head * dqk, dqk, rotation, buckets)); // per head [batch · len]
    return { ...layout, scale: bucketBias(layout.scale, bucketIds, batchSize, len, 0) };
  }

  /**
   * Runs a padded batch of a Linformer model through every layer. Each layer projects the keys
   * and values of complete blocks with E and F. Every query attends point-wise to the projected
   * rows of earlier blocks and causally to the raw tokens of its own block.
   *
   * @param input - `[batch · len, d]` embedded tokens, zero at padding.
   * @returns final hidden states `[batch · len, d]`.
   */
  private runLinformerLayers(input: tf.Tensor2D, batch: EncoderBatch, validMask: tf.Tensor2D, random: SeededRandom | null): tf.Tensor2D {
    const { layers, heads, maxLength, timeBuckets } = this.config;
    const linformer = this.config.linformer as LinformerConfig;
    const kvHeads = kvHeadsOf(this.config);
    const layout = linformerLayout(batch, linformer);
    const pointwise = linformerPointwiseLayout(batch, linformer, layout, maxLength, timeBuckets);
    let x = input; // [batch · len, d]
    for (let layer = 0; layer < layers; layer++) {
      const weights = this.weights.layers[layer];
      const { u, v, q, k } = this.project(weights, x);
      const keys = projectBlocks(repeatKvHeads(k, heads, kvHeads), weights.linformerKeyKernel as tf.Tensor2D, layout, batch.batch, batch.len); // [batch · (rows + len), heads · dqk]
      const values = projectBlocks(repeatKvHeads(v, heads, kvHeads), weights.linformerValueKernel as tf.Tensor2D, layout, batch.batch, batch.len); // [batch · (rows + len), heads · dv]
      const attention = batchedPointwiseAttention(q, keys, values, pointwise, weights.positionBias as tf.Tensor1D, weights.timeBias as tf.Tensor1D, batch.batch, batch.len, heads, false, layout.rows + batch.len);
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
   * SiLU acts element-wise, so this equals splitting the fused product. With `lsh` the keys
   * are the unscaled queries with each head scaled to unit length (shared QK).
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
    const shared = part((heads + kvHeads) * dv, heads * dqk); // [n, heads · dqk]
    const q = tf.mul(shared, 1 / Math.sqrt(dqk)) as tf.Tensor2D;
    const k = this.rotations !== null ? normalizeHeads(shared, heads) : part((heads + kvHeads) * dv + heads * dqk, kvHeads * dqk);
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

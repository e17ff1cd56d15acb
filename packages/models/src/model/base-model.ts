import { createFullHead, type AttentionStats, type HeadCache, type KVCache, type LayerCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { clickLogitsOf, clickLogitTensor, createCtrHeadWeights, type CtrHeadWeights } from '../ctr/head';
import { incompatibleCache, invalidArgument, missingCtrHead } from '../messages';
import type { SeededRandom } from '../random';
import { l2Normalize } from '../ops/layers';
import { checkRequestTime, checkRequestTimes, prepareSequence, validateHidden, validateItems, validateTimestamps } from './input';
import { cacheHeadsOf, meanOverGroups } from '../variants/head-sharing';
import type { AppendResult, EncoderBatch, ForwardBatchOptions, ModelConfig, ModelKind, NamedVariable, PrefillBatchOptions, PrefillOptions, PrefillResult, SequenceOptions, TrainableModel } from './types';

/** Default number of last history queries kept in the attention statistics window. */
export const DEFAULT_STATS_WINDOW = 64;

/** Default batch size of `forwardLastBatch`. */
const DEFAULT_INFERENCE_BATCH = 128;

/**
 * Default number of histories per encoder pass of `prefillBatch`. On wasm, with 256
 * MovieLens-1M histories and an untrained SASRec of max length 200 and d = 50, passes of 4 or 8
 * histories took about 15 % less CPU time per history than one history per pass. Passes of
 * 16 or more took longer, because they pad to the longest history.
 */
const DEFAULT_PREFILL_BATCH = 8;

/** Tensors the batched encoder keeps for prefill. */
export interface EncoderRecord {
  /** Per layer, cached keys with cache heads side by side, `[batch · len, cacheHeads · dKey]`. */
  keys: tf.Tensor2D[];
  /** Per layer, cached values with cache heads side by side, `[batch · len, cacheHeads · dValue]`. */
  values: tf.Tensor2D[];
  /** Per layer, attention weights as strategies score them, `[batch · heads, len, len]`; `null` when not needed. */
  weights: tf.Tensor3D[] | null;
  /**
   * Stop after recording the last layer, because the caller reads only the record: the
   * returned tensor is then not the final hidden state. Default false.
   */
  recordOnly?: boolean;
}

/**
 * Base class of SASRec and HSTU: input checks, prefill, batched full passes, scoring
 * against the item table and the bookkeeping of weights. A subclass supplies the batched
 * encoder and the cached `append` path.
 */
export abstract class BaseSequentialModel implements TrainableModel {
  abstract readonly kind: ModelKind;
  readonly normalizesEmbeddings: boolean;
  /** Scoring embeddings, `[nItems + 1, d]` row-major; rebuilt after the weights change. */
  private scoringTable: Float32Array | null = null;

  readonly variables: readonly NamedVariable[];
  /** Click head, or `null` when the configuration has no `ctrHead`. Its weights come last in `variables`. */
  private readonly ctrHead: CtrHeadWeights | null;

  protected constructor(
    readonly config: Readonly<ModelConfig>,
    variables: readonly NamedVariable[],
    private readonly itemEmbedding: tf.Variable,
  ) {
    this.normalizesEmbeddings = config.l2NormalizeEmbeddings !== false;
    const head = config.ctrHead === true ? createCtrHeadWeights(config.hiddenSize) : null;
    this.ctrHead = head === null ? null : head.weights;
    this.variables = head === null ? variables : [...variables, ...head.variables];
  }

  abstract append(cache: KVCache, items: Int32Array, options?: SequenceOptions): AppendResult;

  /**
   * Runs a padded batch through every block.
   *
   * @param record - when given, receives each layer's keys, values and attention weights.
   * @returns final hidden states `[batch · len, d]`.
   */
  protected abstract encode(batch: EncoderBatch, random: SeededRandom | null, record: EncoderRecord | null): tf.Tensor2D;

  /** Name used in error messages, for example `SasRec`. */
  protected abstract get label(): string;

  /** Width of one cache head's keys, `dKey` (for MLA, the latent's key columns). */
  protected abstract get keySize(): number;

  /** Width of one cache head's values, `dValue` (for MLA, the latent's value columns). */
  protected abstract get valueSize(): number;

  /** Whether the model reads timestamps (then the cache stores them when prefill gets them). */
  protected abstract get usesTime(): boolean;

  /**
   * True when the model measures the last item's time differences from the request time
   * whenever it reads timestamps (HSTU with `queryTime: 'next'`). Default false.
   */
  protected get readsRequestTime(): boolean {
    return false;
  }

  prefill(history: Int32Array, options: PrefillOptions = {}): PrefillResult {
    // Validate and cut the input window.
    const where = `${this.label}.prefill`;
    const prepared = prepareSequence(where, 'history', history, this.config.itemCount, this.config.maxLength);
    validateTimestamps(where, options.timestamps, history.length);
    const statsWindow = options.statsWindow ?? DEFAULT_STATS_WINDOW;
    if (!Number.isInteger(statsWindow) || statsWindow < 1) {
      throw new RangeError(invalidArgument(where, 'options.statsWindow', 'an integer ≥ 1', String(statsWindow)));
    }
    const len = prepared.items.length;
    const { layers } = this.config;
    const heads = cacheHeadsOf(this.config);
    const timestamps = this.usesTime && options.timestamps !== undefined ? options.timestamps.slice(prepared.start) : null; // [len]
    const requestTime = checkRequestTime(where, 'options.requestTime', options.requestTime, this.readsRequestTime && timestamps !== null);

    // Run the encoder on the window and read back keys, values and attention weights.
    const keys: Float32Array[] = []; // per layer [len, cacheHeads · dKey]
    const values: Float32Array[] = []; // per layer [len, cacheHeads · dValue]
    const weights: Float32Array[] = []; // per layer [cacheHeads, len, len], averaged over the query heads of each cache head
    if (len > 0) {
      tf.tidy(() => {
        const record: EncoderRecord = { keys: [], values: [], weights: options.recordStats === true ? [] : null, recordOnly: true };
        this.encode(singleBatch(prepared.items, timestamps, requestTime), null, record);
        for (let layer = 0; layer < layers; layer++) {
          keys.push(record.keys[layer].dataSync() as Float32Array);
          values.push(record.values[layer].dataSync() as Float32Array);
          if (record.weights !== null) {
            weights.push(meanOverGroups(record.weights[layer].dataSync() as Float32Array, this.config.heads, heads, len));
          }
        }
      });
    }

    return this.prefillResultOf(prepared.items, timestamps, keys, values, options.recordStats === true ? weights : null, statsWindow);
  }

  prefillBatch(histories: readonly Int32Array[], options: PrefillBatchOptions = {}): PrefillResult[] {
    // Validate every history first, so that nothing runs on bad input.
    const where = `${this.label}.prefillBatch`;
    const batchSize = options.batchSize ?? DEFAULT_PREFILL_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(invalidArgument(where, 'options.batchSize', 'an integer ≥ 1', String(batchSize)));
    }
    const statsWindow = options.statsWindow ?? DEFAULT_STATS_WINDOW;
    if (!Number.isInteger(statsWindow) || statsWindow < 1) {
      throw new RangeError(invalidArgument(where, 'options.statsWindow', 'an integer ≥ 1', String(statsWindow)));
    }
    if (options.timestamps !== undefined && options.timestamps.length !== histories.length) {
      throw new RangeError(invalidArgument(where, 'options.timestamps', `one array per history (${histories.length})`, `${options.timestamps.length} arrays`));
    }
    const withTime = this.usesTime && options.timestamps !== undefined;
    const requestTimes = checkRequestTimes(where, options.requestTimes, histories.length, this.readsRequestTime && withTime); // [histories] or null
    const prepared = histories.map((history, index) => {
      const result = prepareSequence(where, `histories[${index}]`, history, this.config.itemCount, this.config.maxLength);
      const times = options.timestamps?.[index];
      validateTimestamps(where, times, history.length);
      return { items: result.items, timestamps: this.usesTime && times !== undefined ? times.slice(result.start) : null }; // [len] each
    });
    const recordStats = options.recordStats === true;
    const queryHeads = this.config.heads;
    const heads = cacheHeadsOf(this.config);
    const keyWidth = heads * this.keySize;
    const valueWidth = heads * this.valueSize;

    // Empty histories need no encoder pass; the others run in right-padded batches of similar length.
    const results: (PrefillResult | null)[] = prepared.map((entry) => (entry.items.length === 0 ? this.prefillResultOf(entry.items, entry.timestamps, [], [], recordStats ? [] : null, statsWindow) : null));
    const order = Array.from(prepared.keys())
      .filter((index) => prepared[index].items.length > 0)
      .sort((a, b) => prepared[a].items.length - prepared[b].items.length || a - b);
    for (let first = 0; first < order.length; first += batchSize) {
      const members = order.slice(first, first + batchSize);
      const batch = rightPaddedBatch(
        members.map((index) => prepared[index].items),
        withTime ? members.map((index) => prepared[index].timestamps as Float64Array) : null,
        requestTimes === null ? null : Float64Array.from(members, (index) => requestTimes[index]),
      );

      // One encoder pass, then each member's rows of the keys and values and its block of the weights.
      tf.tidy(() => {
        const record: EncoderRecord = { keys: [], values: [], weights: recordStats ? [] : null, recordOnly: true };
        this.encode(batch, null, record);
        const keys = record.keys.map((tensor) => tensor.dataSync() as Float32Array); // per layer [batch · len, cacheHeads · dKey]
        const values = record.values.map((tensor) => tensor.dataSync() as Float32Array); // per layer [batch · len, cacheHeads · dValue]
        const weights = record.weights?.map((tensor) => tensor.dataSync() as Float32Array) ?? null; // per layer [batch · heads, len, len]
        members.forEach((index, row) => {
          const { items, timestamps } = prepared[index];
          const len = items.length;
          const rowKeys = keys.map((layerKeys) => layerKeys.subarray(row * batch.len * keyWidth, (row * batch.len + len) * keyWidth)); // per layer [len, cacheHeads · dKey]
          const rowValues = values.map((layerValues) => layerValues.subarray(row * batch.len * valueWidth, (row * batch.len + len) * valueWidth)); // per layer [len, cacheHeads · dValue]
          const rowWeights = weights?.map((layerWeights) => meanOverGroups(leadingBlocks(layerWeights, row * queryHeads, queryHeads, batch.len, len), queryHeads, heads, len)) ?? null;
          results[index] = this.prefillResultOf(items, timestamps, rowKeys, rowValues, rowWeights, statsWindow);
        });
      });
    }
    return results as PrefillResult[];
  }

  /**
   * Builds the prefill result of one history from the encoder's read-back tensors.
   *
   * @param items - the kept history, `[len]`.
   * @param keys - per layer `[len, cacheHeads · dKey]` row-major, or no arrays when `len` is 0.
   * @param values - per layer `[len, cacheHeads · dValue]` row-major, or no arrays when `len` is 0.
   * @param weights - per layer `[cacheHeads, len, len]`, or `null` when no statistics were requested.
   */
  private prefillResultOf(
    items: Int32Array,
    timestamps: Float64Array | null,
    keys: readonly Float32Array[],
    values: readonly Float32Array[],
    weights: readonly Float32Array[] | null,
    statsWindow: number,
  ): PrefillResult {
    const len = items.length;
    const { layers } = this.config;
    const heads = cacheHeadsOf(this.config);
    const dKey = this.keySize;
    const dValue = this.valueSize;

    // Split heads into the cache layout.
    const cacheLayers: LayerCache[] = [];
    for (let layer = 0; layer < layers; layer++) {
      const layerHeads: HeadCache[] = [];
      for (let head = 0; head < heads; head++) {
        const headKeys = len > 0 ? columnsOf(keys[layer], len, heads * dKey, head * dKey, dKey) : new Float32Array(0); // [len, dKey]
        const headValues = len > 0 ? columnsOf(values[layer], len, heads * dValue, head * dValue, dValue) : new Float32Array(0); // [len, dValue]
        layerHeads.push(createFullHead(headKeys, headValues, len, dKey, dValue, timestamps === null ? null : timestamps.slice()));
      }
      cacheLayers.push({ heads: layerHeads });
    }
    const cache: KVCache = { layers: cacheLayers, seenTokens: len, itemIds: items.slice() };
    const stats = weights !== null ? attentionStats(weights, layers, heads, len, statsWindow) : null;
    return { cache, stats };
  }

  forwardLast(sequence: Int32Array, options: SequenceOptions = {}): Float32Array {
    const where = `${this.label}.forwardLast`;
    const prepared = prepareSequence(where, 'sequence', sequence, this.config.itemCount, this.config.maxLength);
    validateTimestamps(where, options.timestamps, sequence.length);
    if (prepared.items.length === 0) {
      throw new RangeError(invalidArgument(where, 'sequence', 'at least one item besides padding', `${sequence.length} padding ids`));
    }
    const len = prepared.items.length;
    const d = this.config.hiddenSize;
    const timestamps = options.timestamps?.subarray(prepared.start) ?? null;
    const requestTime = checkRequestTime(where, 'options.requestTime', options.requestTime, this.readsRequestTime && this.usesTime && timestamps !== null);
    return tf.tidy(() => {
      const hidden = this.encode(singleBatch(prepared.items, timestamps, requestTime), null, null); // [len, d]
      return tf.slice(hidden, [len - 1, 0], [1, d]).dataSync() as Float32Array;
    });
  }

  forwardLastBatch(sequences: readonly Int32Array[], options: ForwardBatchOptions = {}): Float32Array {
    // Validate every sequence first, so that nothing runs on bad input.
    const where = `${this.label}.forwardLastBatch`;
    const batchSize = options.batchSize ?? DEFAULT_INFERENCE_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(invalidArgument(where, 'options.batchSize', 'an integer ≥ 1', String(batchSize)));
    }
    if (options.timestamps !== undefined && options.timestamps.length !== sequences.length) {
      throw new RangeError(invalidArgument(where, 'options.timestamps', `one array per sequence (${sequences.length})`, `${options.timestamps.length} arrays`));
    }
    const requestTimes = checkRequestTimes(where, options.requestTimes, sequences.length, this.readsRequestTime && this.usesTime && options.timestamps !== undefined); // [sequences] or null
    const prepared = sequences.map((sequence, index) => {
      const result = prepareSequence(where, `sequences[${index}]`, sequence, this.config.itemCount, this.config.maxLength);
      validateTimestamps(where, options.timestamps?.[index], sequence.length);
      if (result.items.length === 0) {
        throw new RangeError(invalidArgument(where, `sequences[${index}]`, 'at least one item besides padding', `${sequence.length} padding ids`));
      }
      return { items: result.items, timestamps: options.timestamps?.[index].subarray(result.start) ?? null };
    });

    // Encode in batches of similar length, right-padded, and pick each last real position.
    const d = this.config.hiddenSize;
    const out = new Float32Array(sequences.length * d); // [sequences, d]
    const order = Array.from(prepared.keys()).sort((a, b) => prepared[a].items.length - prepared[b].items.length || a - b);
    for (let first = 0; first < order.length; first += batchSize) {
      const members = order.slice(first, first + batchSize);
      const batch = rightPaddedBatch(
        members.map((index) => prepared[index].items),
        options.timestamps === undefined ? null : members.map((index) => prepared[index].timestamps as Float64Array),
        requestTimes === null ? null : Float64Array.from(members, (index) => requestTimes[index]),
      );
      const lastRows = new Int32Array(members.map((index, row) => row * batch.len + prepared[index].items.length - 1)); // [members]
      const rows = tf.tidy(() => tf.gather(this.encode(batch, null, null), lastRows).dataSync() as Float32Array); // [members, d]
      members.forEach((index, row) => out.set(rows.subarray(row * d, (row + 1) * d), index * d));
    }
    return out;
  }

  scoreAll(hidden: Float32Array): Float32Array {
    validateHidden(`${this.label}.scoreAll`, hidden, this.config.hiddenSize);
    const table = this.getScoringTable();
    const d = this.config.hiddenSize;
    const scores = new Float32Array(this.config.itemCount + 1); // [nItems + 1]
    scores[0] = -Infinity;
    for (let item = 1; item <= this.config.itemCount; item++) {
      scores[item] = dot(hidden, table, item * d, d);
    }
    return scores;
  }

  scoreCandidates(hidden: Float32Array, items: Int32Array): Float32Array {
    validateHidden(`${this.label}.scoreCandidates`, hidden, this.config.hiddenSize);
    validateItems(`${this.label}.scoreCandidates`, 'items', items, this.config.itemCount);
    const table = this.getScoringTable();
    const d = this.config.hiddenSize;
    const scores = new Float32Array(items.length); // [k]
    for (let i = 0; i < items.length; i++) {
      scores[i] = dot(hidden, table, items[i] * d, d);
    }
    return scores;
  }

  scoreImpressions(cache: KVCache, candidates: Int32Array, options: SequenceOptions = {}): Float32Array {
    const where = `${this.label}.scoreImpressions`;
    const head = this.requireCtrHead(where);
    validateItems(where, 'candidates', candidates, this.config.itemCount);
    validateTimestamps(where, options.timestamps, candidates.length);
    if (candidates.length === 0) {
      return new Float32Array(0);
    }
    const hidden = this.candidateHidden(cache, candidates, options); // [k, d]
    return clickLogitsOf(hidden, head.kernel.dataSync() as Float32Array, head.bias.dataSync()[0]);
  }

  clickLogits(hidden: Float32Array): Float32Array {
    const where = `${this.label}.clickLogits`;
    const head = this.requireCtrHead(where);
    const d = this.config.hiddenSize;
    if (!(hidden instanceof Float32Array) || hidden.length % d !== 0) {
      throw new RangeError(invalidArgument(where, 'hidden', `a Float32Array of [n, ${d}] row-major`, hidden instanceof Float32Array ? `${hidden.length} numbers` : typeof hidden));
    }
    return clickLogitsOf(hidden, head.kernel.dataSync() as Float32Array, head.bias.dataSync()[0]);
  }

  clickLogitTensor(hidden: tf.Tensor2D): tf.Tensor1D {
    return clickLogitTensor(hidden, this.requireCtrHead(`${this.label}.clickLogitTensor`));
  }

  /**
   * Final hidden states of candidates scored independently after the cache, `[k, d]` row-major.
   * This reference runs one `append` per candidate; SASRec and HSTU override it with one
   * batched pass whose candidates are masked from each other.
   */
  protected candidateHidden(cache: KVCache, candidates: Int32Array, options: SequenceOptions): Float32Array {
    const d = this.config.hiddenSize;
    const hidden = new Float32Array(candidates.length * d); // [k, d]
    for (let i = 0; i < candidates.length; i++) {
      const timestamps = options.timestamps?.subarray(i, i + 1);
      const appended = this.append(cache, candidates.subarray(i, i + 1), timestamps === undefined ? {} : { timestamps });
      hidden.set(appended.hidden, i * d);
    }
    return hidden;
  }

  private requireCtrHead(where: string): CtrHeadWeights {
    if (this.ctrHead === null) {
      throw new TypeError(missingCtrHead(where));
    }
    return this.ctrHead;
  }

  numWeights(): number {
    return this.variables.reduce((total, entry) => total + entry.variable.size, 0);
  }

  dispose(): void {
    for (const entry of this.variables) {
      entry.variable.dispose();
    }
    this.scoringTable = null;
  }

  encodeBatch(batch: EncoderBatch, random: SeededRandom | null): tf.Tensor2D {
    return this.encode(batch, random, null);
  }

  outputEmbeddings(items: tf.Tensor1D): tf.Tensor2D {
    const rows = tf.gather(this.itemEmbedding, items) as tf.Tensor2D; // [k, d]
    return this.normalizesEmbeddings ? l2Normalize(rows) : rows;
  }

  weightsChanged(): void {
    this.scoringTable = null;
  }

  private getScoringTable(): Float32Array {
    if (this.scoringTable === null) {
      const count = this.config.itemCount + 1;
      this.scoringTable = tf.tidy(() => this.outputEmbeddings(tf.range(0, count, 1, 'int32') as tf.Tensor1D).dataSync() as Float32Array);
    }
    return this.scoringTable;
  }
}

/**
 * Wraps one unpadded sequence as a batch at positions 0..len-1.
 *
 * @param requestTime - seconds after the last item, or `null` when the model does not read it.
 */
export function singleBatch(items: Int32Array, timestamps: Float64Array | null, requestTime: number | null = null): EncoderBatch {
  const positions = new Int32Array(items.length); // [len]
  for (let i = 0; i < items.length; i++) {
    positions[i] = i;
  }
  return { batch: 1, len: items.length, items, positions, timestamps, requestTimes: requestTime === null ? null : Float64Array.of(requestTime) };
}

/**
 * Packs sequences into a right-padded batch; each sequence's positions count from 0.
 *
 * @param sequences - each `[len_i]`, no padding.
 * @param timestamps - each `[len_i]` seconds, or `null` when the sequences have none.
 * @param requestTimes - `[sequences]` seconds after each last item, or `null` when the model does not read them.
 */
export function rightPaddedBatch(sequences: readonly Int32Array[], timestamps: readonly Float64Array[] | null = null, requestTimes: Float64Array | null = null): EncoderBatch {
  const len = sequences.reduce((max, sequence) => Math.max(max, sequence.length), 0);
  const items = new Int32Array(sequences.length * len); // [batch, len]
  const positions = new Int32Array(sequences.length * len); // [batch, len]
  const times = timestamps === null ? null : new Float64Array(sequences.length * len); // [batch, len]
  sequences.forEach((sequence, row) => {
    items.set(sequence, row * len);
    times?.set((timestamps as readonly Float64Array[])[row], row * len);
    for (let i = 0; i < sequence.length; i++) {
      positions[row * len + i] = i;
    }
  });
  return { batch: sequences.length, len, items, positions, timestamps: times, requestTimes };
}

/** Copies columns `[offset, offset + width)` of a `[rows, cols]` row-major matrix, `[rows, width]`. */
export function columnsOf(matrix: Float32Array, rows: number, cols: number, offset: number, width: number): Float32Array {
  const out = new Float32Array(rows * width); // [rows, width]
  for (let row = 0; row < rows; row++) {
    out.set(matrix.subarray(row * cols + offset, row * cols + offset + width), row * width);
  }
  return out;
}

/**
 * Copies the leading `[len, len]` block of `count` consecutive `[size, size]` matrices,
 * starting at matrix `first` of a row-major stack: `[count, len, len]`.
 */
export function leadingBlocks(stack: Float32Array, first: number, count: number, size: number, len: number): Float32Array {
  const out = new Float32Array(count * len * len); // [count, len, len]
  for (let matrix = 0; matrix < count; matrix++) {
    for (let row = 0; row < len; row++) {
      const from = ((first + matrix) * size + row) * size;
      out.set(stack.subarray(from, from + len), (matrix * len + row) * len);
    }
  }
  return out;
}

/**
 * Merge weight of each cached token, `[len]`, or `null` when the head stores none (all 1).
 *
 * @throws RangeError when a weight is not finite and positive.
 */
export function mergeWeights(where: string, head: HeadCache): Float32Array | null {
  if (head.weights === null) {
    return null;
  }
  for (let i = 0; i < head.weights.length; i++) {
    const weight = head.weights[i];
    if (!(weight > 0) || !Number.isFinite(weight)) {
      throw new RangeError(invalidArgument(where, 'cache', 'merge weights that are finite and > 0', `${weight} at token ${i}`));
    }
  }
  return head.weights;
}

/**
 * Throws when a cache's layers, heads or widths do not fit a model.
 *
 * @param dKey - width of each head's keys.
 * @param dValue - width of each head's values.
 */
export function checkCacheLayout(where: string, cache: KVCache, layers: number, heads: number, dKey: number, dValue: number): void {
  if (cache === null || typeof cache !== 'object' || !Array.isArray(cache.layers)) {
    throw new TypeError(incompatibleCache(where, 'expected a KVCache object'));
  }
  if (cache.layers.length !== layers) {
    throw new RangeError(incompatibleCache(where, `${cache.layers.length} layers, the model has ${layers}`));
  }
  if (!Number.isInteger(cache.seenTokens) || cache.seenTokens < 0) {
    throw new RangeError(incompatibleCache(where, `seenTokens is ${cache.seenTokens}, expected an integer ≥ 0`));
  }
  cache.layers.forEach((layer, layerIndex) => {
    if (layer.heads.length !== heads) {
      throw new RangeError(incompatibleCache(where, `layer ${layerIndex} has ${layer.heads.length} heads, the model has ${heads}`));
    }
    layer.heads.forEach((head: HeadCache, headIndex: number) => {
      if (head.keys.cols !== dKey || head.values.cols !== dValue || head.keys.rows !== head.values.rows) {
        throw new RangeError(
          incompatibleCache(where, `layer ${layerIndex} head ${headIndex} stores keys [${head.keys.rows}, ${head.keys.cols}] and values [${head.values.rows}, ${head.values.cols}], expected [len, ${dKey}] and [len, ${dValue}]`),
        );
      }
    });
  });
}

/**
 * Accumulated and observation-window attention from per-layer weights `[heads, len, len]`
 * (causal: only keys j ≤ i are read).
 */
export function attentionStats(weights: readonly Float32Array[], layers: number, heads: number, len: number, requestedWindow: number): AttentionStats {
  const windowSize = Math.min(requestedWindow, len);
  const accumulated: Float32Array[] = [];
  const window: Float32Array[] = [];
  for (let layer = 0; layer < layers; layer++) {
    const values = weights[layer] ?? new Float32Array(0);
    const sums = new Float32Array(heads * len); // [heads, len]
    const last = new Float32Array(heads * windowSize * len); // [heads, windowSize, len]
    for (let head = 0; head < heads; head++) {
      for (let query = 0; query < len; query++) {
        const row = (head * len + query) * len;
        for (let key = 0; key <= query; key++) {
          sums[head * len + key] += values[row + key];
        }
        const windowRow = query - (len - windowSize);
        if (windowRow >= 0) {
          last.set(values.subarray(row, row + len), (head * windowSize + windowRow) * len);
        }
      }
    }
    accumulated.push(sums);
    window.push(last);
  }
  return { accumulated, window, windowSize };
}

/** Dot product of `hidden` `[d]` with row `table[offset .. offset + d)`, accumulated in float64. */
function dot(hidden: Float32Array, table: Float32Array, offset: number, d: number): number {
  let sum = 0;
  for (let j = 0; j < d; j++) {
    sum += hidden[j] * table[offset + j];
  }
  return sum;
}

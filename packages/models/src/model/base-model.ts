import { createFullHead, type AttentionStats, type HeadCache, type KVCache, type LayerCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { incompatibleCache, invalidArgument } from '../messages';
import type { SeededRandom } from '../random';
import { l2Normalize } from '../ops/layers';
import { prepareSequence, validateHidden, validateItems, validateTimestamps } from './input';
import type { AppendResult, EncoderBatch, ModelConfig, NamedVariable, PrefillOptions, PrefillResult, SequenceOptions, TrainableModel } from './types';

/** Default number of last history queries kept in the attention statistics window. */
export const DEFAULT_STATS_WINDOW = 64;

/** Default batch size of `forwardLastBatch`. */
const DEFAULT_INFERENCE_BATCH = 128;

/** Tensors the batched encoder keeps for prefill. */
export interface EncoderRecord {
  /** Per layer, keys with heads side by side, `[batch · len, heads · dKey]`. */
  keys: tf.Tensor2D[];
  /** Per layer, values with heads side by side, `[batch · len, heads · dValue]`. */
  values: tf.Tensor2D[];
  /** Per layer, attention weights as strategies score them, `[batch · heads, len, len]`; `null` when not needed. */
  weights: tf.Tensor3D[] | null;
}

/**
 * Base class of SASRec and HSTU: input checks, prefill, batched full passes, scoring
 * against the item table and the bookkeeping of weights. A subclass supplies the batched
 * encoder and the cached `append` path.
 */
export abstract class BaseSequentialModel implements TrainableModel {
  abstract readonly kind: 'sasrec' | 'hstu';
  readonly normalizesEmbeddings: boolean;
  /** Scoring embeddings, `[nItems + 1, d]` row-major; rebuilt after the weights change. */
  private scoringTable: Float32Array | null = null;

  protected constructor(
    readonly config: Readonly<ModelConfig>,
    readonly variables: readonly NamedVariable[],
    private readonly itemEmbedding: tf.Variable,
  ) {
    this.normalizesEmbeddings = config.l2NormalizeEmbeddings !== false;
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

  /** Width of one head's cached keys, `dKey`. */
  protected abstract get keySize(): number;

  /** Width of one head's cached values, `dValue`. */
  protected abstract get valueSize(): number;

  /** Whether the model reads timestamps (then the cache stores them when prefill gets them). */
  protected abstract get usesTime(): boolean;

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
    const { layers, heads } = this.config;
    const dKey = this.keySize;
    const dValue = this.valueSize;
    const timestamps = this.usesTime && options.timestamps !== undefined ? options.timestamps.slice(prepared.start) : null; // [len]

    // Run the encoder on the window and read back keys, values and attention weights.
    const keys: Float32Array[] = []; // per layer [len, heads · dKey]
    const values: Float32Array[] = []; // per layer [len, heads · dValue]
    const weights: Float32Array[] = []; // per layer [heads, len, len]
    if (len > 0) {
      tf.tidy(() => {
        const record: EncoderRecord = { keys: [], values: [], weights: options.recordStats === true ? [] : null };
        this.encode(singleBatch(prepared.items, timestamps), null, record);
        for (let layer = 0; layer < layers; layer++) {
          keys.push(record.keys[layer].dataSync() as Float32Array);
          values.push(record.values[layer].dataSync() as Float32Array);
          if (record.weights !== null) {
            weights.push(record.weights[layer].dataSync() as Float32Array);
          }
        }
      });
    }

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
    const cache: KVCache = { layers: cacheLayers, seenTokens: len, itemIds: prepared.items.slice() };
    const stats = options.recordStats === true ? attentionStats(weights, layers, heads, len, statsWindow) : null;
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
    return tf.tidy(() => {
      const hidden = this.encode(singleBatch(prepared.items, timestamps), null, null); // [len, d]
      return tf.slice(hidden, [len - 1, 0], [1, d]).dataSync() as Float32Array;
    });
  }

  forwardLastBatch(sequences: readonly Int32Array[], options: { batchSize?: number; timestamps?: readonly Float64Array[] } = {}): Float32Array {
    // Validate every sequence first, so that nothing runs on bad input.
    const where = `${this.label}.forwardLastBatch`;
    const batchSize = options.batchSize ?? DEFAULT_INFERENCE_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(invalidArgument(where, 'options.batchSize', 'an integer ≥ 1', String(batchSize)));
    }
    if (options.timestamps !== undefined && options.timestamps.length !== sequences.length) {
      throw new RangeError(invalidArgument(where, 'options.timestamps', `one array per sequence (${sequences.length})`, `${options.timestamps.length} arrays`));
    }
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

/** Wraps one unpadded sequence as a batch at positions 0..len-1. */
export function singleBatch(items: Int32Array, timestamps: Float64Array | null): EncoderBatch {
  const positions = new Int32Array(items.length); // [len]
  for (let i = 0; i < items.length; i++) {
    positions[i] = i;
  }
  return { batch: 1, len: items.length, items, positions, timestamps };
}

/**
 * Packs sequences into a right-padded batch; each sequence's positions count from 0.
 *
 * @param sequences - each `[len_i]`, no padding.
 * @param timestamps - each `[len_i]` seconds, or `null` when the sequences have none.
 */
export function rightPaddedBatch(sequences: readonly Int32Array[], timestamps: readonly Float64Array[] | null = null): EncoderBatch {
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
  return { batch: sequences.length, len, items, positions, timestamps: times };
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

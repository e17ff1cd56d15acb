import type { AttentionStats, KVCache } from '@malloc/compression';
import type * as tf from '@tensorflow/tfjs';
import type { SeededRandom } from '../random';
import type { HstuConfig } from '../hstu/config';
import type { SasRecConfig } from '../sasrec/config';

/** Configuration of any model of this package. */
export type ModelConfig = SasRecConfig | HstuConfig;

/** Architecture of a model of this package. */
export type ModelKind = 'sasrec' | 'hstu' | 'gru4rec' | 'rwkv';

/** Result of {@link SequentialModel.prefill}. */
export interface PrefillResult {
  /** Full float32 cache of the kept history, positions 0..len-1. */
  cache: KVCache;
  /** Attention statistics of the history, or `null` when `recordStats` was not set. */
  stats: AttentionStats | null;
}

/** Result of {@link SequentialModel.append}. */
export interface AppendResult {
  /**
   * Output of the final layer (after the final normalisation) for each appended token,
   * `[count, d]` row-major; the last row is the user representation to score.
   */
  hidden: Float32Array;
  /** The input cache with the appended tokens' keys and values added (a new object). */
  cache: KVCache;
}

/** Options of {@link SequentialModel.prefill}. */
export interface PrefillOptions {
  /** Timestamp of each history item in seconds, `[n]`; ignored by models that use no time. */
  timestamps?: Float64Array;
  /**
   * Time in seconds of the request that follows the history. HSTU with `queryTime: 'next'`
   * measures the last history item's time differences from it, so a cache that later
   * receives `append` should get the first appended item's timestamp here. Other models
   * ignore it.
   */
  requestTime?: number;
  /** Record attention statistics for compression strategies. Default false. */
  recordStats?: boolean;
  /** Number of last history queries whose attention is kept in `stats.window`. Default 64. */
  statsWindow?: number;
}

/** Options of {@link SequentialModel.prefillBatch}. */
export interface PrefillBatchOptions {
  /** Timestamps in seconds, one `[n_i]` array per history. Models that use no time ignore them. */
  timestamps?: readonly Float64Array[];
  /** Request time in seconds after each history, `[histories]`, as {@link PrefillOptions.requestTime}. */
  requestTimes?: Float64Array;
  /** Record attention statistics for compression strategies. Default false. */
  recordStats?: boolean;
  /** Number of last history queries whose attention is kept in `stats.window`. Default 64. */
  statsWindow?: number;
  /**
   * Histories per encoder pass. Histories are grouped by length, so that a pass pads
   * little. Default value: 8
   * @minimum 1
   */
  batchSize?: number;
}

/** Options of {@link SequentialModel.append} and {@link SequentialModel.forwardLast}. */
export interface SequenceOptions {
  /** Timestamp of each item in seconds; ignored by models that use no time. */
  timestamps?: Float64Array;
  /**
   * Time in seconds of the request after the last item, as {@link PrefillOptions.requestTime}:
   * read only by HSTU with `queryTime: 'next'`, for the last item's time differences.
   */
  requestTime?: number;
}

/** Options of {@link SequentialModel.forwardLastBatch}. */
export interface ForwardBatchOptions {
  /**
   * Sequences per encoder pass.
   * Default value: 128
   * @minimum 1
   */
  batchSize?: number;
  /** Timestamps in seconds, one `[n_i]` array per sequence. Models that use no time ignore them. */
  timestamps?: readonly Float64Array[];
  /** Request time in seconds after each sequence, `[sequences]`, as {@link SequenceOptions.requestTime}. */
  requestTimes?: Float64Array;
}

/**
 * A sequential recommender with cached incremental inference.
 *
 * Item ids are 1..itemCount and 0 is padding. Every method validates ids in JavaScript
 * before any embedding lookup, so that an out-of-range id raises a RangeError on every
 * backend instead of reading a wrong row.
 */
export interface SequentialModel {
  /** Architecture: the attention models `sasrec` and `hstu`, or the recurrent models `gru4rec` and `rwkv`, whose cache contains a constant-size state. */
  readonly kind: ModelKind;
  readonly config: Readonly<ModelConfig>;
  /**
   * Runs the history through the model and returns a full float32 KVCache (positions
   * 0..len-1) and, when asked, attention statistics: the attention each key received summed
   * over all history queries, and the last `statsWindow` queries' attention. Left padding
   * is stripped and only the newest `maxLength` items are kept.
   */
  prefill(history: Int32Array, options?: PrefillOptions): PrefillResult;
  /**
   * Appends new items after the cached tokens (positions `cache.seenTokens`, +1, ...),
   * attending to the (possibly compressed) cache, honouring each cached token's original
   * position and merge weight.
   */
  append(cache: KVCache, items: Int32Array, options?: SequenceOptions): AppendResult;
  /**
   * Prefills many histories in right-padded encoder passes and returns one result per
   * history, in input order. Each result equals {@link prefill} of that history within
   * float32 rounding (a padded key gets exactly zero attention), so batching only saves the
   * per-call overhead of the tensor engine.
   *
   * @param histories - each `[n_i]` item ids, as for {@link prefill}.
   * @throws RangeError naming the first invalid history, timestamp array or option; nothing runs then.
   */
  prefillBatch(histories: readonly Int32Array[], options?: PrefillBatchOptions): PrefillResult[];
  /** Runs one full forward pass without a cache and returns the last position's hidden state, `[d]`. */
  forwardLast(sequence: Int32Array, options?: SequenceOptions): Float32Array;
  /**
   * Runs full forward passes for many sequences in padded batches and returns the last
   * position's hidden state of each, `[sequences.length, d]` row-major. Equal to calling
   * {@link forwardLast} on each sequence, within float32 rounding.
   */
  forwardLastBatch(sequences: readonly Int32Array[], options?: ForwardBatchOptions): Float32Array;
  /** Scores every item for a hidden state `[d]`: `[itemCount + 1]`, entry 0 (padding) is -Infinity. */
  scoreAll(hidden: Float32Array): Float32Array;
  /** Scores the given items (each in 1..itemCount) for a hidden state `[d]`: `[k]`. */
  scoreCandidates(hidden: Float32Array, items: Int32Array): Float32Array;
  /**
   * Scores labelled impressions against a (possibly compressed) history cache, M-FALCON style.
   * Each candidate is appended at position `cache.seenTokens` (with its own timestamp when
   * given) and attends to the cached tokens and to itself, never to another candidate. Its
   * score is the click logit `w · h + b` of the click head. The cache is not changed, and its
   * keys and values are decoded once for all candidates.
   *
   * @param candidates - `[k]` item ids in 1..itemCount.
   * @param options - `timestamps`: `[k]` seconds, one per candidate, required when the cache stores timestamps.
   * @returns click logits `[k]`.
   * @throws TypeError when the model has no click head (`ctrHead` off).
   * @throws RangeError for an id outside the catalogue, or when `cache.seenTokens` is not below `maxLength`.
   */
  scoreImpressions(cache: KVCache, candidates: Int32Array, options?: SequenceOptions): Float32Array;
  /**
   * Applies the click head to hidden states: `w · h + b` per row, accumulated in float64.
   *
   * @param hidden - `[n, d]` row-major, for example the `hidden` of `append`.
   * @returns click logits `[n]`.
   * @throws TypeError when the model has no click head (`ctrHead` off).
   */
  clickLogits(hidden: Float32Array): Float32Array;
  /** Number of trainable parameters. */
  numWeights(): number;
  /** Releases the model's tensors; the model cannot be used afterwards. */
  dispose(): void;
}

/** A named trainable tensor, in the order checkpoints store them. */
export interface NamedVariable {
  readonly name: string;
  readonly variable: tf.Variable;
}

/**
 * A padded batch of sequences for the batched encoder. Padding (item 0) may sit on either
 * side; each real item carries its position counted from 0 at the first real item.
 */
export interface EncoderBatch {
  readonly batch: number;
  readonly len: number;
  /** `[batch, len]` row-major item ids, 0 = padding. */
  readonly items: Int32Array;
  /** `[batch, len]` row-major positions; 0 at padding. */
  readonly positions: Int32Array;
  /** `[batch, len]` row-major timestamps in seconds, or `null` when the data has none. */
  readonly timestamps: Float64Array | null;
  /**
   * Time in seconds of the request after each sequence's last item, `[batch]`: in training,
   * the timestamp of the last target. Only HSTU with `queryTime: 'next'` reads it, and it is
   * absent or `null` otherwise.
   */
  readonly requestTimes?: Float64Array | null;
}

/**
 * Training interface that `trainModel` and checkpoints use besides the public one. Every
 * model of this package implements it; it is not part of the public API.
 */
export interface TrainableModel extends SequentialModel {
  /** Trainable tensors, in a fixed order. */
  readonly variables: readonly NamedVariable[];
  /** Whether scores use L2-normalised embeddings (then logits are divided by a temperature). */
  readonly normalizesEmbeddings: boolean;
  /**
   * Runs a padded batch through the model: final hidden states `[batch · len, d]` (zero or
   * finite at padding). `random` enables dropout; `null` runs in inference mode.
   */
  encodeBatch(batch: EncoderBatch, random: SeededRandom | null): tf.Tensor2D;
  /** Output embeddings of items as scoring uses them (L2-normalised when configured), `[k, d]`. */
  outputEmbeddings(items: tf.Tensor1D): tf.Tensor2D;
  /** Called after the variables changed (a training step, a load) to drop derived caches. */
  weightsChanged(): void;
  /**
   * Click logits of final hidden states as a tensor that depends on the head's variables.
   *
   * @param hidden - `[n, d]`.
   * @returns `[n]`.
   * @throws TypeError when the model has no click head.
   */
  clickLogitTensor(hidden: tf.Tensor2D): tf.Tensor1D;
}

/** Tests whether a model exposes the training interface of this package. */
export function isTrainableModel(model: SequentialModel): model is TrainableModel {
  const candidate = model as Partial<TrainableModel>;
  return Array.isArray(candidate.variables) && typeof candidate.encodeBatch === 'function' && typeof candidate.outputEmbeddings === 'function';
}

import { createFullHead, type KVCache, type LayerCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { incompatibleCache, invalidArgument } from '../messages';
import { BaseSequentialModel, checkCacheLayout, type EncoderRecord } from '../model/base-model';
import { prepareSequence, validateItems, validateTimestamps } from '../model/input';
import type { AppendResult, EncoderBatch, NamedVariable, PrefillBatchOptions, PrefillOptions, PrefillResult, SequenceOptions } from '../model/types';
import { dropout } from '../ops/layers';
import type { SeededRandom } from '../random';
import type { RecurrentConfig } from './config';

/** Output of one recurrent layer over a `[batch, len]` block of tokens. */
export interface LayerRun {
  /** Output of the layer at every token, `[batch, len, d]`. */
  output: tf.Tensor3D;
  /**
   * State after the last token, `[batch, stateWidth]`. Valid for unpadded or left-padded rows.
   * `null` when the layer ran a parallel form that does not compute the state (only when the
   * caller passed `parallel: true`).
   */
  state: tf.Tensor2D | null;
}

/**
 * Base class of the recurrent models (GRU4Rec, RWKV): a per-user state of constant size
 * replaces the growing KV cache.
 *
 * The state travels in a {@link KVCache} with one "token" per layer and one head: the first
 * `stateKeyWidth` numbers of the layer's state are the head's keys `[1, stateKeyWidth]`, the
 * rest its values `[1, stateWidth - stateKeyWidth]`. So `cacheBytes` measures the state
 * (layers · stateWidth · 4 bytes, no position, timestamp or merge-weight buffers), and
 * `seenTokens` counts the items consumed. Token-eviction strategies have nothing to evict in
 * such a cache and must not be applied to it.
 */
export abstract class RecurrentModel extends BaseSequentialModel {
  declare readonly config: Readonly<RecurrentConfig>;

  protected constructor(config: RecurrentConfig, variables: readonly NamedVariable[], itemEmbedding: tf.Variable) {
    super(Object.freeze({ ...config }), variables, itemEmbedding);
  }

  /** Numbers of one layer's state, `stateWidth`. */
  protected abstract get stateWidth(): number;

  /** Numbers of one layer's state stored as the cache head's keys; the rest are its values. */
  protected abstract get stateKeyWidth(): number;

  /** State of one layer before any item, `[stateWidth]`. */
  protected abstract initialState(): Float32Array;

  /**
   * Runs one layer over a block of tokens from a given state.
   *
   * @param x - layer input, `[batch, len, d]`.
   * @param mask - 1 at real items and 0 at padding, `[batch, len, 1]`. A padded step leaves the recurrent state unchanged.
   * @param state - `[batch, stateWidth]`.
   * @param parallel - true when `state` is the initial state of every row, the caller reads no
   * returned state, and each row's real items are one contiguous run (unpadded, left-padded or
   * right-padded). A layer may then run a parallel form over time, whose outputs must equal the
   * recurrent form's at every position up to the last real item of each row.
   */
  protected abstract runLayer(layer: number, x: tf.Tensor3D, mask: tf.Tensor3D, state: tf.Tensor2D, random: SeededRandom | null, parallel: boolean): LayerRun;

  /** Item embeddings as the first layer reads them, `[n, d]`, before dropout. */
  protected abstract embed(items: tf.Tensor1D): tf.Tensor2D;

  /** Output of the last layer turned into the hidden state that scoring reads, `[n, d]`. */
  protected abstract finalOutput(x: tf.Tensor2D): tf.Tensor2D;

  protected get keySize(): number {
    return this.stateKeyWidth;
  }

  protected get valueSize(): number {
    return this.stateWidth - this.stateKeyWidth;
  }

  protected get usesTime(): boolean {
    return false;
  }

  /**
   * Runs the history from the initial state and returns the state after its last item. The
   * result has no attention statistics (`stats` is `null`), because a recurrent model has no
   * attention.
   */
  override prefill(history: Int32Array, options: PrefillOptions = {}): PrefillResult {
    const where = `${this.label}.prefill`;
    const prepared = prepareSequence(where, 'history', history, this.config.itemCount, this.config.maxLength);
    validateTimestamps(where, options.timestamps, history.length);
    const initial = this.initialStates();
    if (prepared.items.length === 0) {
      return { cache: this.stateCache(initial, 0, prepared.items), stats: null };
    }
    const run = this.runTokens(prepared.items, initial);
    return { cache: this.stateCache(run.states, prepared.items.length, prepared.items), stats: null };
  }

  /**
   * Prefills each history in turn, so `options.batchSize` is only validated. A recurrent pass
   * runs step by step, so padding histories together would save little.
   */
  override prefillBatch(histories: readonly Int32Array[], options: PrefillBatchOptions = {}): PrefillResult[] {
    const where = `${this.label}.prefillBatch`;
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(invalidArgument(where, 'options.batchSize', 'an integer ≥ 1', String(batchSize)));
    }
    if (options.timestamps !== undefined && options.timestamps.length !== histories.length) {
      throw new RangeError(invalidArgument(where, 'options.timestamps', `one array per history (${histories.length})`, `${options.timestamps.length} arrays`));
    }
    histories.forEach((history, index) => {
      prepareSequence(where, `histories[${index}]`, history, this.config.itemCount, this.config.maxLength);
      validateTimestamps(where, options.timestamps?.[index], history.length);
    });
    return histories.map((history) => this.prefill(history));
  }

  /**
   * Advances the state by the given items. The returned cache contains the new state and counts
   * the items in `seenTokens`; its byte size does not change. There is no position limit.
   */
  append(cache: KVCache, items: Int32Array, options: SequenceOptions = {}): AppendResult {
    const where = `${this.label}.append`;
    validateItems(where, 'items', items, this.config.itemCount);
    if (items.length === 0) {
      throw new RangeError(invalidArgument(where, 'items', 'at least one item', 'an empty array'));
    }
    validateTimestamps(where, options.timestamps, items.length);
    const states = this.statesOf(where, cache);
    const run = this.runTokens(items, states);
    const itemIds = new Int32Array(cache.itemIds.length + items.length); // [seenTokens + count]
    itemIds.set(cache.itemIds);
    itemIds.set(items, cache.itemIds.length);
    return { hidden: run.hidden, cache: this.stateCache(run.states, cache.seenTokens + items.length, itemIds) };
  }

  /** Runs a padded batch from the initial state; `record` is not used, because prefill reads the state instead. */
  protected encode(batch: EncoderBatch, random: SeededRandom | null, record: EncoderRecord | null): tf.Tensor2D {
    void record;
    const states = this.initialStates().map((state) => {
      const rows = new Float32Array(batch.batch * state.length); // [batch, stateWidth]
      for (let row = 0; row < batch.batch; row++) {
        rows.set(state, row * state.length);
      }
      return tf.tensor2d(rows, [batch.batch, state.length]);
    });
    return this.runLayers(batch.items, batch.batch, batch.len, states, random, hasContiguousRows(batch.items, batch.batch, batch.len)).hidden;
  }

  /**
   * Runs one unpadded sequence of items from the given per-layer states.
   *
   * @returns the final hidden state of every item `[len, d]` and the per-layer states after the last item.
   */
  private runTokens(items: Int32Array, states: readonly Float32Array[]): { hidden: Float32Array; states: Float32Array[] } {
    return tf.tidy(() => {
      const initial = states.map((state) => tf.tensor2d(state, [1, state.length])); // per layer [1, stateWidth]
      const run = this.runLayers(items, 1, items.length, initial, null, false);
      return { hidden: run.hidden.dataSync() as Float32Array, states: run.states.map((state) => (state as tf.Tensor2D).dataSync() as Float32Array) };
    });
  }

  /**
   * Embeds a `[batch, len]` block, runs every layer and applies the final output transform.
   *
   * @param parallel - passed to {@link runLayer}. When true, the returned states may be `null`.
   */
  private runLayers(items: Int32Array, batch: number, len: number, states: readonly tf.Tensor2D[], random: SeededRandom | null, parallel: boolean): { hidden: tf.Tensor2D; states: (tf.Tensor2D | null)[] } {
    const d = this.config.hiddenSize;

    // Embed the items; padding rows become zero.
    const valid = Float32Array.from(items, (item) => (item === 0 ? 0 : 1)); // [batch · len]
    const mask = tf.tensor3d(valid, [batch, len, 1]);
    const embedded = tf.mul(this.embed(tf.tensor1d(items, 'int32')), tf.reshape(mask, [batch * len, 1])) as tf.Tensor2D; // [batch · len, d]
    let x = tf.reshape(dropout(embedded, this.config.dropout, random), [batch, len, d]) as tf.Tensor3D;

    // Run the layers, with dropout between them when training.
    const finalStates: (tf.Tensor2D | null)[] = [];
    for (let layer = 0; layer < this.config.layers; layer++) {
      const run = this.runLayer(layer, x, mask, states[layer], random, parallel);
      finalStates.push(run.state);
      x = layer < this.config.layers - 1 ? dropout(run.output, this.config.dropout, random) : run.output;
    }
    return { hidden: this.finalOutput(tf.reshape(x, [batch * len, d]) as tf.Tensor2D), states: finalStates };
  }

  /** Initial state of every layer. */
  private initialStates(): Float32Array[] {
    return Array.from({ length: this.config.layers }, () => this.initialState());
  }

  /** Wraps per-layer states `[stateWidth]` into a KVCache with one token per layer. */
  private stateCache(states: readonly Float32Array[], seenTokens: number, itemIds: Int32Array): KVCache {
    const keyWidth = this.stateKeyWidth;
    const valueWidth = this.stateWidth - keyWidth;
    const layers: LayerCache[] = states.map((state) => ({
      heads: [createFullHead(state.slice(0, keyWidth), state.slice(keyWidth), 1, keyWidth, valueWidth)],
    }));
    return { layers, seenTokens, itemIds: itemIds.slice() };
  }

  /**
   * Reads the per-layer states out of a cache made by {@link stateCache}.
   *
   * @throws RangeError when the cache does not hold exactly one float32 state token per layer.
   */
  private statesOf(where: string, cache: KVCache): Float32Array[] {
    checkCacheLayout(where, cache, this.config.layers, 1, this.stateKeyWidth, this.stateWidth - this.stateKeyWidth);
    return cache.layers.map((layer, index) => {
      const head = layer.heads[0];
      if (head.keys.rows !== 1 || head.keys.kind !== 'float32' || head.values.kind !== 'float32') {
        throw new RangeError(incompatibleCache(where, `layer ${index} must hold one float32 state token, found ${head.keys.rows} ${head.keys.kind} token(s)`));
      }
      const state = new Float32Array(this.stateWidth); // [stateWidth]
      state.set(head.keys.decode(), 0);
      state.set(head.values.decode(), this.stateKeyWidth);
      return state;
    });
  }
}

/** Tells whether the real (non-zero) items of each row of a `[batch, len]` block form one contiguous run. An empty row counts as contiguous. */
export function hasContiguousRows(items: Int32Array, batch: number, len: number): boolean {
  for (let row = 0; row < batch; row++) {
    let runs = 0;
    for (let t = 0; t < len; t++) {
      const real = items[row * len + t] !== 0;
      if (real && (t === 0 || items[row * len + t - 1] === 0)) {
        runs++;
      }
    }
    if (runs > 1) {
      return false;
    }
  }
  return true;
}

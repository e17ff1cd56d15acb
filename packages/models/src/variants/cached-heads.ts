import type { HeadCache, LayerCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import type { CacheLayout } from './head-sharing';

/** Keys and values of new tokens from one layer, before they meet the cache. */
export interface KeyValueProjection {
  /** Keys with key/value heads side by side, `[count, kvHeads · dKey]`. */
  keys: tf.Tensor2D;
  /** Values with key/value heads side by side, `[count, kvHeads · dValue]`. */
  values: tf.Tensor2D;
  /** Multi-head latent attention latent, `[count, r]`; `null` for a model without a latent. */
  latent: tf.Tensor2D | null;
}

/** Keys and values of every key/value head over the cached tokens followed by the new ones. */
export interface CachedKeyValueHeads {
  /** Per key/value head, `[len_g + count, dKey]`. */
  keys: tf.Tensor2D[];
  /** Per key/value head, `[len_g + count, dValue]`. */
  values: tf.Tensor2D[];
  /** Per key/value head, the cache head that stores its cached tokens (positions, timestamps, merge weights). */
  cached: HeadCache[];
  /** Per cache head, the rows that `append` adds as keys, `[count, keyWidth]`. */
  newKeys: Float32Array[];
  /** Per cache head, the rows that `append` adds as values, `[count, valueWidth]`. */
  newValues: Float32Array[];
}

/**
 * Builds the keys and values that appended queries attend to, head by key/value head.
 * Without a latent, key/value head g reads cache head g. With a latent, the single cache head
 * stores the latent split into key columns and value columns. The halves are joined back into
 * `[len, r]` and the new tokens' latents appended. Then `upProject` computes every head's keys
 * and values from the result, so scores of cached tokens come from their latent.
 *
 * @param layerCache - the layer's cache heads, laid out as `layout`.
 * @param projection - the new tokens' keys, values and latent.
 * @param upProject - maps latents `[n, r]` to keys `[n, kvHeads · dKey]` and values `[n, kvHeads · dValue]`.
 */
export function cachedKeyValueHeads(
  layerCache: LayerCache,
  projection: KeyValueProjection,
  layout: CacheLayout,
  kvHeads: number,
  dKey: number,
  dValue: number,
  upProject: (latent: tf.Tensor2D) => { keys: tf.Tensor2D; values: tf.Tensor2D },
): CachedKeyValueHeads {
  const count = projection.keys.shape[0];
  const out: CachedKeyValueHeads = { keys: [], values: [], cached: [], newKeys: [], newValues: [] };

  // Without a latent every key/value head has its own cache head.
  if (projection.latent === null) {
    for (let g = 0; g < kvHeads; g++) {
      const cached = layerCache.heads[g];
      const len = cached.keys.rows;
      const headKeys = tf.slice(projection.keys, [0, g * dKey], [count, dKey]); // [count, dKey]
      const headValues = tf.slice(projection.values, [0, g * dValue], [count, dValue]); // [count, dValue]
      out.keys.push(tf.concat([tf.tensor2d(cached.keys.decode(), [len, dKey]), headKeys], 0)); // [len + count, dKey]
      out.values.push(tf.concat([tf.tensor2d(cached.values.decode(), [len, dValue]), headValues], 0)); // [len + count, dValue]
      out.cached.push(cached);
      out.newKeys.push(headKeys.dataSync() as Float32Array);
      out.newValues.push(headValues.dataSync() as Float32Array);
    }
    return out;
  }

  // With a latent, join the cached halves, append the new latents and project every head up.
  // NOTE: projecting every cached latent up costs (len + count) · r · kvHeads · (dKey + dValue)
  // MACs per layer and request; SASRec folds the projections into its queries instead
  // (absorbed attention), which HSTU cannot, because a SiLU follows its up projection.
  const rows = cachedLatentRows(layerCache, projection.latent, layout);
  const up = upProject(rows.latent);
  const total = rows.latent.shape[0];
  for (let g = 0; g < kvHeads; g++) {
    out.keys.push(tf.slice(up.keys, [0, g * dKey], [total, dKey])); // [len + count, dKey]
    out.values.push(tf.slice(up.values, [0, g * dValue], [total, dValue])); // [len + count, dValue]
    out.cached.push(rows.cached);
  }
  out.newKeys.push(rows.newKeys);
  out.newValues.push(rows.newValues);
  return out;
}

/** The latents of an MLA layer's cached tokens followed by those of new tokens. */
export interface CachedLatentRows {
  /** Cached latents, then the new ones, `[len + count, r]`. */
  latent: tf.Tensor2D;
  /** The single cache head that stores the latents (positions, timestamps, merge weights). */
  cached: HeadCache;
  /** The rows that `append` adds as keys: the new latents' first `keyWidth` columns, `[count, keyWidth]`. */
  newKeys: Float32Array;
  /** The rows that `append` adds as values: their other columns, `[count, valueWidth]`. */
  newValues: Float32Array;
}

/**
 * Joins an MLA layer's cached latent halves back into `[len, r]` and appends the new tokens'
 * latents.
 *
 * @param layerCache - the layer's single cache head, laid out as `layout`.
 * @param latent - the new tokens' latents, `[count, r]`.
 */
export function cachedLatentRows(layerCache: LayerCache, latent: tf.Tensor2D, layout: CacheLayout): CachedLatentRows {
  const cached = layerCache.heads[0];
  const len = cached.keys.rows;
  const count = latent.shape[0];
  const { keyWidth, valueWidth } = layout;
  const cachedLatent = tf.concat([tf.tensor2d(cached.keys.decode(), [len, keyWidth]), tf.tensor2d(cached.values.decode(), [len, valueWidth])], 1); // [len, r]
  return {
    latent: tf.concat([cachedLatent, latent], 0) as tf.Tensor2D,
    cached,
    newKeys: tf.slice(latent, [0, 0], [count, keyWidth]).dataSync() as Float32Array,
    newValues: tf.slice(latent, [0, keyWidth], [count, valueWidth]).dataSync() as Float32Array,
  };
}

/**
 * Selects the tensors that prefill stores for one layer. These are the keys and values of each
 * key/value head, or the latent split into key columns and value columns.
 *
 * @returns `keys` `[n, heads · keyWidth]` and `values` `[n, heads · valueWidth]` of the cache layout.
 */
export function cachedColumns(projection: KeyValueProjection, layout: CacheLayout): { keys: tf.Tensor2D; values: tf.Tensor2D } {
  if (projection.latent === null) {
    return { keys: projection.keys, values: projection.values };
  }
  const rows = projection.latent.shape[0];
  return {
    keys: tf.slice(projection.latent, [0, 0], [rows, layout.keyWidth]),
    values: tf.slice(projection.latent, [0, layout.keyWidth], [rows, layout.valueWidth]),
  };
}

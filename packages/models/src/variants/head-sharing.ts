import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';

// Head-level model variants of SASRec and HSTU that change what the KV cache stores.
//
// - Multi-query attention (MQA; Noam Shazeer, "Fast Transformer Decoding: One Write-Head is
//   All You Need", 2019, arXiv:1911.02150): every query head reads one shared key/value head.
// - Grouped-query attention (GQA; Ainslie et al., "GQA: Training Generalized Multi-Query
//   Transformer Models from Multi-Head Checkpoints", EMNLP 2023, arXiv:2305.13245): the
//   `heads` query heads form `kvHeads` groups of consecutive heads, and each group reads one
//   key/value head. Query head h reads key/value head ⌊h / (heads / kvHeads)⌋.
// - Multi-head latent attention (MLA; DeepSeek-AI, "DeepSeek-V2", 2024, arXiv:2405.04434):
//   each token caches one latent `c = x · W_dkv` of width r per layer, and the keys and values
//   of every head are projected up from it.

/** Fields of a model configuration that select a head-level variant. */
export interface HeadVariantFields {
  heads: number;
  /** Key/value heads; `heads` when absent. */
  kvHeads?: number;
  /** Width r of the cached MLA latent; absent for a model without a latent. */
  kvLatentSize?: number;
}

/** Layout of one layer's cache entries for a head-level variant. */
export interface CacheLayout {
  /** Cache heads per layer: `kvHeads`, or 1 for MLA (the latent). */
  heads: number;
  /** Columns stored as keys per cache head. */
  keyWidth: number;
  /** Columns stored as values per cache head. */
  valueWidth: number;
}

/** Returns the number of key/value heads of a configuration (`heads` when unset). */
export function kvHeadsOf(config: HeadVariantFields): number {
  return config.kvHeads ?? config.heads;
}

/** Returns the MLA latent width of a configuration, or `null` for a model without a latent. */
export function latentSizeOf(config: HeadVariantFields): number | null {
  return config.kvLatentSize ?? null;
}

/**
 * Returns the name of the head-level variant: `mha` (one key/value head per query head),
 * `mqa`, `gqa` or `mla`.
 */
export function headVariantOf(config: HeadVariantFields): 'mha' | 'mqa' | 'gqa' | 'mla' {
  if (latentSizeOf(config) !== null) {
    return 'mla';
  }
  const kvHeads = kvHeadsOf(config);
  if (kvHeads === config.heads) {
    return 'mha';
  }
  return kvHeads === 1 ? 'mqa' : 'gqa';
}

/**
 * Returns the cache layout of a variant. MLA stores the latent of each token as one cache head
 * per layer, split by columns: the first ⌈r/2⌉ columns as keys and the other ⌊r/2⌋ as values.
 * The split keeps every buffer a plain float32 block, so pruning, merging and quantising
 * strategies apply unchanged and the bytes are exactly `len · r · 4` per layer.
 *
 * @param keySize - key width of one attention head.
 * @param valueSize - value width of one attention head.
 */
export function cacheLayoutOf(config: HeadVariantFields, keySize: number, valueSize: number): CacheLayout {
  const latent = latentSizeOf(config);
  if (latent !== null) {
    return { heads: 1, keyWidth: Math.ceil(latent / 2), valueWidth: Math.floor(latent / 2) };
  }
  return { heads: kvHeadsOf(config), keyWidth: keySize, valueWidth: valueSize };
}

/**
 * Validates `kvHeads` and `kvLatentSize` of a resolved configuration.
 *
 * @param where - function named in errors, for example `createSasRec`.
 * @throws RangeError when `kvHeads` is not a divisor of `heads` or `kvLatentSize` is not an integer ≥ 2.
 */
export function validateHeadVariant(where: string, config: HeadVariantFields): void {
  if (config.kvHeads !== undefined) {
    const kvHeads = config.kvHeads;
    if (!Number.isInteger(kvHeads) || kvHeads < 1 || config.heads % kvHeads !== 0) {
      throw new RangeError(invalidArgument(where, 'config.kvHeads', `a divisor of heads ${config.heads} (1 = multi-query attention)`, String(kvHeads)));
    }
  }
  if (config.kvLatentSize !== undefined) {
    const latent = config.kvLatentSize;
    if (!Number.isInteger(latent) || latent < 2) {
      throw new RangeError(invalidArgument(where, 'config.kvLatentSize', 'an integer ≥ 2 (the latent is stored as two halves of at least one column)', String(latent)));
    }
  }
}

/**
 * Copies optional variant fields into a resolved configuration only when they are set, so
 * that a configuration without them (and its checkpoint) stays as it was before variants.
 */
export function withHeadVariant<T extends object>(resolved: T, config: { kvHeads?: number; kvLatentSize?: number }): T & { kvHeads?: number; kvLatentSize?: number } {
  const out: T & { kvHeads?: number; kvLatentSize?: number } = { ...resolved };
  if (config.kvHeads !== undefined) {
    out.kvHeads = config.kvHeads;
  }
  if (config.kvLatentSize !== undefined) {
    out.kvLatentSize = config.kvLatentSize;
  }
  return out;
}

/**
 * Repeats key/value heads so that each query head has its own copy: column block h of the
 * result is block ⌊h / group⌋ of the input. Returns `x` itself when `kvHeads === heads`.
 * The copy is a column gather, whose gradient sums the group's gradients into the shared head.
 *
 * @param x - `[n, kvHeads · width]`.
 * @returns `[n, heads · width]`.
 */
export function repeatKvHeads(x: tf.Tensor2D, heads: number, kvHeads: number): tf.Tensor2D {
  if (kvHeads === heads) {
    return x;
  }
  const width = x.shape[1] / kvHeads;
  const group = heads / kvHeads;
  const columns = new Int32Array(heads * width); // [heads · width]
  for (let head = 0; head < heads; head++) {
    const kvHead = Math.floor(head / group);
    for (let c = 0; c < width; c++) {
      columns[head * width + c] = kvHead * width + c;
    }
  }
  return tf.gather(x, tf.tensor1d(columns, 'int32'), 1) as tf.Tensor2D;
}

/**
 * Averages attention weights over the query heads that share a cache head, so that attention
 * statistics have one row per cache head and the scale of a single head.
 *
 * @param weights - `[heads, len, len]`.
 * @param cacheHeads - cache heads; a divisor of `heads`.
 * @returns `[cacheHeads, len, len]`; `weights` itself when `cacheHeads === heads`.
 */
export function meanOverGroups(weights: Float32Array, heads: number, cacheHeads: number, len: number): Float32Array {
  if (cacheHeads === heads) {
    return weights;
  }
  const group = heads / cacheHeads;
  const block = len * len;
  const out = new Float32Array(cacheHeads * block); // [cacheHeads, len, len]
  for (let head = 0; head < heads; head++) {
    const target = Math.floor(head / group) * block;
    const source = head * block;
    for (let i = 0; i < block; i++) {
      out[target + i] += weights[source + i] / group;
    }
  }
  return out;
}

/** Returns the cache heads per layer of a variant: `kvHeads`, or 1 for MLA. */
export function cacheHeadsOf(config: HeadVariantFields): number {
  return latentSizeOf(config) === null ? kvHeadsOf(config) : 1;
}

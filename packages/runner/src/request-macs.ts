import type { KVCache } from '@malloc/compression';
import { requestMacs, type AttentionModelConfig, type ModelDimensions } from '@malloc/metrics';
import {
  cachedChunkRows,
  lshBucketPairs,
  recurrentMacs,
  variantRequestMacs,
  type AttentionKind,
  type RecurrentKind,
  type RecurrentMacsConfig,
  type SequentialModel,
  type VariantMacsConfig,
} from '@malloc/models';

/** Dimensions of a recurrent model for {@link recurrentMacs} of `@malloc/models`. */
export interface RecurrentMacModel {
  architecture: RecurrentKind;
  config: RecurrentMacsConfig;
}

/** Configuration of a SASRec or HSTU variant (MLA, beacon, Linformer, LSH) for {@link variantRequestMacs} of `@malloc/models`. */
export interface VariantMacModel {
  /** Base architecture of the variant. */
  architecture: AttentionKind;
  /** The model's configuration, variant fields included. */
  variant: VariantMacsConfig;
}

/** Dimensions of any model with an analytical MAC model: attention (from `@malloc/metrics`), recurrent, or an attention variant. */
export type RequestMacModel = ModelDimensions | RecurrentMacModel | VariantMacModel;

/** Counts of one user's request that a variant's MAC model reads from the caches; see {@link measureRequest}. */
export interface MeasuredRequest {
  /** Beacon and Linformer: cached rows of the newest, incomplete chunk before the append. */
  chunkRows?: number;
  /** LSH: same-bucket (query, key) pairs of the request, over layers and heads. */
  bucketPairs?: number;
}

/**
 * Builds the dimensions of a model's analytical MAC model, or returns `null` for a model kind
 * without one (every kind of `@malloc/models` has one). Plain SASRec and HSTU, with or
 * without `kvHeads`, get the dimensions of `requestMacs` of `@malloc/metrics`. GRU4Rec and
 * RWKV get those of `recurrentMacs` of `@malloc/models`. MLA (`kvLatentSize`), beacon,
 * Linformer and LSH models get their configuration for `variantRequestMacs` of `@malloc/models`.
 */
export function macModelOf(model: SequentialModel): RequestMacModel | null {
  const config = model.config as unknown as Record<string, unknown>;
  if (model.kind === 'gru4rec' || model.kind === 'rwkv') {
    return { architecture: model.kind, config: { layers: model.config.layers, hiddenSize: model.config.hiddenSize, itemCount: model.config.itemCount } };
  }
  if (model.kind !== 'sasrec' && model.kind !== 'hstu') {
    return null;
  }
  if (config.kvLatentSize !== undefined || config.beacon !== undefined || config.linformer !== undefined || config.lsh !== undefined) {
    return { architecture: model.kind, variant: model.config as VariantMacsConfig };
  }
  const dimensions: AttentionModelConfig = {
    layers: model.config.layers,
    hiddenSize: model.config.hiddenSize,
    heads: model.config.heads,
    itemCount: model.config.itemCount,
    ...(typeof config.kvHeads === 'number' ? { kvHeads: config.kvHeads } : {}),
    ...(model.kind === 'hstu' ? { dqk: config.queryKeySize as number, dv: config.valueSize as number } : {}),
  };
  return { architecture: model.kind, config: dimensions };
}

/**
 * Computes the analytical MACs of one retrieval request: the append of `requestLength` tokens
 * against `cachedTokens` cached tokens, then full-catalogue scoring. With `cachedTokens` null
 * (the `recompute` row) it counts one full forward pass over history and request instead. A
 * recurrent model's append costs the same at any history length, so it ignores `cachedTokens`.
 * A variant's count also reads `measured` (from {@link measureRequest}). Without it, the count
 * uses the defaults of `VariantRequest` in `@malloc/models`: the newest chunk's rows all
 * cached, and the expected LSH bucket sizes.
 */
export function retrievalRequestMacs(macModel: RequestMacModel, historyLength: number, requestLength: number, cachedTokens: number | null, measured: MeasuredRequest = {}): number {
  if (isVariantMacModel(macModel)) {
    const request = { seenTokens: historyLength, cachedRows: cachedTokens ?? historyLength, requestLength, ...measured };
    const macs = variantRequestMacs(macModel.architecture, macModel.variant, request);
    return cachedTokens === null ? macs.withoutCache : macs.withCache;
  }
  if (isRecurrentMacModel(macModel)) {
    const recurrent = recurrentMacs(macModel.architecture, macModel.config, { historyLength, requestLength });
    return cachedTokens === null ? recurrent.withoutCache : recurrent.withCache;
  }
  const macs = requestMacs(macModel, { requestLength }, historyLength, cachedTokens ?? historyLength);
  return cachedTokens === null ? macs.withoutCache : macs.withCache;
}

/**
 * Measures what a variant's MAC model reads from one user's caches: the rows of the newest
 * chunk that `cache` kept (beacon, Linformer) and the same-bucket pairs of the request in the
 * `grown` cache that `append` returned (LSH). Returns `{}` for any other model.
 *
 * @param cache - the cache that the request was appended to, after any compression.
 * @param grown - the cache that `append` returned.
 */
export function measureRequest(macModel: RequestMacModel, cache: KVCache, grown: KVCache, requestLength: number): MeasuredRequest {
  if (!isVariantMacModel(macModel)) {
    return {};
  }
  const { beacon, linformer, lsh } = macModel.variant;
  const chunkSize = beacon?.chunkSize ?? linformer?.blockSize;
  if (chunkSize !== undefined) {
    return { chunkRows: cachedChunkRows(cache, chunkSize) };
  }
  if (lsh !== undefined) {
    return { bucketPairs: lshBucketPairs(macModel.architecture, macModel.variant, grown, requestLength) };
  }
  return {};
}

function isVariantMacModel(model: RequestMacModel): model is VariantMacModel {
  return 'variant' in model;
}

function isRecurrentMacModel(model: RequestMacModel): model is RecurrentMacModel {
  return model.architecture === 'gru4rec' || model.architecture === 'rwkv';
}

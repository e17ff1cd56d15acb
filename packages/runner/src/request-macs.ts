import { requestMacs, type AttentionModelConfig, type ModelDimensions } from '@malloc/metrics';
import { recurrentMacs, type RecurrentKind, type RecurrentMacsConfig, type SequentialModel } from '@malloc/models';

/** Dimensions of a recurrent model for {@link recurrentMacs} of `@malloc/models`. */
export interface RecurrentMacModel {
  architecture: RecurrentKind;
  config: RecurrentMacsConfig;
}

/** Dimensions of any model with an analytical MAC model: attention (from `@malloc/metrics`) or recurrent. */
export type RequestMacModel = ModelDimensions | RecurrentMacModel;

/**
 * Builds the dimensions that the analytical MAC model of `@malloc/metrics` needs from a
 * model's configuration, or returns `null` when that model has no MAC model there. GRU4Rec
 * and RWKV get the dimensions of `recurrentMacs` of `@malloc/models` instead.
 *
 * NOTE: MLA variants (`kvLatentSize` set) have no MAC model in `@malloc/metrics`, because
 * their append re-projects K and V from every cached latent. Their rows carry no MACs.
 * Neither do beacon and Linformer models (`beacon`, `linformer`): an append that completes a
 * chunk also runs the beacons or the block projection, which that MAC model does not count.
 * LSH models (`lsh`) attend only within buckets, which that MAC model does not count either.
 */
export function macModelOf(model: SequentialModel): RequestMacModel | null {
  const config = model.config as unknown as Record<string, unknown>;
  if (model.kind === 'gru4rec' || model.kind === 'rwkv') {
    return { architecture: model.kind, config: { layers: model.config.layers, hiddenSize: model.config.hiddenSize, itemCount: model.config.itemCount } };
  }
  if (config.kvLatentSize !== undefined || config.beacon !== undefined || config.linformer !== undefined || config.lsh !== undefined) {
    return null;
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
 */
export function retrievalRequestMacs(macModel: RequestMacModel, historyLength: number, requestLength: number, cachedTokens: number | null): number {
  if (isRecurrentMacModel(macModel)) {
    const recurrent = recurrentMacs(macModel.architecture, macModel.config, { historyLength, requestLength });
    return cachedTokens === null ? recurrent.withoutCache : recurrent.withCache;
  }
  const macs = requestMacs(macModel, { requestLength }, historyLength, cachedTokens ?? historyLength);
  return cachedTokens === null ? macs.withoutCache : macs.withCache;
}

function isRecurrentMacModel(model: RequestMacModel): model is RecurrentMacModel {
  return model.architecture === 'gru4rec' || model.architecture === 'rwkv';
}

import { requestMacs, type AttentionModelConfig, type ModelDimensions } from '@malloc/metrics';
import type { SequentialModel } from '@malloc/models';

/**
 * Builds the dimensions that the analytical MAC model of `@malloc/metrics` needs from a
 * model's configuration, or returns `null` when that model has no MAC model there.
 *
 * NOTE: MLA variants (`kvLatentSize` set) have no MAC model in `@malloc/metrics`, because
 * their append re-projects K and V from every cached latent. Their rows carry no MACs.
 */
export function macModelOf(model: SequentialModel): ModelDimensions | null {
  const config = model.config as unknown as Record<string, unknown>;
  if (config.kvLatentSize !== undefined) {
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
 * (the `recompute` row) it counts one full forward pass over history and request instead.
 */
export function retrievalRequestMacs(macModel: ModelDimensions, historyLength: number, requestLength: number, cachedTokens: number | null): number {
  const macs = requestMacs(macModel, { requestLength }, historyLength, cachedTokens ?? historyLength);
  return cachedTokens === null ? macs.withoutCache : macs.withCache;
}

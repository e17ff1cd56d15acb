import { invalidArgument } from './messages';
import { requireArrayLike, requireFinite, requireInteger, requirePositiveInteger } from './validation';

/** Key and value widths of one attention layer's cache. */
export interface KVLayerShape {
  /** Number of key/value heads (fewer than query heads under MQA or GQA). @minimum 1 */
  kvHeads: number;
  /** Width of one key vector per KV head (HSTU's d_qk). @minimum 1 */
  keyDim: number;
  /** Width of one value vector per KV head (HSTU's d_v, which may differ from keyDim). @minimum 0 */
  valueDim: number;
}

/** Input of {@link kvCacheBytes}. */
export interface KVCacheShape {
  /** One entry per layer, because widths may differ between layers. */
  layers: readonly KVLayerShape[];
  /** Number of cached tokens per layer (`len`). @minimum 0 */
  tokens: number;
  /** Bytes per stored element. Default value: 4 (float32). */
  bytesPerElement?: number;
  /**
   * Bytes of per-token metadata stored in each layer, for example 4 for an int32 original
   * position. Default value: 0.
   */
  metadataBytesPerToken?: number;
}

/** Analytical size of one user's uncompressed cache. */
export interface KVCacheBytes {
  /** Σ_layers kvHeads · keyDim · tokens · bytesPerElement. */
  keyBytes: number;
  /** Σ_layers kvHeads · valueDim · tokens · bytesPerElement. */
  valueBytes: number;
  /** layers · tokens · metadataBytesPerToken. */
  metadataBytes: number;
  /** keyBytes + valueBytes + metadataBytes. */
  totalBytes: number;
  /** totalBytes / tokens: the cost of one more cached interaction (0 when tokens is 0). */
  bytesPerToken: number;
}

/**
 * Efficiency: computes the analytical byte size of an uncompressed KV cache from the
 * model's per-layer key and value widths.
 *
 * bytes = Σ_layers tokens · kvHeads · (keyDim + valueDim) · bytesPerElement
 *       + layers · tokens · metadataBytesPerToken.
 *
 * The widths come from the model config, never from d_model / heads: HSTU's keys and
 * values have different widths, and MQA/GQA store fewer KV heads than query heads. This is
 * the size of a `full` cache before compression. A compressed cache's size must be
 * measured from the buffers it stores, quantisation scales and indices included.
 *
 * @param shape see {@link KVCacheShape}.
 * @returns byte counts as float64 numbers, exact below 2^53 bytes.
 * @throws TypeError when `shape.layers` is not an array or a field is not a number.
 * @throws RangeError when a field is negative or not an integer, a layer has fewer than
 *   one KV head or key width, or `layers` is empty.
 * @example
 * // HSTU, 2 layers, 2 heads, d_qk = 32, d_v = 64, 200 tokens, float32:
 * // keys 2 · 2 · 32 · 200 · 4 = 102,400 B, values 2 · 2 · 64 · 200 · 4 = 204,800 B.
 * const layer = { kvHeads: 2, keyDim: 32, valueDim: 64 };
 * kvCacheBytes({ layers: [layer, layer], tokens: 200 }).totalBytes; // 307200
 */
export function kvCacheBytes(shape: KVCacheShape): KVCacheBytes {
  const where = 'kvCacheBytes';

  // Validate the arguments.
  requireArrayLike(where, 'shape.layers', shape?.layers);
  if (shape.layers.length === 0) {
    throw new RangeError(invalidArgument(where, 'shape.layers', 'at least one layer', shape.layers));
  }
  shape.layers.forEach((layer, index) => requireLayerShape(where, `shape.layers[${index}]`, layer));
  requireInteger(where, 'shape.tokens', shape.tokens, 0, Number.MAX_SAFE_INTEGER);
  const bytesPerElement = shape.bytesPerElement ?? 4;
  requireNonNegative(where, 'shape.bytesPerElement', bytesPerElement);
  const metadataBytesPerToken = shape.metadataBytesPerToken ?? 0;
  requireNonNegative(where, 'shape.metadataBytesPerToken', metadataBytesPerToken);

  // Sum keys and values layer by layer.
  let keyBytes = 0;
  let valueBytes = 0;
  for (const layer of shape.layers) {
    keyBytes += shape.tokens * layer.kvHeads * layer.keyDim * bytesPerElement;
    valueBytes += shape.tokens * layer.kvHeads * layer.valueDim * bytesPerElement;
  }
  const metadataBytes = shape.layers.length * shape.tokens * metadataBytesPerToken;
  const totalBytes = keyBytes + valueBytes + metadataBytes;
  return { keyBytes, valueBytes, metadataBytes, totalBytes, bytesPerToken: shape.tokens === 0 ? 0 : totalBytes / shape.tokens };
}

/** Input of {@link planFleetCache}. */
export interface FleetCacheInput {
  /** Number of users whose caches are kept. @minimum 0 */
  users: number;
  /** Mean number of cached tokens per user, after any compression. @minimum 0 */
  meanTokens: number;
  /** Bytes per cached token, for example `kvCacheBytes(...).bytesPerToken`. @minimum 0 */
  bytesPerToken: number;
}

/** Fleet-wide cache size from {@link planFleetCache}. */
export interface FleetCachePlan {
  /** meanTokens · bytesPerToken. */
  bytesPerUser: number;
  /** users · bytesPerUser. */
  totalBytes: number;
  /** totalBytes / 2^30. */
  totalGiB: number;
}

/**
 * Capacity planning: estimates the storage a fleet of user caches needs,
 * total = users · meanTokens · bytesPerToken.
 *
 * This is an estimate: it assumes a size linear in the token count, which holds for
 * token-level methods and precision formats whose overhead is per token or per group.
 * A method with a fixed per-user state (a recurrent model) needs its own bytesPerUser.
 *
 * @param input see {@link FleetCacheInput}.
 * @throws TypeError when a field is not a number.
 * @throws RangeError when a field is negative or not finite.
 * @example
 * // 1,000,000 users, 200 cached tokens, 1,024 B per token (SASRec: 2 layers · (64 + 64) · 4 B):
 * planFleetCache({ users: 1e6, meanTokens: 200, bytesPerToken: 1024 }).totalGiB; // 190.73…
 */
export function planFleetCache(input: FleetCacheInput): FleetCachePlan {
  const where = 'planFleetCache';

  // Validate the arguments.
  requireNonNegative(where, 'input.users', input?.users);
  requireNonNegative(where, 'input.meanTokens', input.meanTokens);
  requireNonNegative(where, 'input.bytesPerToken', input.bytesPerToken);

  // Scale one user's mean size to the fleet.
  const bytesPerUser = input.meanTokens * input.bytesPerToken;
  const totalBytes = input.users * bytesPerUser;
  return { bytesPerUser, totalBytes, totalGiB: totalBytes / 2 ** 30 };
}

/** Checks one layer's KV widths. */
function requireLayerShape(where: string, argument: string, layer: unknown): void {
  if (typeof layer !== 'object' || layer === null) {
    throw new TypeError(invalidArgument(where, argument, '{ kvHeads, keyDim, valueDim }', layer));
  }
  const { kvHeads, keyDim, valueDim } = layer as Partial<KVLayerShape>;
  requirePositiveInteger(where, `${argument}.kvHeads`, kvHeads);
  requirePositiveInteger(where, `${argument}.keyDim`, keyDim);
  requireInteger(where, `${argument}.valueDim`, valueDim, 0, Number.MAX_SAFE_INTEGER);
}

/** Checks that `value` is a finite number ≥ 0. */
function requireNonNegative(where: string, argument: string, value: unknown): void {
  requireFinite(where, argument, value);
  if (value < 0) {
    throw new RangeError(invalidArgument(where, argument, 'a finite number ≥ 0', value));
  }
}

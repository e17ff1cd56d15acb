import { invalidArgument } from '../messages';
import type { ModelConfig } from '../model/types';
import { cacheLayoutOf } from './head-sharing';

/** Options of {@link variantCacheBytes}. */
export interface VariantCacheBytesOptions {
  /** Whether every cache head stores a float64 timestamp per token (HSTU prefilled with timestamps). Default false. */
  timestamps?: boolean;
}

/**
 * Computes the bytes of an uncompressed cache of `len` tokens for a model configuration,
 * from the formula rather than from a cache:
 *
 * - one key/value head per query head or GQA/MQA: `layers · kvHeads · len · (dKey + dValue) · 4`;
 * - MLA: `layers · len · r · 4`, one latent of width r per token and layer;
 * - plus `layers · cacheHeads · len · 8` when the heads store timestamps.
 *
 * `dKey = dValue = hiddenSize / heads` in SASRec; HSTU has `queryKeySize` and `valueSize`.
 * A configuration with `queryKeySize` is read as HSTU. The cache of `prefill` measures the
 * same number with `cacheBytes` of `@malloc/compression`.
 *
 * @param len - cached tokens, an integer ≥ 0.
 * @throws RangeError when `len` is not an integer ≥ 0.
 */
export function variantCacheBytes(config: Readonly<ModelConfig>, len: number, options: VariantCacheBytesOptions = {}): number {
  if (!Number.isInteger(len) || len < 0) {
    throw new RangeError(invalidArgument('variantCacheBytes', 'len', 'an integer ≥ 0', String(len)));
  }
  const isHstu = 'queryKeySize' in config;
  const keySize = isHstu ? config.queryKeySize : config.hiddenSize / config.heads;
  const valueSize = isHstu ? config.valueSize : config.hiddenSize / config.heads;
  const layout = cacheLayoutOf(config, keySize, valueSize);
  const perToken = 4 * (layout.keyWidth + layout.valueWidth) + (options.timestamps === true ? 8 : 0);
  return config.layers * layout.heads * len * perToken;
}

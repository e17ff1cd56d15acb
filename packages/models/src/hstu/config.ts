import { invalidArgument } from '../messages';
import { withCtrHeadFlag } from '../ctr/head';
import { validateHeadVariant, withHeadVariant } from '../variants/head-sharing';
import type { BeaconConfig } from '../sequence/beacon';
import type { LinformerConfig } from '../sequence/linformer';
import type { LshConfig } from '../sequence/lsh';
import { withSequenceVariant } from '../sequence/variant-config';

/** Hyperparameters of HSTU. */
export interface HstuConfig {
  /**
   * Number of items; ids are 1..itemCount and 0 is padding.
   * @minimum 1
   */
  itemCount: number;
  /**
   * Maximum input length; longer inputs keep their newest `maxLength` items. Attention
   * weights are divided by it (the padded length of the reference implementation).
   * Default value: 200
   * @minimum 1
   */
  maxLength: number;
  /**
   * Embedding and residual width `d`.
   * Default value: 50
   * @minimum 1
   */
  hiddenSize: number;
  /**
   * Number of HSTU layers.
   * Default value: 2
   * @minimum 1
   */
  layers: number;
  /**
   * Attention heads per layer.
   * Default value: 1
   * @minimum 1
   */
  heads: number;
  /**
   * Width of each head's queries and keys, `dqk`.
   * Default value: 50
   * @minimum 1
   */
  queryKeySize: number;
  /**
   * Width of each head's values and of the gate U, `dv`.
   * Default value: 50
   * @minimum 1
   */
  valueSize: number;
  /**
   * Dropout rate on the input embeddings and before the output projection of each layer.
   * Default value: 0.2
   * @minimum 0
   * @maximum 0.95
   */
  dropout: number;
  /**
   * Number of logarithmic time buckets of the relative attention bias (bucket values 0..timeBuckets).
   * Default value: 128
   * @minimum 1
   */
  timeBuckets: number;
  /** L2-normalise the output and the scoring item embeddings. Default value: true */
  l2NormalizeEmbeddings?: boolean;
  /**
   * Reads timestamps for the time-bucket bias when they are given. With `false` training,
   * prefill and append ignore timestamps, so every time difference is 0 as on data without
   * them: the time part of the bias is one learned constant (bucket 0) for every pair. This is
   * the ablation of the time bias on data that has timestamps. Default value: true
   */
  timeBias?: boolean;
  /**
   * Time from which a query measures its time differences. `'own'`: the query item's own
   * timestamp, t_i − t_j, so a history's cache does not depend on the request after it.
   * `'next'`: the timestamp of the item after the query, the one it predicts, t_{i+1} − t_j,
   * as generative-recommenders does; the last item takes the request time that prefill,
   * append and forwardLast receive in `requestTime`. In training that is the last target's
   * timestamp. Not combinable with `timeBias: false`, `beacon`, `linformer` or `ctrHead`.
   * Default value: 'own'
   */
  queryTime?: 'own' | 'next';
  /**
   * Key/value heads per layer, a divisor of `heads`: query heads form `kvHeads` groups of
   * consecutive heads that read one shared K and V (grouped-query attention, Ainslie et al.,
   * 2023, arXiv:2305.13245; 1 is multi-query attention, Shazeer, 2019, arXiv:1911.02150).
   * The gate U and the queries keep `heads` heads. Default value: `heads`
   * @minimum 1
   */
  kvHeads?: number;
  /**
   * Width r of the multi-head latent attention latent (DeepSeek-AI, "DeepSeek-V2", 2024,
   * arXiv:2405.04434). Each layer computes `c = LN(x) · W_dkv` (`[d, r]`) and
   * `V, K = SiLU(c · W_ukv)` for its `kvHeads` heads, so the cache stores c alone. Absent: no
   * latent. The relative attention bias is added to the scores from positions and
   * timestamps, so the latent carries no position information.
   * @minimum 2
   */
  kvLatentSize?: number;
  /**
   * Adds a click head (a weight vector `[d]` and a bias) for the CTR task. The click logit of
   * the item at position t is `w · h_t + b`, where the final hidden state `h_t` attends to
   * items ≤ t. Checkpoints store the head. Default value: false
   */
  ctrHead?: boolean;
  /**
   * Activation Beacon memory (Zhang et al., 2024, arXiv:2401.03462): after each complete chunk
   * of `chunkSize` items, `beaconsPerChunk` learned beacon tokens condense the chunk, and their
   * keys and values replace the chunk's in the cache. Beacon j of a chunk sits at position j
   * of the chunk's last `beaconsPerChunk` positions and carries the timestamp of the chunk's
   * last item. The relative position bias reads `max(0, i − j)`, because a beacon attends
   * to items of its own chunk that sit after it, and the attention stays divided by
   * `maxLength`. Adds a trainable `[beaconsPerChunk, d]` beacon embedding. Absent: no beacons.
   */
  beacon?: BeaconConfig;
  /**
   * Causal Linformer projection (Wang et al., 2020, arXiv:2006.04768, adapted for causal
   * attention with a cache): learned `[projectedRows, blockSize]` matrices per layer project
   * the keys and values of each complete block to `projectedRows` rows, which replace the
   * block in the cache. Projected row r of a block sits at position r of the block's last
   * `projectedRows` positions and carries the timestamp of the block's last item. Each row
   * counts once in the attention sum, which stays divided by `maxLength`. Not combinable with
   * `beacon` or `kvLatentSize`. Absent: no projection.
   */
  linformer?: LinformerConfig;
  /**
   * Reformer-style LSH attention (Kitaev et al., ICLR 2020, arXiv:2001.04451): the key of a
   * head is its query `SiLU(LN(x) · W_q)` scaled to unit length, so the fused projection has
   * no K columns. Each query attends causally to the keys of its own hash bucket only.
   * Not combinable with `kvHeads` below `heads`, `kvLatentSize`, `beacon` or `linformer`.
   * Absent: full attention.
   */
  lsh?: LshConfig;
}

/** Defaults of {@link HstuConfig}: the ML-1M settings of generative-recommenders. */
export const HSTU_DEFAULTS: Readonly<Omit<HstuConfig, 'itemCount'>> = {
  maxLength: 200,
  hiddenSize: 50,
  layers: 2,
  heads: 1,
  queryKeySize: 50,
  valueSize: 50,
  dropout: 0.2,
  timeBuckets: 128,
  l2NormalizeEmbeddings: true,
};

/**
 * Fills defaults into a partial HSTU configuration and validates every field.
 *
 * @throws RangeError naming the first invalid field, the rule and the value.
 */
export function resolveHstuConfig(config: Partial<HstuConfig> & { itemCount: number }): HstuConfig {
  // Fill defaults.
  const resolved: HstuConfig = {
    itemCount: config.itemCount,
    maxLength: config.maxLength ?? HSTU_DEFAULTS.maxLength,
    hiddenSize: config.hiddenSize ?? HSTU_DEFAULTS.hiddenSize,
    layers: config.layers ?? HSTU_DEFAULTS.layers,
    heads: config.heads ?? HSTU_DEFAULTS.heads,
    queryKeySize: config.queryKeySize ?? HSTU_DEFAULTS.queryKeySize,
    valueSize: config.valueSize ?? HSTU_DEFAULTS.valueSize,
    dropout: config.dropout ?? HSTU_DEFAULTS.dropout,
    timeBuckets: config.timeBuckets ?? HSTU_DEFAULTS.timeBuckets,
    l2NormalizeEmbeddings: config.l2NormalizeEmbeddings ?? HSTU_DEFAULTS.l2NormalizeEmbeddings,
  };

  // Validate each field.
  for (const field of ['itemCount', 'maxLength', 'hiddenSize', 'layers', 'heads', 'queryKeySize', 'valueSize', 'timeBuckets'] as const) {
    const value = resolved[field];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(invalidArgument('createHstu', `config.${field}`, 'an integer ≥ 1', String(value)));
    }
  }
  if (!(resolved.dropout >= 0 && resolved.dropout <= 0.95)) {
    throw new RangeError(invalidArgument('createHstu', 'config.dropout', 'a rate in [0, 0.95]', String(resolved.dropout)));
  }
  if (typeof resolved.l2NormalizeEmbeddings !== 'boolean') {
    throw new TypeError(invalidArgument('createHstu', 'config.l2NormalizeEmbeddings', 'a boolean', String(resolved.l2NormalizeEmbeddings)));
  }

  // Head-level variant fields are kept only when set, so that configurations without them stay unchanged.
  const withVariant = withHeadVariant(resolved, config);
  validateHeadVariant('createHstu', withVariant);
  const withHead = withCtrHeadFlag('createHstu', withVariant, config.ctrHead);

  // The time switch is kept only when off, so that configurations without it stay unchanged.
  if (config.timeBias !== undefined && typeof config.timeBias !== 'boolean') {
    throw new TypeError(invalidArgument('createHstu', 'config.timeBias', 'true or false', String(config.timeBias)));
  }
  const withTime = config.timeBias === false ? { ...withHead, timeBias: false } : withHead;

  // The query-time convention is kept only when it is 'next', for the same reason.
  if (config.queryTime !== undefined && config.queryTime !== 'own' && config.queryTime !== 'next') {
    throw new RangeError(invalidArgument('createHstu', 'config.queryTime', "'own' or 'next'", String(config.queryTime)));
  }
  if (config.queryTime === 'next') {
    const conflicts: [boolean, string][] = [
      [config.timeBias === false, 'timeBias: false'],
      [config.beacon !== undefined, 'beacon'],
      [config.linformer !== undefined, 'linformer'],
      [config.ctrHead === true, 'ctrHead'],
    ];
    const conflict = conflicts.find(([present]) => present);
    if (conflict !== undefined) {
      throw new RangeError(invalidArgument('createHstu', 'config.queryTime', `'own' together with ${conflict[1]}`, "'next'; remove one of the two"));
    }
  }
  const withQueryTime = config.queryTime === 'next' ? { ...withTime, queryTime: 'next' as const } : withTime;

  // Sequence-level fields are kept only when set, so that configurations without them stay unchanged.
  return withSequenceVariant('createHstu', withQueryTime, config);
}

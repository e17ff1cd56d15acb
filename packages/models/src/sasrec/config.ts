import { invalidArgument } from '../messages';
import { withCtrHeadFlag } from '../ctr/head';
import { validateHeadVariant, withHeadVariant } from '../variants/head-sharing';
import type { BeaconConfig } from '../sequence/beacon';
import type { LinformerConfig } from '../sequence/linformer';
import type { LshConfig } from '../sequence/lsh';
import { withSequenceVariant } from '../sequence/variant-config';

/** Hyperparameters of SASRec. */
export interface SasRecConfig {
  /**
   * Number of items; ids are 1..itemCount and 0 is padding.
   * @minimum 1
   */
  itemCount: number;
  /**
   * Maximum input length; longer inputs keep their newest `maxLength` items.
   * Default value: 200
   * @minimum 1
   */
  maxLength: number;
  /**
   * Embedding and hidden width `d` (a multiple of `heads`).
   * Default value: 50
   * @minimum 1
   */
  hiddenSize: number;
  /**
   * Number of self-attention blocks.
   * Default value: 2
   * @minimum 1
   */
  layers: number;
  /**
   * Attention heads per block; `dHead = hiddenSize / heads`.
   * Default value: 1
   * @minimum 1
   */
  heads: number;
  /**
   * Dropout rate on the input embeddings, the attention weights and the feed-forward network.
   * Default value: 0.2
   * @minimum 0
   * @maximum 0.95
   */
  dropout: number;
  /**
   * L2-normalise the output hidden state and the item embeddings used for scoring, as the
   * generative-recommenders SASRec does for sampled softmax. Default value: true
   */
  l2NormalizeEmbeddings?: boolean;
  /**
   * Key/value heads per block, a divisor of `heads`: query heads form `kvHeads` groups of
   * consecutive heads that read one shared key/value head (grouped-query attention, Ainslie
   * et al., 2023, arXiv:2305.13245; 1 is multi-query attention, Shazeer, 2019,
   * arXiv:1911.02150). The cache stores `kvHeads` heads per layer. Default value: `heads`
   * @minimum 1
   */
  kvHeads?: number;
  /**
   * Width r of the multi-head latent attention latent (DeepSeek-AI, "DeepSeek-V2", 2024,
   * arXiv:2405.04434). Each block computes `c = x · W_dkv` (`[d, r]`, no bias) and projects
   * the keys and values of its `kvHeads` heads up from c, so the cache stores c alone. Absent:
   * no latent. The absolute position embedding is added to the input, so the keys need no
   * separate position part (DeepSeek-V2's decoupled RoPE key).
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
   * keys and values replace the chunk's in the cache. Adds a trainable `[beaconsPerChunk, d]`
   * beacon embedding. Absent: no beacons.
   */
  beacon?: BeaconConfig;
  /**
   * Causal Linformer projection (Wang et al., 2020, arXiv:2006.04768, adapted for causal
   * attention with a cache). Learned `[projectedRows, blockSize]` matrices per layer project
   * each complete block of `blockSize` tokens to `projectedRows` key and value rows, which
   * replace the block in the cache. Not combinable with `beacon` or
   * `kvLatentSize`. Absent: no projection.
   */
  linformer?: LinformerConfig;
  /**
   * Reformer-style LSH attention (Kitaev et al., ICLR 2020, arXiv:2001.04451): queries and keys
   * share the query projection, and each query attends causally to the keys of its own hash
   * bucket. The cache stores the usual keys and values, and `append` hashes them again. Not
   * combinable with `kvHeads` below `heads`, `kvLatentSize`, `beacon` or `linformer`. Absent: full attention.
   */
  lsh?: LshConfig;
}

/** Defaults of {@link SasRecConfig}: the ML-1M settings of the SASRec paper and generative-recommenders. */
export const SASREC_DEFAULTS: Readonly<Omit<SasRecConfig, 'itemCount'>> = {
  maxLength: 200,
  hiddenSize: 50,
  layers: 2,
  heads: 1,
  dropout: 0.2,
  l2NormalizeEmbeddings: true,
};

/**
 * Fills defaults into a partial SASRec configuration and validates every field.
 *
 * @throws RangeError naming the first invalid field, the rule and the value.
 */
export function resolveSasRecConfig(config: Partial<SasRecConfig> & { itemCount: number }): SasRecConfig {
  // Fill defaults.
  const resolved: SasRecConfig = {
    itemCount: config.itemCount,
    maxLength: config.maxLength ?? SASREC_DEFAULTS.maxLength,
    hiddenSize: config.hiddenSize ?? SASREC_DEFAULTS.hiddenSize,
    layers: config.layers ?? SASREC_DEFAULTS.layers,
    heads: config.heads ?? SASREC_DEFAULTS.heads,
    dropout: config.dropout ?? SASREC_DEFAULTS.dropout,
    l2NormalizeEmbeddings: config.l2NormalizeEmbeddings ?? SASREC_DEFAULTS.l2NormalizeEmbeddings,
  };

  // Validate each field.
  for (const field of ['itemCount', 'maxLength', 'hiddenSize', 'layers', 'heads'] as const) {
    const value = resolved[field];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(invalidArgument('createSasRec', `config.${field}`, 'an integer ≥ 1', String(value)));
    }
  }
  if (resolved.hiddenSize % resolved.heads !== 0) {
    throw new RangeError(invalidArgument('createSasRec', 'config.heads', `a divisor of hiddenSize ${resolved.hiddenSize}`, String(resolved.heads)));
  }
  if (!(resolved.dropout >= 0 && resolved.dropout <= 0.95)) {
    throw new RangeError(invalidArgument('createSasRec', 'config.dropout', 'a rate in [0, 0.95]', String(resolved.dropout)));
  }
  if (typeof resolved.l2NormalizeEmbeddings !== 'boolean') {
    throw new TypeError(invalidArgument('createSasRec', 'config.l2NormalizeEmbeddings', 'a boolean', String(resolved.l2NormalizeEmbeddings)));
  }

  // Head-level variant fields are kept only when set, so that configurations without them stay unchanged.
  const withVariant = withHeadVariant(resolved, config);
  validateHeadVariant('createSasRec', withVariant);
  const withHead = withCtrHeadFlag('createSasRec', withVariant, config.ctrHead);

  // Sequence-level fields are kept only when set, so that configurations without them stay unchanged.
  return withSequenceVariant('createSasRec', withHead, config);
}

import { invalidArgument } from '../messages';
import { withCtrHeadFlag } from '../ctr/head';

/** Hyperparameters shared by the recurrent models GRU4Rec and RWKV. */
export interface RecurrentConfig {
  /**
   * Number of items; ids are 1..itemCount and 0 is padding.
   * @minimum 1
   */
  itemCount: number;
  /**
   * Maximum input length of prefill and of a training window; longer inputs keep their newest
   * `maxLength` items. `append` has no length limit, because the state has a constant size.
   * Default value: 200
   * @minimum 1
   */
  maxLength: number;
  /**
   * Embedding and state width `d`.
   * Default value: 50
   * @minimum 2
   */
  hiddenSize: number;
  /**
   * Number of recurrent layers. Default value: 1 for GRU4Rec, 2 for RWKV
   * @minimum 1
   */
  layers: number;
  /**
   * Always 1: a recurrent model has no attention heads. The field keeps the configuration
   * shape of the attention models, whose consumers read `heads`; any input value is replaced.
   */
  heads: 1;
  /**
   * Dropout rate on the input embeddings and on each layer's output during training.
   * Default value: 0.2
   * @minimum 0
   * @maximum 0.95
   */
  dropout: number;
  /**
   * L2-normalise the output hidden state and the item embeddings used for scoring, as SASRec
   * does here. Default value: true
   */
  l2NormalizeEmbeddings?: boolean;
  /** Adds a click head (`w · h_t + b`) for the CTR task. Default value: false */
  ctrHead?: boolean;
}

/** Hyperparameters of GRU4Rec; see {@link RecurrentConfig}. */
export type Gru4RecConfig = RecurrentConfig;

/** Hyperparameters of the RWKV-style model; see {@link RecurrentConfig}. Its channel-mixing width is 4 · d. */
export type RwkvConfig = RecurrentConfig;

/** Defaults of {@link Gru4RecConfig}: one GRU layer of SASRec's ML-1M width. */
export const GRU4REC_DEFAULTS: Readonly<Omit<Gru4RecConfig, 'itemCount'>> = {
  maxLength: 200,
  hiddenSize: 50,
  layers: 1,
  heads: 1,
  dropout: 0.2,
  l2NormalizeEmbeddings: true,
};

/** Defaults of {@link RwkvConfig}: two layers of width 50, the ML-1M size of SASRec. */
export const RWKV_DEFAULTS: Readonly<Omit<RwkvConfig, 'itemCount'>> = {
  maxLength: 200,
  hiddenSize: 50,
  layers: 2,
  heads: 1,
  dropout: 0.2,
  l2NormalizeEmbeddings: true,
};

/**
 * Fills defaults into a partial recurrent configuration and validates every field. Fields of
 * the attention models (`kvHeads`, `kvLatentSize`, other `heads`) are dropped.
 *
 * @param where - the calling factory, for error messages.
 * @throws RangeError naming the first invalid field, the rule and the value.
 */
export function resolveRecurrentConfig(where: string, config: Partial<RecurrentConfig> & { itemCount: number }, defaults: Readonly<Omit<RecurrentConfig, 'itemCount'>>): RecurrentConfig {
  // Fill defaults.
  const resolved: RecurrentConfig = {
    itemCount: config.itemCount,
    maxLength: config.maxLength ?? defaults.maxLength,
    hiddenSize: config.hiddenSize ?? defaults.hiddenSize,
    layers: config.layers ?? defaults.layers,
    heads: 1,
    dropout: config.dropout ?? defaults.dropout,
    l2NormalizeEmbeddings: config.l2NormalizeEmbeddings ?? defaults.l2NormalizeEmbeddings,
  };

  // Validate each field.
  for (const field of ['itemCount', 'maxLength', 'layers'] as const) {
    const value = resolved[field];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(invalidArgument(where, `config.${field}`, 'an integer ≥ 1', String(value)));
    }
  }
  if (!Number.isInteger(resolved.hiddenSize) || resolved.hiddenSize < 2) {
    throw new RangeError(invalidArgument(where, 'config.hiddenSize', 'an integer ≥ 2', String(resolved.hiddenSize)));
  }
  if (!(resolved.dropout >= 0 && resolved.dropout <= 0.95)) {
    throw new RangeError(invalidArgument(where, 'config.dropout', 'a rate in [0, 0.95]', String(resolved.dropout)));
  }
  if (typeof resolved.l2NormalizeEmbeddings !== 'boolean') {
    throw new TypeError(invalidArgument(where, 'config.l2NormalizeEmbeddings', 'a boolean', String(resolved.l2NormalizeEmbeddings)));
  }
  return withCtrHeadFlag(where, resolved, config.ctrHead);
}

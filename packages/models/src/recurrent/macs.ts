import { invalidArgument } from '../messages';

/** Architectures that {@link recurrentMacs} counts. */
export type RecurrentKind = 'gru4rec' | 'rwkv';

/** Dimensions that {@link recurrentMacs} reads from a recurrent model's configuration. */
export interface RecurrentMacsConfig {
  /** Recurrent layers. */
  layers: number;
  /** Width d. */
  hiddenSize: number;
  /** Catalogue size scored by a full-ranking request. */
  itemCount: number;
}

/** Lengths of one retrieval request. */
export interface RecurrentRequest {
  /** History items consumed before the request (by prefill, or by the full pass without a state). */
  historyLength: number;
  /** Items of the request appended to the state. */
  requestLength: number;
}

/** MACs of one retrieval request, split by phase. */
export interface RecurrentMacs {
  /** Running the history into the state: `historyLength · tokenMacs`. */
  prefill: number;
  /** Advancing the state by the request: `requestLength · tokenMacs`. */
  append: number;
  /** Full-catalogue scoring: `itemCount · d`. */
  scoring: number;
  /** Request with a stored state: `append + scoring`. */
  withCache: number;
  /** Request without a stored state (recompute): `prefill + append + scoring`. */
  withoutCache: number;
}

/**
 * Counts the multiply-accumulates (MACs) of one token through every layer, from the matrix
 * products only. GRU4Rec costs `6d²` per layer, for its input `[d, 3d]` and recurrent
 * `[d, 3d]` kernels. RWKV costs `13d²` per layer: `4d²` for the key, value, receptance and
 * output `[d, d]` of time mixing, and `9d²` for the key `[d, 4d]`, value `[4d, d]` and
 * receptance `[d, d]` of channel mixing. Element-wise operations
 * (gates, the WKV update, layer norms) are not counted. By an estimate of their multiplies
 * per token (about 2d for GRU4Rec and 20d for RWKV per layer), they would add under 1 % to
 * GRU4Rec and about 3 % to RWKV at d = 50.
 *
 * @throws RangeError for an unknown kind or a dimension that is not a positive integer.
 */
export function recurrentTokenMacs(kind: RecurrentKind, config: RecurrentMacsConfig): number {
  validate('recurrentTokenMacs', kind, config);
  const d = config.hiddenSize;
  const perLayer = kind === 'gru4rec' ? 6 * d * d : 13 * d * d;
  return config.layers * perLayer;
}

/**
 * Computes the analytical MACs of one retrieval request of a recurrent model: the state costs
 * the same per token at any history length, so the cached request costs `requestLength`
 * tokens and the uncached one `historyLength + requestLength` tokens, plus scoring.
 *
 * @throws RangeError for an unknown kind, a dimension or a length that is invalid.
 */
export function recurrentMacs(kind: RecurrentKind, config: RecurrentMacsConfig, request: RecurrentRequest): RecurrentMacs {
  validate('recurrentMacs', kind, config);
  for (const field of ['historyLength', 'requestLength'] as const) {
    const value = request[field];
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(invalidArgument('recurrentMacs', `request.${field}`, 'an integer ≥ 0', String(value)));
    }
  }
  const token = recurrentTokenMacs(kind, config);
  const prefill = request.historyLength * token;
  const append = request.requestLength * token;
  const scoring = config.itemCount * config.hiddenSize;
  return { prefill, append, scoring, withCache: append + scoring, withoutCache: prefill + append + scoring };
}

function validate(where: string, kind: string, config: RecurrentMacsConfig): void {
  if (kind !== 'gru4rec' && kind !== 'rwkv') {
    throw new RangeError(invalidArgument(where, 'kind', "'gru4rec' or 'rwkv'", `'${kind}'`));
  }
  for (const field of ['layers', 'hiddenSize', 'itemCount'] as const) {
    const value = config[field];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(invalidArgument(where, `config.${field}`, 'an integer ≥ 1', String(value)));
    }
  }
}

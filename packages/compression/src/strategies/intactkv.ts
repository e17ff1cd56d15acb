import { headPositions, type KVCache } from '../kv-cache';
import { invalidArgument, pivotsWithoutStatsWarning } from '../messages';
import { Float32Storage } from '../storage/float32-storage';
import { checkQuantizationOptions, QuantizedStorage, type QuantizationBits, type QuantizationOptions } from '../storage/quantized-storage';
import type { TensorStorage } from '../storage/tensor-storage';
import type { CompressionContext, CompressionStrategy, StrategyParams } from '../strategy';
import { selectTopK } from '../top-k';
import { checkInteger } from '../validation';
import { readAccumulatedAttention } from './attention-stats';
import { joinParts, splitFloat32Tail, withStorages } from './precision-parts';
import { layerLengths } from './score-based-strategy';

/** Options of {@link IntactKVStrategy}. */
export interface IntactKVOptions {
  /**
   * Bits per code of the tokens that are not pivots.
   * @defaultValue 4
   */
  bits?: QuantizationBits;
  /**
   * Channels per quantisation group; groups run along the channels of one token.
   * @defaultValue 32
   * @minimum 1
   */
  groupSize?: number;
  /**
   * Pivot tokens kept in float32 per head, sinks included.
   * @defaultValue 4
   * @minimum 0
   */
  pivots?: number;
  /**
   * Oldest history tokens (positions `0 … sinks − 1`) that are always pivots; at most `pivots`.
   * @defaultValue 1, or 0 when `pivots` is 0
   * @minimum 0
   */
  sinks?: number;
}

/**
 * IntActKV: keeps every token, with a few pivot tokens exact in float32 and the others
 * quantised per token.
 *
 * A few tokens, the first one above all, receive most of the attention of every query (they
 * act as attention sinks). A quantisation error on their keys or values reaches every
 * attention output, so keeping them exact removes the largest share of the error for a
 * few rows of float32. Per head, the pivots are the tokens at positions `0 … sinks − 1`
 * plus the `pivots − sinks` other tokens that received the most accumulated attention
 * (ties to the lower index). Every other row is stored as `bits`-wide codes with a float16
 * scale and zero point per group of `groupSize` channels. The pivot rows and the quantised
 * runs between them are stored as consecutive parts of one storage, so the bytes are the
 * float32 pivot rows plus each quantised run's codes, scales and zero points.
 *
 * Without attention statistics (`context.stats === null`) the pivots are the `pivots`
 * oldest tokens, and one warning is logged per call.
 *
 * Only the float32 rows at the end of a storage are encoded, so the strategy can run after
 * every chunk of the streaming protocol. Pivots are chosen among all the head's tokens, and
 * only those in the float32 tail stay in float32: an older row that was quantised before it
 * became a pivot stays quantised, and an older pivot stays in float32.
 *
 * Deviation from paper: IntactKV generates the KV cache of the pivot tokens, the first
 * tokens of the input such as [BOS] and the system prompt, with the full-precision model. It
 * prepends that cache to a model whose weights and activations are quantised, and can
 * calibrate it. Here the model is not quantised, only the cache is, and pivots beyond the
 * sinks are chosen per head by accumulated attention, because a recommendation history has
 * no [BOS] token or system prompt. There is no calibration.
 *
 * @see Liu, Bai, Lin, Li, Gao, Xu, Hou, Yao, Yuan, "IntactKV: Improving Large Language Model
 * Quantization by Keeping Pivot Tokens Intact", Findings of ACL 2024, arXiv 2403.01241.
 * @param options - {@link IntactKVOptions}; `bits` defaults to 4, `groupSize` to 32,
 * `pivots` to 4 and `sinks` to 1.
 * @throws RangeError when `bits` is not 2, 4 or 8, `groupSize` is not an integer ≥ 1,
 * `pivots` or `sinks` is not an integer ≥ 0, or `sinks > pivots`.
 * @throws RangeError from `compress` when the statistics do not match the cache's shape or a
 * group's range does not fit in float16.
 * @example
 * const intactkv = new IntactKVStrategy({ bits: 4, pivots: 4, sinks: 1 });
 * const compressed = intactkv.compress(cache, { stats, logger: silentLogger });
 */
export class IntactKVStrategy implements CompressionStrategy {
  readonly id = 'intactkv';
  readonly params: StrategyParams;
  /** Layout of the quantised rows: groups of `groupSize` channels per token. */
  readonly quantization: QuantizationOptions;
  /** Pivot tokens kept in float32 per head, sinks included. */
  readonly pivots: number;
  /** Oldest history tokens that are always pivots. */
  readonly sinks: number;

  constructor(options: IntactKVOptions = {}) {
    this.quantization = checkQuantizationOptions('IntactKVStrategy', { bits: options.bits ?? 4, groupSize: options.groupSize ?? 32, axis: 'per-token' });
    this.pivots = checkInteger('IntactKVStrategy', 'pivots', options.pivots ?? 4, 0);
    this.sinks = checkInteger('IntactKVStrategy', 'sinks', options.sinks ?? Math.min(1, this.pivots), 0, this.pivots);
    this.params = { bits: this.quantization.bits, groupSize: this.quantization.groupSize, pivots: this.pivots, sinks: this.sinks };
  }

  /** Quantises the float32 rows of every head's keys and values, except the pivot rows. */
  compress(cache: KVCache, context: CompressionContext): KVCache {
    const where = 'IntactKVStrategy.compress';
    const lengths = layerLengths(where, cache);
    if (context.stats === null && lengths.some((len) => len > 0)) {
      context.logger.warn(pivotsWithoutStatsWarning(this.id, this.pivots));
    }

    const layers = cache.layers.map((layer, l) => {
      const len = lengths[l];
      const attention = context.stats === null ? null : readAccumulatedAttention(where, context.stats, l, layer.heads.length, len); // [kvHeads, len]
      return {
        heads: layer.heads.map((head, h) => {
          // Choose the pivot rows of this head, then encode every other float32 row.
          const pivotRows = selectPivotRows(headPositions(head), attention === null ? null : attention.subarray(h * len, (h + 1) * len), this.pivots, this.sinks);
          return withStorages(head, encodeExceptPivots(head.keys, pivotRows, this.quantization), encodeExceptPivots(head.values, pivotRows, this.quantization));
        }),
      };
    });
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }
}

/**
 * Marks the pivot rows of one head: the rows at positions below `sinks`, then the rows of
 * highest attention (ties to the lower index) up to `min(pivots, len)` rows in all. Without
 * attention, the oldest rows that are not sinks fill the remaining slots.
 *
 * @param positions - `[len]` original position of each row.
 * @param attention - `[len]` accumulated attention of each row, or `null`.
 * @param pivots - pivot rows in all, sinks included, an integer ≥ 0.
 * @param sinks - positions `0 … sinks − 1` are pivots, an integer in `[0, pivots]`.
 * @returns `[len]` 1 for a pivot row, 0 otherwise.
 * @throws RangeError when `attention` does not have one entry per row or `sinks > pivots`.
 * @example
 * selectPivotRows(Int32Array.of(0, 1, 2, 3), Float32Array.of(0.1, 0.2, 0.9, 0.3), 2, 1); // Uint8Array [1, 0, 1, 0]
 */
export function selectPivotRows(positions: Int32Array, attention: ArrayLike<number> | null, pivots: number, sinks: number): Uint8Array {
  const len = positions.length;
  if (attention !== null && attention.length !== len) {
    throw new RangeError(invalidArgument('selectPivotRows', 'attention', `${len} entries, one per row`, String(attention.length)));
  }
  if (sinks > pivots) {
    throw new RangeError(invalidArgument('selectPivotRows', 'sinks', `an integer ≤ pivots = ${pivots}`, String(sinks)));
  }

  // The sinks come first.
  const flags = new Uint8Array(len); // [len]
  let chosen = 0;
  for (let i = 0; i < len; i++) {
    if (positions[i] < sinks) {
      flags[i] = 1;
      chosen += 1;
    }
  }
  const remaining = Math.max(0, Math.min(pivots, len) - chosen);

  // Without attention, the oldest other rows fill the remaining slots.
  if (attention === null) {
    for (let i = 0, added = 0; i < len && added < remaining; i++) {
      if (flags[i] === 0) {
        flags[i] = 1;
        added += 1;
      }
    }
    return flags;
  }

  // With attention, the other rows of highest attention fill them.
  const scores = new Float64Array(len); // [len]
  for (let i = 0; i < len; i++) {
    scores[i] = flags[i] === 1 ? -Infinity : attention[i];
  }
  for (const index of selectTopK(scores, 0, len, remaining)) {
    flags[index] = 1;
  }
  return flags;
}

/**
 * Quantises the trailing float32 rows of a storage except the pivot rows, which stay in
 * float32. Consecutive rows of the same kind form one part.
 *
 * @param pivotRows - `[rows]` 1 for a pivot row of the whole storage.
 */
function encodeExceptPivots(storage: TensorStorage, pivotRows: Uint8Array, options: QuantizationOptions): TensorStorage {
  const { prefix, tail, tailRows, cols } = splitFloat32Tail(storage);
  if (tailRows === 0) {
    return storage;
  }
  const offset = storage.rows - tailRows;

  // Split the tail into runs of pivot rows and runs of other rows.
  const parts: TensorStorage[] = [...prefix];
  let start = 0;
  while (start < tailRows) {
    const isPivot = pivotRows[offset + start] === 1;
    let end = start + 1;
    while (end < tailRows && (pivotRows[offset + end] === 1) === isPivot) {
      end += 1;
    }
    const rows = tail.subarray(start * cols, end * cols); // [end - start, cols]
    parts.push(isPivot ? new Float32Storage(rows.slice(), end - start, cols) : QuantizedStorage.encode(rows, end - start, cols, options));
    start = end;
  }
  return joinParts(parts, cols);
}

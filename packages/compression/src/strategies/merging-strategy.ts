import { keptTokenCount } from '../budget';
import { headLength, headPositions, type HeadCache, type KVCache } from '../kv-cache';
import { invalidArgument } from '../messages';
import { Float32Storage } from '../storage/float32-storage';
import type { CompressionContext, StrategyParams } from '../strategy';
import { checkCompressionRatio, checkInteger } from '../validation';
import { layerLengths, type TokenBudgetedStrategy } from './score-based-strategy';

/** One head's float32 tokens, read once for a merging step. */
export interface HeadTokens {
  /** `[len, dKey]` row-major. */
  readonly keys: Float32Array;
  /** `[len, dValue]` row-major. */
  readonly values: Float32Array;
  readonly dKey: number;
  readonly dValue: number;
  /** `[len]` original positions, ascending. */
  readonly positions: Int32Array;
  /** `[len]` merge weights (1 for a token never merged). */
  readonly weights: Float32Array;
}

/** Location of a head in the cache, for reading its attention statistics. */
export interface HeadLocation {
  readonly layer: number;
  /** KV head index within the layer. */
  readonly head: number;
  /** KV heads in the layer. */
  readonly kvHeads: number;
}

/** The entries of a merged head before they are sorted by position. */
export interface MergedEntries {
  /** `[kept, dKey]` row-major. */
  readonly keys: Float32Array;
  /** `[kept, dValue]` row-major. */
  readonly values: Float32Array;
  /** `[kept]` row of the input whose position and timestamp each entry takes. */
  readonly sourceRows: Int32Array;
  /** `[kept]` number of original tokens in each entry. */
  readonly weights: Float32Array;
}

/**
 * Base: merges each layer's tokens into `max(1, ⌊len · (1 − r)⌋)` entries per head, where an
 * entry stands for several original tokens and records their count in `weights`.
 *
 * A subclass implements only {@link MergingStrategy.mergeHead}. The base computes the budget
 * by the same rule as the pruning strategies, returns the input itself at ratio 0 and
 * leaves a layer within its budget unchanged. It builds the output head with the entries
 * sorted by position, positions explicit unless contiguous, and timestamps taken from each
 * entry's source row. Weights are stored as float32, 4 bytes a token, counted in the bytes.
 *
 * How a model must use the weights: an entry of weight `w` stands for `w` tokens with the
 * same key. Under softmax attention (SASRec) the model adds `log w` to the entry's logit,
 * so that the entry takes the attention mass of `w` copies. Under HSTU's point-wise
 * attention, which is not normalised, the model multiplies the entry's attention weight by
 * `w`.
 *
 * @param compressionRatio - fraction of each layer's tokens removed, 0 ≤ r < 1.
 * @throws RangeError when the ratio is outside [0, 1).
 */
export abstract class MergingStrategy implements TokenBudgetedStrategy {
  /** Registry id, for example `cam-merge`. */
  abstract readonly id: string;
  /** Fraction of each layer's tokens removed, 0 ≤ r < 1. */
  readonly compressionRatio: number;

  protected constructor(compressionRatio: number) {
    this.compressionRatio = checkCompressionRatio(new.target.name, compressionRatio);
  }

  /** Resolved parameters, recorded beside each result; subclasses add their own. */
  get params(): StrategyParams {
    return { compressionRatio: this.compressionRatio };
  }

  /**
   * Merges one head's `len` tokens into exactly `budget` entries.
   *
   * @param budget - entries to return, an integer in `[1, len − 1]`.
   * @param location - layer and head, for reading attention statistics.
   */
  abstract mergeHead(tokens: HeadTokens, budget: number, context: CompressionContext, location: HeadLocation): MergedEntries;

  /** Merges each layer to `max(1, ⌊len · (1 − r)⌋)` entries per head. */
  compress(cache: KVCache, context: CompressionContext): KVCache {
    if (this.compressionRatio === 0) {
      return cache;
    }
    const lengths = layerLengths(`${this.constructor.name}.compress`, cache);
    return this.compressToBudgets(cache, context, lengths.map((len) => keptTokenCount(len, this.compressionRatio)));
  }

  /** Merges each layer to at most `maxTokens` entries per head. */
  compressToTokens(cache: KVCache, context: CompressionContext, maxTokens: number): KVCache {
    const where = `${this.constructor.name}.compressToTokens`;
    checkInteger(where, 'maxTokens', maxTokens, 1);
    const lengths = layerLengths(where, cache);
    return this.compressToBudgets(cache, context, lengths.map((len) => Math.min(len, maxTokens)));
  }

  private compressToBudgets(cache: KVCache, context: CompressionContext, budgets: readonly number[]): KVCache {
    const where = `${this.constructor.name}.compress`;
    if (cache.layers.every((layer, l) => layer.heads.every((head) => headLength(head) <= budgets[l]))) {
      return cache;
    }
    const layers = cache.layers.map((layer, l) => {
      if (layer.heads.every((head) => headLength(head) <= budgets[l])) {
        return layer;
      }

      // Read each head, merge it, and rebuild it sorted by position.
      const heads = layer.heads.map((head, h) => {
        const tokens = readHeadTokens(where, head);
        const merged = this.mergeHead(tokens, budgets[l], context, { layer: l, head: h, kvHeads: layer.heads.length });
        return buildMergedHead(head, tokens, merged);
      });
      return { heads };
    });
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }
}

/**
 * Reads a float32 head for merging.
 *
 * @throws TypeError when the head's storage is not float32 (merge before quantising).
 */
export function readHeadTokens(where: string, head: HeadCache): HeadTokens {
  if (!(head.keys instanceof Float32Storage) || !(head.values instanceof Float32Storage)) {
    throw new TypeError(invalidArgument(where, 'cache', 'float32 keys and values (merge before quantising)', `${head.keys.kind} keys and ${head.values.kind} values`));
  }
  const len = headLength(head);
  return {
    keys: head.keys.data,
    values: head.values.data,
    dKey: head.keys.cols,
    dValue: head.values.cols,
    positions: headPositions(head),
    weights: head.weights ?? new Float32Array(len).fill(1),
  };
}

/** Builds the output head: entries sorted by their source row's position, with metadata. */
function buildMergedHead(head: HeadCache, tokens: HeadTokens, merged: MergedEntries): HeadCache {
  const kept = merged.sourceRows.length;
  const order = Array.from({ length: kept }, (_, i) => i).sort((a, b) => tokens.positions[merged.sourceRows[a]] - tokens.positions[merged.sourceRows[b]]);

  // Reorder keys, values, weights and metadata by position.
  const keys = new Float32Array(kept * tokens.dKey); // [kept, dKey]
  const values = new Float32Array(kept * tokens.dValue); // [kept, dValue]
  const weights = new Float32Array(kept); // [kept]
  const positions = new Int32Array(kept); // [kept]
  const timestamps = head.timestamps === null ? null : new Float64Array(kept); // [kept]
  order.forEach((entry, i) => {
    const row = merged.sourceRows[entry];
    keys.set(merged.keys.subarray(entry * tokens.dKey, (entry + 1) * tokens.dKey), i * tokens.dKey);
    values.set(merged.values.subarray(entry * tokens.dValue, (entry + 1) * tokens.dValue), i * tokens.dValue);
    weights[i] = merged.weights[entry];
    positions[i] = tokens.positions[row];
    if (timestamps !== null && head.timestamps !== null) {
      timestamps[i] = head.timestamps[row];
    }
  });

  // Positions stay implicit when the entries are one contiguous run.
  const contiguous = positions.every((position, i) => i === 0 || position === positions[i - 1] + 1);
  return {
    keys: new Float32Storage(keys, kept, tokens.dKey),
    values: new Float32Storage(values, kept, tokens.dValue),
    positions: contiguous ? null : positions,
    positionStart: contiguous && kept > 0 ? positions[0] : 0,
    timestamps,
    weights,
  };
}

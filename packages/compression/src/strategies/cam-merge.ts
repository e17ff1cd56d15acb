import type { CompressionContext } from '../strategy';
import { selectTopK } from '../top-k';
import { readAccumulatedAttention, requireStats } from './attention-stats';
import { MergingStrategy, type HeadLocation, type HeadTokens, type MergedEntries } from './merging-strategy';

/** Options of {@link CaMMergeStrategy}. */
export interface CaMMergeOptions {
  /**
   * Fraction of the history's tokens removed by merging; each head keeps `max(1, ⌊len · (1 − r)⌋)` entries.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
}

/**
 * CaM merge: keeps the tokens with the most accumulated attention and the newest token, and
 * folds the value of every evicted token into the kept token whose key is most similar.
 *
 * Eviction loses what the evicted tokens contributed to future attention outputs. Merging
 * keeps part of it: an evicted token whose key points the same way as a kept token's key
 * would receive attention from the same queries, so its value is averaged into that kept
 * token's value instead of being dropped. Per head: the kept set is the top `budget` tokens by
 * accumulated attention, with the newest token always kept. Each evicted token goes to the
 * kept token of highest key cosine similarity (ties to the lower row, and a zero key has
 * similarity 0 to every key). A kept token's new value is the average of its own value
 * and the values folded into it, weighted by their accumulated attention (equal weights
 * when all of them received none). Keys are not changed. Its merge weight becomes the sum of
 * the weights of the tokens it contains, so the weights of a head always sum to the number
 * of history tokens. See {@link MergingStrategy} for how the model uses the weights.
 *
 * Deviation from paper: CaM merges a to-be-evicted value into the kept values with a
 * sampling rule driven by its attention score. D2O merges evicted keys and values into
 * their nearest kept token only above a similarity threshold, with an exponential moving
 * average. Here every evicted value is merged deterministically into its nearest kept token
 * by key cosine similarity, weighted by attention, so that no random draw or threshold has
 * to be tuned for recommendation histories.
 *
 * @see Zhang, Du, Luo, Zhong, Zhang, Liu, Ji, "CaM: Cache Merging for Memory-efficient LLMs
 * Inference", ICML 2024, PMLR 235 (no arXiv version was found); Wan et al., "D2O: Dynamic
 * Discriminative Operations for Efficient Long-Context Inference of Large Language Models",
 * ICLR 2025, arXiv 2406.13035 (merging by key similarity).
 * @param options - {@link CaMMergeOptions}; `compressionRatio` is required.
 * @throws RangeError when the ratio is outside [0, 1).
 * @throws TypeError from `compress` when `context.stats` is null or the cache is not float32.
 * @example
 * const cam = new CaMMergeStrategy({ compressionRatio: 0.75 });
 * const merged = cam.compress(cache, { stats, logger: silentLogger });
 */
export class CaMMergeStrategy extends MergingStrategy {
  readonly id = 'cam-merge';

  constructor(options: CaMMergeOptions) {
    super(options.compressionRatio);
  }

  /** Keeps the most attended tokens and the newest, and folds every other value into its nearest kept token. */
  mergeHead(tokens: HeadTokens, budget: number, context: CompressionContext, location: HeadLocation): MergedEntries {
    const where = 'CaMMergeStrategy.compress';
    const stats = requireStats(where, context, 'accumulated attention (stats.accumulated)');
    const len = tokens.positions.length;
    const { layer, head, kvHeads } = location;
    const attention = readAccumulatedAttention(where, stats, layer, kvHeads, len).subarray(head * len, (head + 1) * len); // [len]

    // Choose the kept rows: the newest token first, then the most attended.
    const scores = Float64Array.from(attention, (value) => Math.max(0, value)); // [len]
    scores[len - 1] = Infinity;
    const kept = selectTopK(scores, 0, len, budget); // [budget] ascending rows
    const keptSlot = new Int32Array(len).fill(-1); // [len] slot of each kept row
    kept.forEach((row, slot) => {
      keptSlot[row] = slot;
    });

    // Assign every evicted row to the kept row of highest key cosine similarity.
    const { keys, dKey } = tokens;
    const norms = new Float64Array(len); // [len]
    for (let i = 0; i < len; i++) {
      norms[i] = Math.hypot(...keys.subarray(i * dKey, (i + 1) * dKey));
    }
    const target = Int32Array.from(keptSlot); // [len] slot that each row goes into
    for (let i = 0; i < len; i++) {
      if (keptSlot[i] !== -1) {
        continue;
      }
      let best = 0;
      let bestSimilarity = -Infinity;
      kept.forEach((row, slot) => {
        const similarity = cosineSimilarity(keys, i, row, dKey, norms);
        if (similarity > bestSimilarity) {
          best = slot;
          bestSimilarity = similarity;
        }
      });
      target[i] = best;
    }

    // Average the values of each slot, weighted by attention (equal weights when all are 0).
    return foldIntoSlots(tokens, kept, target, attention);
  }
}

/** Cosine similarity of two key rows; 0 when either key is zero. */
function cosineSimilarity(keys: Float32Array, a: number, b: number, dKey: number, norms: Float64Array): number {
  if (norms[a] === 0 || norms[b] === 0) {
    return 0;
  }
  let dot = 0;
  for (let c = 0; c < dKey; c++) {
    dot += keys[a * dKey + c] * keys[b * dKey + c];
  }
  return dot / (norms[a] * norms[b]);
}

/**
 * Builds the merged entries: kept keys, values averaged within each slot, summed weights.
 *
 * @param kept - `[budget]` kept rows, ascending.
 * @param target - `[len]` slot of every row.
 * @param attention - `[len]` attention of every row.
 */
function foldIntoSlots(tokens: HeadTokens, kept: Int32Array, target: Int32Array, attention: ArrayLike<number>): MergedEntries {
  const budget = kept.length;
  const len = target.length;
  const { dKey, dValue } = tokens;

  // Total attention of each slot decides between attention weights and equal weights.
  const slotAttention = new Float64Array(budget); // [budget]
  for (let i = 0; i < len; i++) {
    slotAttention[target[i]] += Math.max(0, attention[i]);
  }

  // Weighted sums of values, and the weight each slot stands for.
  const sums = new Float64Array(budget * dValue); // [budget, dValue]
  const totals = new Float64Array(budget); // [budget]
  const weights = new Float32Array(budget); // [budget]
  for (let i = 0; i < len; i++) {
    const slot = target[i];
    const coefficient = slotAttention[slot] > 0 ? Math.max(0, attention[i]) : tokens.weights[i];
    totals[slot] += coefficient;
    weights[slot] += tokens.weights[i];
    for (let c = 0; c < dValue; c++) {
      sums[slot * dValue + c] += coefficient * tokens.values[i * dValue + c];
    }
  }

  const keys = new Float32Array(budget * dKey); // [budget, dKey]
  const values = new Float32Array(budget * dValue); // [budget, dValue]
  kept.forEach((row, slot) => {
    keys.set(tokens.keys.subarray(row * dKey, (row + 1) * dKey), slot * dKey);
    for (let c = 0; c < dValue; c++) {
      values[slot * dValue + c] = sums[slot * dValue + c] / totals[slot];
    }
  });
  return { keys, values, sourceRows: kept, weights };
}

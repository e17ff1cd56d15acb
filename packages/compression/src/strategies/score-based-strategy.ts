import { keptTokenCount } from '../budget';
import { gatherHead, headLength, type HeadCache, type KVCache, type LayerCache } from '../kv-cache';
import { invalidArgument, invalidScore, invalidShape, unequalHeadLengths, formatValue } from '../messages';
import type { CompressionContext, CompressionStrategy, StrategyParams } from '../strategy';
import { selectTopK } from '../top-k';
import { checkCompressionRatio, checkInteger } from '../validation';

/**
 * A strategy that can compress a cache to an absolute number of tokens per layer, which the
 * streaming protocol needs: there the budget is fixed in tokens while the cache grows.
 */
export interface TokenBudgetedStrategy extends CompressionStrategy {
  /**
   * Compresses so that each layer keeps at most `maxTokens` tokens per head on average over
   * layers (per layer for uniform budgets). A layer already within its budget is returned
   * unchanged.
   *
   * @param maxTokens - average token budget per layer and head, an integer ≥ 1.
   */
  compressToTokens(cache: KVCache, context: CompressionContext, maxTokens: number): KVCache;
}

/**
 * Base: keeps, per layer and KV head, the tokens with the highest importance score.
 *
 * A subclass implements only {@link ScoreBasedStrategy.score}, which returns one importance
 * per cached token (higher means keep). The base does the rest, the same way for every
 * method: the budget per layer (`max(1, ⌊len · (1 − r)⌋)` by default, see
 * {@link keptTokenCount}), the top-k per head with ties to the lower index, the ascending
 * sort of the kept indices, and the gather of keys, values and token metadata with
 * {@link gatherHead}. This is the design of the score-based presses of NVIDIA kvpress.
 *
 * Contract: ratio 0 returns the input cache object itself. A layer whose budget is not
 * smaller than its length is returned unchanged. A non-empty head never becomes empty, and
 * the input is never mutated. Every head of one layer must hold the same number of tokens,
 * because the budget is per layer.
 *
 * @see NVIDIA kvpress, its `ScorerPress` base class (github.com/NVIDIA/kvpress), described in
 * Devoto, Jeblick, Jégou, "Expected Attention: KV Cache Compression by Estimating Attention
 * from Future Queries Distribution", arXiv 2510.00636, 2025.
 * @param compressionRatio - fraction of each layer's tokens removed, 0 ≤ r < 1.
 * @throws RangeError when the ratio is outside [0, 1).
 * @example
 * // Keeps the tokens whose first key component is largest.
 * class FirstComponentStrategy extends ScoreBasedStrategy {
 *   readonly id = 'first-component';
 *   constructor(compressionRatio: number) {
 *     super(compressionRatio);
 *   }
 *   score(cache: KVCache): Float32Array[] {
 *     return cache.layers.map((layer) => {
 *       const len = layer.heads[0]?.keys.rows ?? 0;
 *       const scores = new Float32Array(layer.heads.length * len); // [kvHeads, len]
 *       layer.heads.forEach((head, h) => {
 *         const keys = head.keys.decode(); // [len, dKey]
 *         for (let i = 0; i < len; i++) scores[h * len + i] = keys[i * head.keys.cols];
 *       });
 *       return scores;
 *     });
 *   }
 * }
 */
export abstract class ScoreBasedStrategy implements TokenBudgetedStrategy {
  /** Registry id, for example `snapkv`. */
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
   * Scores every cached token; higher means keep.
   *
   * @param budgets - `[layers]` tokens each layer will keep per head, for methods whose
   * protected set depends on the budget (a recent window, sinks).
   * @returns per layer a `[kvHeads, len]` row-major array. NaN is rejected; ±Infinity is allowed.
   */
  abstract score(cache: KVCache, context: CompressionContext, budgets: readonly number[]): Float32Array[];

  /**
   * Spreads per-layer token budgets over layers. The default keeps each layer's own budget;
   * a layer-adaptive method (PyramidKV) overrides it. The result is clamped by the base to
   * `[1, len]` for every non-empty layer.
   *
   * @param lengths - `[layers]` tokens per head in each layer.
   * @param uniform - `[layers]` the budget each layer would get on its own.
   */
  allocateBudgets(lengths: readonly number[], uniform: readonly number[]): number[] {
    void lengths;
    return uniform.slice();
  }

  /** Compresses each layer to `max(1, ⌊len · (1 − r)⌋)` tokens per head (spread by {@link allocateBudgets}). */
  compress(cache: KVCache, context: CompressionContext): KVCache {
    if (this.compressionRatio === 0) {
      return cache;
    }
    const lengths = layerLengths(`${this.constructor.name}.compress`, cache);
    const uniform = lengths.map((len) => keptTokenCount(len, this.compressionRatio));
    return this.compressToBudgets(cache, context, lengths, uniform);
  }

  /** Compresses each layer to at most `maxTokens` tokens per head (spread by {@link allocateBudgets}). */
  compressToTokens(cache: KVCache, context: CompressionContext, maxTokens: number): KVCache {
    const where = `${this.constructor.name}.compressToTokens`;
    checkInteger(where, 'maxTokens', maxTokens, 1);
    const lengths = layerLengths(where, cache);

    // Every non-empty layer targets maxTokens, and the cap at each layer's length comes after
    // the allocation. A layer-adaptive split then keeps its total of layers · maxTokens even
    // when some layers already contain fewer tokens.
    const uniform = lengths.map((len) => (len === 0 ? 0 : maxTokens));
    return this.compressToBudgets(cache, context, lengths, uniform);
  }

  private compressToBudgets(cache: KVCache, context: CompressionContext, lengths: readonly number[], uniform: readonly number[]): KVCache {
    const where = `${this.constructor.name}.compress`;

    // Budget per layer, clamped so that no non-empty layer empties or grows.
    const budgets = this.allocateBudgets(lengths, uniform).map((budget, layer) => clampBudget(budget, lengths[layer]));
    if (budgets.every((budget, layer) => budget >= lengths[layer])) {
      return cache;
    }

    // Score every token.
    const scores = this.score(cache, context, budgets);
    validateScores(where, cache, lengths, scores);

    // Choose the kept indices per head and gather them.
    const layers: LayerCache[] = cache.layers.map((layer, l) => {
      const len = lengths[l];
      if (budgets[l] >= len) {
        return layer;
      }
      const heads: HeadCache[] = layer.heads.map((head, h) => gatherHead(head, selectTopK(scores[l], h * len, len, budgets[l])));
      return { heads };
    });
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }
}

/**
 * Returns the number of tokens per head of every layer.
 *
 * @throws RangeError when the heads of a layer hold different numbers of tokens.
 */
export function layerLengths(where: string, cache: KVCache): number[] {
  return cache.layers.map((layer, l) => {
    const lengths = layer.heads.map(headLength);
    if (lengths.some((len) => len !== lengths[0])) {
      throw new RangeError(unequalHeadLengths(where, l, lengths));
    }
    return lengths[0] ?? 0;
  });
}

function clampBudget(budget: number, len: number): number {
  if (len === 0) {
    return 0;
  }
  return Math.min(len, Math.max(1, Math.floor(budget)));
}

function validateScores(where: string, cache: KVCache, lengths: readonly number[], scores: readonly Float32Array[]): void {
  if (scores.length !== cache.layers.length) {
    throw new RangeError(invalidArgument(where, 'scores', `one array per layer (${cache.layers.length})`, formatValue(scores.length)));
  }
  cache.layers.forEach((layer, l) => {
    const kvHeads = layer.heads.length;
    const len = lengths[l];
    if (scores[l].length !== kvHeads * len) {
      throw new RangeError(invalidShape(where, `scores[${l}]`, [kvHeads, len], scores[l].length));
    }
    for (let i = 0; i < scores[l].length; i++) {
      if (Number.isNaN(scores[l][i])) {
        throw new RangeError(invalidScore(where, l, Math.floor(i / len), i % len, scores[l][i]));
      }
    }
  });
}

/**
 * Raises the scores of protected tokens above every other score of their row, so that top-k
 * keeps them first. `priority` lists the protected indices from the most to the least
 * important; the first gets the highest score. The raised scores are spaced far enough apart
 * to stay distinct in float32.
 *
 * @param row - `[len]` scores of one head, changed in place.
 * @param priority - indices into the row, most important first.
 */
export function protectTokens(row: Float32Array, priority: readonly number[]): void {
  if (priority.length === 0) {
    return;
  }
  let max = 0;
  for (let i = 0; i < row.length; i++) {
    if (row[i] > max && Number.isFinite(row[i])) {
      max = row[i];
    }
  }
  const base = max + 1;
  const step = Math.max(1, base * 2 ** -20);
  for (let rank = 0; rank < priority.length; rank++) {
    row[priority[rank]] = base + step * (priority.length - rank);
  }
}

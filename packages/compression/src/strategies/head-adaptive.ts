import { fractionOfTokens, keptTokenCount } from '../budget';
import { gatherHead, headLength, type KVCache, type LayerCache } from '../kv-cache';
import { formatValue, invalidArgument, invalidScore, invalidShape, unequalHeadsForAdaptiveSplit } from '../messages';
import type { CompressionContext, StrategyParams } from '../strategy';
import { checkInteger, checkNumber } from '../validation';
import type { ScoreBasedStrategy, TokenBudgetedStrategy } from './score-based-strategy';

/**
 * Number of the newest tokens that every head of a layer keeps outside the adaptive split,
 * because the base strategy always keeps them (SnapKV's observation window, H2O's recent
 * window). The result is clamped to `[0, budget]`.
 *
 * @param context - the compression context, for methods whose window depends on the statistics.
 * @param layer - layer index.
 * @param len - tokens per head in the layer.
 * @param budget - the layer's uniform budget per head.
 */
export type ReservedTokens = (context: CompressionContext, layer: number, len: number, budget: number) => number;

/** Options of {@link HeadAdaptiveStrategy}. */
export interface HeadAdaptiveOptions {
  /** Registry id of the wrapped method, for example `ada-snapkv`. */
  id: string;
  /** Score-based strategy that scores the tokens and sets the per-layer budgets. */
  base: ScoreBasedStrategy;
  /**
   * Safeguard: every head keeps at least `max(1, ⌊alpha · B⌋)` tokens, where `B` is the
   * layer's uniform budget per head.
   * @defaultValue 0.2
   * @minimum 0
   * @maximum 1
   */
  alpha?: number;
  /** Newest tokens each head always keeps, as the base protects them. @defaultValue none */
  reservedTokens?: ReservedTokens;
}

/**
 * Ada-KV: keeps, per layer, the top-scored tokens of all KV heads jointly, so that heads whose
 * scores are high get more of the layer's budget than heads whose scores are flat.
 *
 * The base strategy scores every token and sets each layer's budget per head `B`; the layer
 * then keeps `kvHeads · B` tokens in total. Each head first keeps the newest tokens that the
 * base always keeps (`reservedTokens`), then its own top tokens up to the safeguard floor
 * `max(1, ⌊alpha · B⌋)`. The rest of the layer's total goes to the highest remaining scores of all
 * heads together, with ties to the lower head and then the lower index. Heads of one layer
 * may therefore keep different numbers of tokens, and each head stores its own positions.
 * With one KV head the result equals the base strategy's.
 *
 * Deviation from paper: Ada-KV selects from the attention scores of the observation window
 * within a fixed total and guarantees each head `alpha · B` tokens. Here any score-based
 * base supplies the scores, and scores are compared across heads as the base returns them,
 * which assumes that the base's scores have one scale for all heads (attention weights do).
 *
 * Limitations: the base scores heads of equal length only, so a cache whose heads already
 * hold different counts (after a head-adaptive step with several KV heads) is rejected. The
 * split serves the one-shot protocol, and streaming only with one KV head per layer.
 *
 * @see Feng, Lv, Cao, Xie, Zhou, "Ada-KV: Optimizing KV Cache Eviction by Adaptive Budget
 * Allocation for Efficient LLM Inference", arXiv 2407.11550, 2024.
 * @param options - {@link HeadAdaptiveOptions}; `alpha` defaults to 0.2.
 * @throws RangeError when `alpha` is outside [0, 1].
 * @throws RangeError from `compress` when the heads of a layer hold different numbers of tokens.
 * @example
 * const ada = new HeadAdaptiveStrategy({ id: 'ada-snapkv', base: new SnapKVStrategy({ compressionRatio: 0.75 }) });
 * const compressed = ada.compress(cache, { stats, logger: silentLogger });
 */
export class HeadAdaptiveStrategy implements TokenBudgetedStrategy {
  readonly id: string;
  /** The wrapped strategy, which scores tokens and sets per-layer budgets. */
  readonly base: ScoreBasedStrategy;
  /** Fraction of the uniform per-head budget that every head keeps at least. */
  readonly alpha: number;
  private readonly reservedTokens: ReservedTokens;

  constructor(options: HeadAdaptiveOptions) {
    this.id = options.id;
    this.base = options.base;
    this.alpha = checkNumber('HeadAdaptiveStrategy', 'alpha', options.alpha ?? 0.2, 0, 1);
    this.reservedTokens = options.reservedTokens ?? (() => 0);
  }

  /** Returns the base's parameters plus `alpha`. */
  get params(): StrategyParams {
    return { ...this.base.params, alpha: this.alpha };
  }

  /** Compresses each layer to `kvHeads · max(1, ⌊len · (1 − r)⌋)` tokens, split over heads by score. */
  compress(cache: KVCache, context: CompressionContext): KVCache {
    if (this.base.compressionRatio === 0) {
      return cache;
    }
    const lengths = equalHeadLengths('HeadAdaptiveStrategy.compress', cache);
    const uniform = lengths.map((len) => keptTokenCount(len, this.base.compressionRatio));
    return this.compressToBudgets(cache, context, lengths, uniform);
  }

  /** Compresses each layer to `kvHeads · maxTokens` tokens (spread over layers by the base), split over heads by score. */
  compressToTokens(cache: KVCache, context: CompressionContext, maxTokens: number): KVCache {
    const where = 'HeadAdaptiveStrategy.compressToTokens';
    checkInteger(where, 'maxTokens', maxTokens, 1);
    const lengths = equalHeadLengths(where, cache);
    const uniform = lengths.map((len) => (len === 0 ? 0 : maxTokens));
    return this.compressToBudgets(cache, context, lengths, uniform);
  }

  private compressToBudgets(cache: KVCache, context: CompressionContext, lengths: readonly number[], uniform: readonly number[]): KVCache {
    const where = 'HeadAdaptiveStrategy.compress';

    // Budget per layer and head from the base, clamped so that no non-empty layer empties or grows.
    const budgets = this.base.allocateBudgets(lengths, uniform).map((budget, l) => (lengths[l] === 0 ? 0 : Math.min(lengths[l], Math.max(1, Math.floor(budget)))));
    if (budgets.every((budget, l) => budget >= lengths[l])) {
      return cache;
    }

    // Score every token with the base.
    const scores = this.base.score(cache, context, budgets);
    if (scores.length !== cache.layers.length) {
      throw new RangeError(invalidArgument(where, 'scores', `one array per layer (${cache.layers.length})`, formatValue(scores.length)));
    }

    // Split each layer's total over its heads and gather the kept rows.
    const layers: LayerCache[] = cache.layers.map((layer, l) => {
      const len = lengths[l];
      if (budgets[l] >= len) {
        return layer;
      }
      const kvHeads = layer.heads.length;
      const reserved = this.reservedTokens(context, l, len, budgets[l]);
      const keptIndices = allocateHeadTokens(scores[l], kvHeads, len, budgets[l], { alpha: this.alpha, reserved });
      return { heads: layer.heads.map((head, h) => gatherHead(head, keptIndices[h])) };
    });
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }
}

/** Options of {@link allocateHeadTokens}. */
export interface HeadAllocationOptions {
  /** Safeguard fraction of the per-head budget, in [0, 1]. */
  readonly alpha: number;
  /** Newest tokens every head keeps before the split, clamped to `[0, budget]`. @defaultValue 0 */
  readonly reserved?: number;
}

/**
 * Budget: chooses the kept tokens of every head of one layer so that the layer keeps
 * `kvHeads · budget` tokens in total.
 *
 * Each head keeps its newest `R = min(reserved, budget)` tokens, then its own highest-scored
 * older tokens until it contains `max(1, R, ⌊alpha · budget⌋)`, so no head is emptied. The remaining total goes to the
 * highest scores among the tokens not yet kept, over all heads jointly, with ties to the
 * lower head and then the lower index. Within a head, ties also go to the lower index.
 *
 * @param scores - `[kvHeads, len]` row-major; higher means keep. NaN is rejected.
 * @param budget - the layer's uniform budget per head, an integer in [0, len].
 * @returns per head the kept indices, ascending; `kvHeads · budget` indices in total.
 * @throws RangeError when the shape, the budget or a score is invalid.
 * @example
 * // Head 1's scores are all larger, so it takes the joint part of the budget.
 * allocateHeadTokens(Float32Array.of(1, 2, 3, 4, 10, 20, 30, 40), 2, 4, 2, { alpha: 0.5 }); // [[3], [1, 2, 3]]
 */
export function allocateHeadTokens(scores: Float32Array, kvHeads: number, len: number, budget: number, options: HeadAllocationOptions): Int32Array[] {
  const where = 'allocateHeadTokens';
  if (scores.length !== kvHeads * len) {
    throw new RangeError(invalidShape(where, 'scores', [kvHeads, len], scores.length));
  }
  checkInteger(where, 'budget', budget, 0, len);
  const alpha = checkNumber(where, 'options.alpha', options.alpha, 0, 1);
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) {
      throw new RangeError(invalidScore(where, 0, Math.floor(i / len), i % len, scores[i]));
    }
  }
  const reserved = Math.min(budget, Math.max(0, Math.floor(options.reserved ?? 0)));
  const floor = budget === 0 ? 0 : Math.max(1, reserved, fractionOfTokens(budget, alpha));
  const candidates = len - reserved;

  // Reserved newest tokens, then each head's own best older tokens up to the floor.
  const keptFlags: Uint8Array[] = Array.from({ length: kvHeads }, () => new Uint8Array(len)); // [kvHeads][len]
  const remaining: { head: number; index: number; score: number }[] = [];
  for (let h = 0; h < kvHeads; h++) {
    for (let i = candidates; i < len; i++) {
      keptFlags[h][i] = 1;
    }
    const order = Array.from({ length: candidates }, (_, i) => i).sort((a, b) => compareScores(scores[h * len + a], scores[h * len + b]) || a - b);
    order.forEach((index, rank) => {
      if (rank < floor - reserved) {
        keptFlags[h][index] = 1;
      } else {
        remaining.push({ head: h, index, score: scores[h * len + index] });
      }
    });
  }

  // The rest of the layer's total: the best remaining tokens of all heads jointly.
  const jointBudget = kvHeads * (budget - floor);
  remaining.sort((a, b) => compareScores(a.score, b.score) || a.head - b.head || a.index - b.index);
  for (let k = 0; k < jointBudget; k++) {
    keptFlags[remaining[k].head][remaining[k].index] = 1;
  }

  return keptFlags.map((flags) => {
    const kept: number[] = [];
    flags.forEach((flag, index) => {
      if (flag === 1) {
        kept.push(index);
      }
    });
    return Int32Array.from(kept);
  });
}

/** Orders higher scores first. */
function compareScores(a: number, b: number): number {
  if (a === b) {
    return 0;
  }
  return a > b ? -1 : 1;
}

/** Tokens per head of every layer; every head of a layer must hold the same number. */
function equalHeadLengths(where: string, cache: KVCache): number[] {
  return cache.layers.map((layer, l) => {
    const lengths = layer.heads.map(headLength);
    if (lengths.some((len) => len !== lengths[0])) {
      throw new RangeError(unequalHeadsForAdaptiveSplit(where, l, lengths));
    }
    return lengths[0] ?? 0;
  });
}

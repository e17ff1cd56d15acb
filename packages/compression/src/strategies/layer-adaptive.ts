import type { KVCache } from '../kv-cache';
import { scheduleOverBudget } from '../messages';
import type { CompressionContext, StrategyParams } from '../strategy';
import { checkNumber } from '../validation';
import { pyramidBudgets } from './pyramidkv';
import { ScoreBasedStrategy } from './score-based-strategy';

/**
 * A per-layer budget schedule: spreads the total of the uniform budgets over the layers.
 *
 * @param lengths - `[layers]` tokens per head in each layer.
 * @param uniform - `[layers]` the budget each layer would get on its own; their sum is the total.
 * @returns `[layers]` budgets whose sum is at most the total.
 */
export type BudgetSchedule = (lengths: readonly number[], uniform: readonly number[]) => number[];

/** Options of {@link LayerAdaptiveStrategy}. */
export interface LayerAdaptiveOptions {
  /** Registry id of the wrapped method. */
  id: string;
  /** Score-based strategy whose scores and compression ratio are used. */
  base: ScoreBasedStrategy;
  /** Budgets per layer with the same total as the uniform ones. */
  schedule: BudgetSchedule;
  /** Parameters of the schedule, recorded beside the base's. @defaultValue none */
  scheduleParams?: StrategyParams;
}

/**
 * Layer-adaptive budget: keeps the base strategy's top-scored tokens with per-layer budgets
 * from a schedule that spends the same total as the uniform budgets.
 *
 * Layers differ in how concentrated their attention is, so a fixed total can be spread
 * unevenly: PyramidKV's linear schedule ({@link linearPyramidSchedule}) gives shallow layers
 * more tokens and deep layers fewer. The wrapper takes its scores from the base and its
 * budgets from the schedule, and the shared top-k, sort and gather of
 * {@link ScoreBasedStrategy} do the rest. `PyramidKVStrategy` is the same construction with
 * SnapKV's scores, kept as its own class and id.
 *
 * @see Cai, Zhang, Gao, Liu, Lu, Xiong, Dong, Chang, Hu, Xiao, "PyramidKV: Dynamic KV Cache
 * Compression based on Pyramidal Information Funneling", arXiv 2406.02069, 2024.
 * @param options - {@link LayerAdaptiveOptions}.
 * @throws RangeError from `compress` when the schedule's budgets sum to more than the uniform total.
 * @example
 * const pyramidH2O = new LayerAdaptiveStrategy({
 *   id: 'pyramid-h2o',
 *   base: new H2OStrategy({ compressionRatio: 0.75 }),
 *   schedule: linearPyramidSchedule(20),
 * });
 */
export class LayerAdaptiveStrategy extends ScoreBasedStrategy {
  readonly id: string;
  /** The wrapped strategy, which scores the tokens. */
  readonly base: ScoreBasedStrategy;
  private readonly schedule: BudgetSchedule;
  private readonly scheduleParams: StrategyParams;

  constructor(options: LayerAdaptiveOptions) {
    super(options.base.compressionRatio);
    this.id = options.id;
    this.base = options.base;
    this.schedule = options.schedule;
    this.scheduleParams = options.scheduleParams ?? {};
  }

  /** Returns the base's parameters plus those of the schedule. */
  override get params(): StrategyParams {
    return { ...this.base.params, ...this.scheduleParams };
  }

  /** Spreads the total over layers with the schedule, checking that it spends no more than the total. */
  override allocateBudgets(lengths: readonly number[], uniform: readonly number[]): number[] {
    const budgets = this.schedule(lengths, uniform);
    const total = uniform.reduce((sum, value) => sum + value, 0);
    if (budgets.length !== lengths.length || budgets.reduce((sum, value) => sum + value, 0) > total) {
      throw new RangeError(scheduleOverBudget('LayerAdaptiveStrategy.allocateBudgets', budgets, total));
    }
    return budgets;
  }

  /** Scores tokens as the base does. */
  score(cache: KVCache, context: CompressionContext, budgets: readonly number[]): Float32Array[] {
    return this.base.score(cache, context, budgets);
  }
}

/**
 * Budget: PyramidKV's linear schedule as a {@link BudgetSchedule}, budgets falling from
 * `2a − a/β` at the first layer to `a/β` at the last (see {@link pyramidBudgets}).
 *
 * @param beta - steepness, ≥ 1 (1 gives equal budgets).
 * @throws RangeError when `beta < 1`.
 * @example
 * linearPyramidSchedule(2)([200, 200, 200, 200], [16, 16, 16, 16]); // [24, 19, 13, 8]
 */
export function linearPyramidSchedule(beta: number): BudgetSchedule {
  checkNumber('linearPyramidSchedule', 'beta', beta, 1, Number.MAX_VALUE);
  return (lengths, uniform) => pyramidBudgets(lengths, uniform, beta);
}

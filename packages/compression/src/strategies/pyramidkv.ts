import type { KVCache } from '../kv-cache';
import { invalidArgument, formatValue } from '../messages';
import type { CompressionContext, StrategyParams } from '../strategy';
import { checkNumber } from '../validation';
import { ScoreBasedStrategy } from './score-based-strategy';
import { resolveObservationWindow, scoreWithObservationWindow, type ObservationWindowSettings, type SnapKVPooling } from './snapkv';

/** Options of {@link PyramidKVStrategy}. */
export interface PyramidKVOptions {
  /**
   * Fraction of the history's tokens removed, on average over layers: the layers together
   * keep at most `layers · max(1, ⌊len · (1 − r)⌋)` tokens per head.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
  /**
   * Steepness: the deepest layer's budget is the average divided by `beta`, the first
   * layer's is twice the average minus that.
   * @defaultValue 20
   * @minimum 1
   */
  beta?: number;
  /** Observation window, as in SnapKV. @defaultValue 16 @minimum 1 */
  window?: number;
  /** Pooling width, as in SnapKV. @defaultValue 5 @minimum 1 */
  kernelSize?: number;
  /** Pooling kind, as in SnapKV. @defaultValue "avg" */
  pooling?: SnapKVPooling;
}

/**
 * PyramidKV: keeps SnapKV's top-scored tokens with budgets that decrease linearly with depth.
 *
 * Attention is spread widely in the first layers and concentrates on a few tokens in deep
 * layers ("pyramidal information funnelling"), so shallow layers get more tokens and deep
 * layers fewer, for the same total. The scores are SnapKV's; only the per-layer budgets
 * differ (see {@link pyramidBudgets}).
 *
 * Deviation from paper: the reference code in the PyramidKV repository rounds the step
 * between layers down to an integer and divides by `m − 1`, which fails for one layer and
 * lets the mean fall below the average. Here the budgets interpolate linearly from the first
 * layer (index 0) to the last (index `m − 1`), so the last layer gets exactly average/beta
 * and the mean equals the average. A one-layer model gets the average, with no division.
 * Budgets are rounded to integers by largest remainder, so the total equals
 * `layers · average` unless a layer must be raised to 1 or lowered to its length. The
 * budget includes the observation window, as in SnapKV here.
 *
 * @see Cai, Zhang, Gao, Liu, Lu, Xiong, Dong, Chang, Hu, Xiao, "PyramidKV: Dynamic KV Cache
 * Compression based on Pyramidal Information Funneling", arXiv 2406.02069, 2024.
 * @param options - {@link PyramidKVOptions}; `beta` defaults to 20, the SnapKV settings to
 * window 16, kernel 5, `avg`.
 * @throws RangeError when the ratio is outside [0, 1), `beta < 1` or a SnapKV setting is out of range.
 * @throws TypeError from `compress` when the context has no attention statistics.
 * @example
 * const pyramid = new PyramidKVStrategy({ compressionRatio: 0.9, beta: 20 });
 */
export class PyramidKVStrategy extends ScoreBasedStrategy {
  readonly id = 'pyramidkv';
  /** Steepness of the budget pyramid. */
  readonly beta: number;
  /** Observation window, pooling width and pooling kind. */
  readonly settings: ObservationWindowSettings;
  private readonly warnings = new Set<string>();

  constructor(options: PyramidKVOptions) {
    super(options.compressionRatio);
    this.beta = checkNumber('PyramidKVStrategy', 'beta', options.beta ?? 20, 1, Number.MAX_VALUE);
    this.settings = resolveObservationWindow('PyramidKVStrategy', options);
  }

  override get params(): StrategyParams {
    return { compressionRatio: this.compressionRatio, beta: this.beta, ...this.settings };
  }

  /** Spreads the layers' total budget as a linear pyramid (see {@link pyramidBudgets}). */
  override allocateBudgets(lengths: readonly number[], uniform: readonly number[]): number[] {
    return pyramidBudgets(lengths, uniform, this.beta);
  }

  /** Scores tokens as SnapKV does. */
  score(cache: KVCache, context: CompressionContext, budgets: readonly number[]): Float32Array[] {
    return scoreWithObservationWindow('PyramidKVStrategy.score', this.id, cache, context, budgets, this.settings, this.warnings);
  }
}

/**
 * Budget: per-layer token budgets that decrease linearly with depth and sum to the total of
 * the uniform budgets.
 *
 * With `m` non-empty layers and average `a = Σ uniform / m`, the last layer's ideal budget
 * is `a / beta` and the first layer's is `2a − a / beta`. Layer `l` lies `l / (m − 1)` of the
 * way along the straight line between them, and a single layer gets `a`. The ideal budgets
 * are rounded to integers that sum to the total (largest remainder, ties to the shallower
 * layer) and raised to at least 1. If that raise overshot the total, the largest budgets
 * give the excess back. Finally each budget is capped at its layer's length, and empty
 * layers get 0.
 *
 * Guarantees: every non-empty layer gets at least 1, and the sum never exceeds the total.
 * The budgets never increase with depth before the cap at each length, so with equal
 * lengths they never increase at all.
 *
 * @param lengths - `[layers]` tokens per head in each layer.
 * @param uniform - `[layers]` each layer's uniform budget; their sum is the total to spread.
 * @param beta - steepness, ≥ 1 (1 gives equal budgets).
 * @returns `[layers]` integer budgets.
 * @throws RangeError when the arrays differ in length or `beta < 1`.
 * @example
 * pyramidBudgets([200, 200, 200, 200], [16, 16, 16, 16], 2); // [24, 19, 13, 8]
 */
export function pyramidBudgets(lengths: readonly number[], uniform: readonly number[], beta: number): number[] {
  if (lengths.length !== uniform.length) {
    throw new RangeError(invalidArgument('pyramidBudgets', 'uniform', `one budget per layer (${lengths.length})`, formatValue(uniform.length)));
  }
  checkNumber('pyramidBudgets', 'beta', beta, 1, Number.MAX_VALUE);

  // Ideal real-valued budgets along the pyramid, over non-empty layers only.
  const active = lengths.map((len, l) => (len > 0 ? l : -1)).filter((l) => l >= 0);
  const budgets = lengths.map(() => 0);
  const m = active.length;
  if (m === 0) {
    return budgets;
  }
  const total = active.reduce((sum, l) => sum + uniform[l], 0);
  const average = total / m;
  const last = average / beta;
  const first = 2 * average - last;
  const ideal = active.map((_, rank) => (m === 1 ? average : first - ((first - last) * rank) / (m - 1)));

  // Round to integers that sum to the total: floors, then +1 by largest remainder.
  const rounded = ideal.map((value) => Math.floor(value + 1e-9));
  let missing = total - rounded.reduce((sum, value) => sum + value, 0);
  const byRemainder = ideal.map((value, rank) => ({ rank, remainder: value - rounded[rank] })).sort((a, b) => b.remainder - a.remainder || a.rank - b.rank);
  for (const { rank } of byRemainder) {
    if (missing <= 0) {
      break;
    }
    rounded[rank] += 1;
    missing -= 1;
  }

  // Raise every layer to at least 1, then take any overshoot back from the largest budgets
  // (the deepest layer among equal maxima, which keeps the order non-increasing).
  for (let rank = 0; rank < m; rank++) {
    rounded[rank] = Math.max(1, rounded[rank]);
  }
  let excess = rounded.reduce((sum, value) => sum + value, 0) - Math.max(total, m);
  while (excess > 0) {
    const max = Math.max(...rounded);
    const rank = rounded.lastIndexOf(max);
    rounded[rank] -= 1;
    excess -= 1;
  }

  // Cap at each layer's length.
  active.forEach((l, rank) => {
    budgets[l] = Math.min(rounded[rank], lengths[l]);
  });
  return budgets;
}

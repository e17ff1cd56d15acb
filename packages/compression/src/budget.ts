import { invalidArgument, formatValue } from './messages';
import { checkCompressionRatio } from './validation';

/**
 * Slack added before flooring `len · (1 − r)`. The float64 product is off from the exact
 * value by at most a few units in the last place (about `len · 2.2e-16`), so a product that
 * should be an integer can land just below it: `100 · (1 − 0.9)` evaluates to
 * 9.999999999999998. A slack of `len · 1e-12` absorbs that error and only rounds up a
 * product that is genuinely within `len · 1e-12` below an integer.
 */
const FLOOR_SLACK_PER_TOKEN = 1e-12;

/**
 * Budget: the number of tokens a token-level strategy keeps out of `len` at a compression
 * ratio `r` (the fraction of tokens removed), `max(1, ⌊len · (1 − r)⌋)` for `len ≥ 1` and 0
 * for an empty history.
 *
 * The floor of 1 means that no ratio below 1 empties a non-empty cache by rounding, which
 * would leave the next attention step with no key and a NaN softmax.
 *
 * @param len - number of cached tokens, an integer ≥ 0.
 * @param compressionRatio - fraction of tokens removed, a finite number with 0 ≤ r < 1.
 * @throws RangeError when `len` is not a non-negative integer or `r` is outside [0, 1).
 * @throws TypeError when `r` is not a number.
 * @example
 * keptTokenCount(200, 0.875); // 25
 * keptTokenCount(2, 0.9); // 1, never 0
 */
export function keptTokenCount(len: number, compressionRatio: number): number {
  if (!Number.isInteger(len) || len < 0) {
    throw new RangeError(invalidArgument('keptTokenCount', 'len', 'an integer ≥ 0', formatValue(len)));
  }
  checkCompressionRatio('keptTokenCount', compressionRatio);
  if (len === 0) {
    return 0;
  }
  const exact = len * (1 - compressionRatio);
  const kept = Math.floor(exact + len * FLOOR_SLACK_PER_TOKEN);
  return Math.max(1, Math.min(len, kept));
}

/**
 * Returns `⌊count · fraction⌋` with the same float slack as {@link keptTokenCount}, clamped
 * to `[0, count]`. Used for a protected part of a budget, such as H2O's recent window.
 * Unlike the budget itself it may be 0, which means that nothing is protected.
 *
 * @param count - an integer ≥ 0.
 * @param fraction - a finite number in [0, 1].
 * @example
 * fractionOfTokens(5, 0.02); // 0: an empty protected set, not all 5 tokens
 */
export function fractionOfTokens(count: number, fraction: number): number {
  const value = Math.floor(count * fraction + count * FLOOR_SLACK_PER_TOKEN);
  return Math.max(0, Math.min(count, value));
}

import { emptyInput, invalidArgument, noUserWithBothClasses, singleClass } from './messages';
import { requireArrayLike, requireBinaryLabels, requireFinite, requireInteger, requireNoNaN, requireSameLength } from './validation';

/** Result of {@link gauc}: the weighted mean AUC and how many users it covers. */
export interface GaucResult {
  /** Σ_u n_u · AUC_u / Σ_u n_u over the users with both labels, n_u = their impressions. */
  gauc: number;
  /** Users with at least one positive and one negative impression. */
  usersUsed: number;
  /** Users left out because all their impressions have the same label. */
  usersSkipped: number;
}

/** Options of {@link logLoss}. */
export interface LogLossOptions {
  /**
   * Probabilities are clipped to [epsilon, 1 − epsilon] so that a confident wrong
   * prediction costs −ln(epsilon) instead of infinity. Default value: 1e-7, about the
   * float32 machine epsilon, because models output float32 probabilities.
   */
  epsilon?: number;
}

/**
 * CTR: area under the ROC curve of binary labels against scores, ties counting half.
 *
 * AUC = (#{(i, j) : yᵢ = 1, yⱼ = 0, sᵢ > sⱼ} + ½ · #{(i, j) : yᵢ = 1, yⱼ = 0, sᵢ = sⱼ}) / (P · N),
 *
 * the probability that a random positive is scored above a random negative (the
 * Mann–Whitney U statistic divided by P · N). It is computed by sorting the scores once,
 * O(n log n).
 *
 * @param labels 1 for a click, 0 otherwise, `[impressions]`.
 * @param scores model scores or probabilities, where ±Infinity is allowed and NaN rejected,
 *   `[impressions]`.
 * @returns AUC in [0, 1], which is 0.5 for a constant scorer.
 * @throws TypeError when an argument is not an array or an entry is not a number.
 * @throws RangeError when the lengths differ, a label is not 0 or 1, a score is NaN, or
 *   the labels lack a positive or a negative.
 * @example
 * // Pairs (positive, negative): (0.8, 0.3) and (0.8, 0.8) → (1 + ½) / 2.
 * auc([1, 0, 0], [0.8, 0.3, 0.8]); // 0.75
 */
export function auc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const where = 'auc';

  // Validate the arguments.
  requireArrayLike(where, 'labels', labels);
  requireArrayLike(where, 'scores', scores);
  requireSameLength(where, 'labels', labels, 'scores', scores);
  const positives = requireBinaryLabels(where, 'labels', labels);
  requireNoNaN(where, 'scores', scores);
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(singleClass(where, positives, negatives));
  }

  // Sort the impressions by score and count the correctly ordered pairs.
  const order = Int32Array.from({ length: labels.length }, (_, i) => i); // [impressions]
  order.sort((i, j) => compareNumbers(scores[i], scores[j]) || i - j);
  return aucOfSortedRun(order, 0, order.length, labels, scores, positives, negatives);
}

/**
 * CTR: group AUC, the AUC of each user's impressions weighted by the user's impression
 * count.
 *
 * GAUC = Σ_u n_u · AUC_u / Σ_u n_u, summed over users with at least one positive and one
 * negative impression, since AUC is undefined for the others. Those users are left out of
 * both sums and counted in `usersSkipped`. Impressions of a user need not be contiguous.
 *
 * @param users user id of each impression, integers, `[impressions]`.
 * @param labels 1 for a click, 0 otherwise, `[impressions]`.
 * @param scores model scores, where ±Infinity is allowed and NaN rejected, `[impressions]`.
 * @throws TypeError when an argument is not an array or an entry is not a number.
 * @throws RangeError when the lengths differ, a user id is not an integer, a label is not
 *   0 or 1, a score is NaN, or no user has both labels.
 * @example
 * // User 1: AUC 1 over 2 impressions. User 2: AUC 0 over 3. User 3 has one class.
 * gauc([1, 1, 2, 2, 2, 3], [1, 0, 1, 0, 0, 1], [0.9, 0.1, 0.2, 0.5, 0.6, 0.7]);
 * // { gauc: (2 · 1 + 3 · 0) / 5 = 0.4, usersUsed: 2, usersSkipped: 1 }
 */
export function gauc(users: ArrayLike<number>, labels: ArrayLike<number>, scores: ArrayLike<number>): GaucResult {
  const where = 'gauc';

  // Validate the arguments.
  requireArrayLike(where, 'users', users);
  requireArrayLike(where, 'labels', labels);
  requireArrayLike(where, 'scores', scores);
  requireSameLength(where, 'users', users, 'labels', labels);
  requireSameLength(where, 'users', users, 'scores', scores);
  for (let i = 0; i < users.length; i += 1) {
    requireInteger(where, `users[${i}]`, users[i], Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }
  requireBinaryLabels(where, 'labels', labels);
  requireNoNaN(where, 'scores', scores);

  // Sort the impressions by user, then by score, so each user is one run sorted by score.
  const order = Int32Array.from({ length: users.length }, (_, i) => i); // [impressions]
  order.sort((i, j) => users[i] - users[j] || compareNumbers(scores[i], scores[j]) || i - j);

  // Weighted sum of the per-user AUCs over users with both labels.
  let weightedSum = 0;
  let weight = 0;
  let usersUsed = 0;
  let usersSkipped = 0;
  for (let start = 0; start < order.length; ) {
    const user = users[order[start]];
    let end = start;
    let positives = 0;
    while (end < order.length && users[order[end]] === user) {
      positives += labels[order[end]];
      end += 1;
    }
    const impressions = end - start;
    if (positives === 0 || positives === impressions) {
      usersSkipped += 1;
    } else {
      weightedSum += impressions * aucOfSortedRun(order, start, end, labels, scores, positives, impressions - positives);
      weight += impressions;
      usersUsed += 1;
    }
    start = end;
  }
  if (usersUsed === 0) {
    throw new RangeError(noUserWithBothClasses(where, usersSkipped));
  }
  return { gauc: weightedSum / weight, usersUsed, usersSkipped };
}

/**
 * CTR: mean binary cross-entropy of probabilities against labels, natural log.
 *
 * LogLoss = −(1/n) Σᵢ [yᵢ · ln pᵢ + (1 − yᵢ) · ln(1 − pᵢ)], with each pᵢ clipped to
 * [ε, 1 − ε]. Sums are float64. For raw logits use {@link logLossFromLogits}, which
 * needs no clipping.
 *
 * @param labels 1 for a click, 0 otherwise, `[impressions]` with impressions ≥ 1.
 * @param probabilities predicted click probabilities in [0, 1], `[impressions]`.
 * @param options see {@link LogLossOptions}.
 * @throws TypeError when an argument is not an array or an entry is not a number.
 * @throws RangeError when the arrays are empty or their lengths differ, a label is not 0
 *   or 1, a probability is outside [0, 1] or NaN, or epsilon is outside (0, 0.5).
 * @example
 * // −(ln 0.8 + ln(1 − 0.4)) / 2
 * logLoss([1, 0], [0.8, 0.4]); // 0.3670…
 */
export function logLoss(labels: ArrayLike<number>, probabilities: ArrayLike<number>, options?: LogLossOptions): number {
  const where = 'logLoss';

  // Validate the arguments.
  requireArrayLike(where, 'labels', labels);
  requireArrayLike(where, 'probabilities', probabilities);
  requireSameLength(where, 'labels', labels, 'probabilities', probabilities);
  if (labels.length === 0) {
    throw new RangeError(emptyInput(where, 'labels', 'pass at least one impression'));
  }
  requireBinaryLabels(where, 'labels', labels);
  const epsilon = options?.epsilon ?? 1e-7;
  requireFinite(where, 'options.epsilon', epsilon);
  if (!(epsilon > 0 && epsilon < 0.5)) {
    throw new RangeError(invalidArgument(where, 'options.epsilon', 'a number strictly between 0 and 0.5', epsilon));
  }

  // Sum the clipped cross-entropy terms in float64.
  let sum = 0;
  for (let i = 0; i < labels.length; i += 1) {
    const probability = probabilities[i];
    requireProbability(where, `probabilities[${i}]`, probability);
    const clipped = Math.min(Math.max(probability, epsilon), 1 - epsilon);
    sum -= labels[i] === 1 ? Math.log(clipped) : Math.log1p(-clipped);
  }
  return sum / labels.length;
}

/**
 * CTR: mean binary cross-entropy computed from logits zᵢ, where pᵢ = sigmoid(zᵢ).
 *
 * Each term is −[y · ln σ(z) + (1 − y) · ln(1 − σ(z))] = max(z, 0) − y · z + ln(1 + e^(−|z|)).
 * Because e^(−|z|) ≤ 1, no finite logit overflows, so no clipping is applied.
 *
 * @param labels 1 for a click, 0 otherwise, `[impressions]` with impressions ≥ 1.
 * @param logits finite model logits, `[impressions]`.
 * @throws TypeError when an argument is not an array or an entry is not a number.
 * @throws RangeError when the arrays are empty or their lengths differ, a label is not 0
 *   or 1, or a logit is not finite.
 * @example
 * // A logit of 0 is p = 0.5, so each term is ln 2.
 * logLossFromLogits([1, 0], [0, 0]); // 0.6931…
 */
export function logLossFromLogits(labels: ArrayLike<number>, logits: ArrayLike<number>): number {
  const where = 'logLossFromLogits';

  // Validate the arguments.
  requireArrayLike(where, 'labels', labels);
  requireArrayLike(where, 'logits', logits);
  requireSameLength(where, 'labels', labels, 'logits', logits);
  if (labels.length === 0) {
    throw new RangeError(emptyInput(where, 'labels', 'pass at least one impression'));
  }
  requireBinaryLabels(where, 'labels', labels);

  // Sum the stable softplus form of each term in float64.
  let sum = 0;
  for (let i = 0; i < labels.length; i += 1) {
    const logit = logits[i];
    requireFinite(where, `logits[${i}]`, logit);
    sum += Math.max(logit, 0) - labels[i] * logit + Math.log1p(Math.exp(-Math.abs(logit)));
  }
  return sum / labels.length;
}

/**
 * AUC of the impressions `order[start..end)`, which are sorted by increasing score.
 * Walking blocks of equal score, each positive gains 1 per negative in earlier blocks and
 * ½ per negative in its own block.
 */
function aucOfSortedRun(
  order: Int32Array,
  start: number,
  end: number,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  positives: number,
  negatives: number,
): number {
  let pairs = 0;
  let negativesBelow = 0;
  for (let blockStart = start; blockStart < end; ) {
    const score = scores[order[blockStart]];
    let blockEnd = blockStart;
    let blockPositives = 0;
    while (blockEnd < end && scores[order[blockEnd]] === score) {
      blockPositives += labels[order[blockEnd]];
      blockEnd += 1;
    }
    const blockNegatives = blockEnd - blockStart - blockPositives;
    pairs += blockPositives * (negativesBelow + blockNegatives / 2);
    negativesBelow += blockNegatives;
    blockStart = blockEnd;
  }
  return pairs / (positives * negatives);
}

/** Orders two non-NaN numbers, ±Infinity included, without the NaN of Infinity − Infinity. */
function compareNumbers(x: number, y: number): number {
  if (x < y) {
    return -1;
  }
  if (x > y) {
    return 1;
  }
  return 0;
}

/** Checks that `value` is a probability in [0, 1]. */
function requireProbability(where: string, argument: string, value: unknown): void {
  if (typeof value !== 'number') {
    throw new TypeError(invalidArgument(where, argument, 'a probability in [0, 1]', value));
  }
  if (!(value >= 0 && value <= 1)) {
    throw new RangeError(invalidArgument(where, argument, 'a probability in [0, 1]', value));
  }
}

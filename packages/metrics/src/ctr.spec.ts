import { expectThrows } from './__fixtures__/reference';
import { auc, gauc, logLoss, logLossFromLogits } from './ctr';
import { emptyInput, invalidArgument, lengthMismatch, noUserWithBothClasses, singleClass } from './messages';
import { SeededRandom } from './random';

/** AUC by counting every (positive, negative) pair, ties counting half. */
function pairwiseAuc(labels: readonly number[], scores: readonly number[]): number {
  let pairs = 0;
  let total = 0;
  labels.forEach((positive, i) => {
    labels.forEach((negative, j) => {
      if (positive === 1 && negative === 0) {
        total += 1;
        if (scores[i] > scores[j]) {
          pairs += 1;
        } else if (scores[i] === scores[j]) {
          pairs += 0.5;
        }
      }
    });
  });
  return pairs / total;
}

describe('auc', () => {
  it('counts correctly ordered pairs', () => {
    // Positives 0.9, 0.4; negatives 0.5, 0.1. Pairs: (0.9 > 0.5), (0.9 > 0.1), (0.4 < 0.5),
    // (0.4 > 0.1): 3 of 4.
    expect(auc([1, 0, 1, 0], [0.9, 0.5, 0.4, 0.1])).toBe(0.75);
  });

  it('counts ties as half a pair', () => {
    // Positive 0.8; negatives 0.3 and 0.8: (1 + 0.5) / 2.
    expect(auc([1, 0, 0], [0.8, 0.3, 0.8])).toBe(0.75);
    // A constant scorer ties every pair: 0.5.
    expect(auc([1, 1, 0, 0, 0], [0.2, 0.2, 0.2, 0.2, 0.2])).toBe(0.5);
    // Two positives tied with one negative at 0.6 above a negative at 0.1:
    // each positive gets 1 + 0.5 from the two negatives, (1.5 + 1.5) / (2 · 2) = 0.75.
    expect(auc([1, 1, 0, 0], [0.6, 0.6, 0.6, 0.1])).toBe(0.75);
  });

  it('reaches 1 and 0 for perfect and reversed orderings', () => {
    expect(auc([0, 0, 1, 1], new Float32Array([0.1, 0.2, 0.3, 0.4]))).toBe(1);
    expect(auc([1, 1, 0, 0], new Float32Array([0.1, 0.2, 0.3, 0.4]))).toBe(0);
    expect(auc([1, 0], [Infinity, -Infinity])).toBe(1);
  });

  it('matches pair counting on random tied scores', () => {
    const random = new SeededRandom(31);
    for (let trial = 0; trial < 100; trial += 1) {
      const n = 2 + random.nextInt(40);
      // The first two impressions guarantee one positive and one negative.
      const labels = [1, 0, ...Array.from({ length: n - 2 }, () => random.nextInt(2))];
      const scores = Array.from({ length: n }, () => random.nextInt(5) / 4);
      expect(auc(labels, scores)).toBeCloseTo(pairwiseAuc(labels, scores), 14);
    }
  });

  it('rejects single-class labels, bad labels and NaN', () => {
    expectThrows(() => auc([1, 1], [0.1, 0.2]), RangeError, singleClass('auc', 2, 0));
    expectThrows(() => auc([1, 2], [0.1, 0.2]), RangeError, invalidArgument('auc', 'labels[1]', '0 or 1', 2));
    expectThrows(() => auc([1, 0], [0.1, NaN]), RangeError, invalidArgument('auc', 'scores[1]', 'a number (not NaN)', NaN));
    expectThrows(() => auc([1, 0], [0.1]), RangeError, lengthMismatch('auc', 'labels', 2, 'scores', 1));
    expectThrows(() => auc([true, false] as unknown as number[], [0.1, 0.2]), TypeError, invalidArgument('auc', 'labels[0]', '0 or 1', true));
  });
});

describe('gauc', () => {
  it('weights per-user AUC by impressions and skips single-class users', () => {
    // User 1: labels 1, 0 with scores 0.9, 0.1 → AUC 1 over 2 impressions.
    // User 2: labels 1, 0, 0 with scores 0.2, 0.5, 0.6 → AUC 0 over 3 impressions.
    // User 3: one impression, label 1 only → skipped.
    // User 4: two impressions, both 0 → skipped.
    // GAUC = (2 · 1 + 3 · 0) / (2 + 3) = 0.4
    const users = [1, 2, 1, 2, 3, 2, 4, 4];
    const labels = [1, 1, 0, 0, 1, 0, 0, 0];
    const scores = [0.9, 0.2, 0.1, 0.5, 0.7, 0.6, 0.3, 0.8];
    expect(gauc(users, labels, scores)).toEqual({ gauc: 0.4, usersUsed: 2, usersSkipped: 2 });
  });

  it('counts ties half within a user', () => {
    // User 7: positive 0.5, negatives 0.5 and 0.2 → (0.5 + 1) / 2 = 0.75 over 3 impressions.
    // User 8: positives 0.9, 0.3, negative 0.4 → (1 + 0) / 2 = 0.5 over 3 impressions.
    // GAUC = (3 · 0.75 + 3 · 0.5) / 6 = 0.625
    const result = gauc([7, 7, 7, 8, 8, 8], [1, 0, 0, 1, 1, 0], [0.5, 0.5, 0.2, 0.9, 0.3, 0.4]);
    expect(result).toEqual({ gauc: 0.625, usersUsed: 2, usersSkipped: 0 });
  });

  it('equals AUC for a single user', () => {
    const labels = [1, 0, 1, 0, 0];
    const scores = [0.3, 0.2, 0.9, 0.3, 0.1];
    expect(gauc([5, 5, 5, 5, 5], labels, scores).gauc).toBe(auc(labels, scores));
  });

  it('rejects input where no user has both labels', () => {
    expectThrows(() => gauc([1, 2], [1, 0], [0.1, 0.2]), RangeError, noUserWithBothClasses('gauc', 2));
    expectThrows(() => gauc([1, 1.5], [1, 0], [0.1, 0.2]), RangeError, invalidArgument('gauc', 'users[1]', `an integer in [${Number.MIN_SAFE_INTEGER}, ${Number.MAX_SAFE_INTEGER}]`, 1.5));
    expectThrows(() => gauc([1, 1], [1, 0], [0.1]), RangeError, lengthMismatch('gauc', 'users', 2, 'scores', 1));
  });
});

describe('logLoss', () => {
  it('averages the cross-entropy by hand', () => {
    // −(ln 0.8 + ln(1 − 0.4)) / 2 = −(−0.22314355 − 0.51082562) / 2 = 0.36698459
    expect(logLoss([1, 0], [0.8, 0.4])).toBeCloseTo(0.366984587, 8);
    // A perfect 0.5 guess costs ln 2 per impression.
    expect(logLoss([1, 0, 1], [0.5, 0.5, 0.5])).toBeCloseTo(Math.LN2, 15);
  });

  it('clips confident wrong predictions to epsilon', () => {
    // p = 0 for a click costs −ln(1e-7) = 16.118 instead of infinity.
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(1e-7), 10);
    expect(logLoss([0], [1], { epsilon: 1e-3 })).toBeCloseTo(-Math.log(1e-3), 10);
    expect(Number.isFinite(logLoss([1, 0], [0, 1]))).toBe(true);
  });

  it('rejects probabilities outside [0, 1] and empty input', () => {
    expectThrows(() => logLoss([1], [1.2]), RangeError, invalidArgument('logLoss', 'probabilities[0]', 'a probability in [0, 1]', 1.2));
    expectThrows(() => logLoss([1], [NaN]), RangeError, invalidArgument('logLoss', 'probabilities[0]', 'a probability in [0, 1]', NaN));
    expectThrows(() => logLoss([], []), RangeError, emptyInput('logLoss', 'labels', 'pass at least one impression'));
    expectThrows(() => logLoss([1], [0.5], { epsilon: 0.5 }), RangeError, invalidArgument('logLoss', 'options.epsilon', 'a number strictly between 0 and 0.5', 0.5));
  });
});

describe('logLossFromLogits', () => {
  it('equals logLoss of the sigmoid', () => {
    const labels = [1, 0, 1, 0];
    const logits = [2, -1, -0.5, 3];
    const probabilities = logits.map((z) => 1 / (1 + Math.exp(-z)));
    expect(logLossFromLogits(labels, logits)).toBeCloseTo(logLoss(labels, probabilities, { epsilon: 1e-15 }), 12);
    // Logit 0 is p = 0.5: ln 2 per impression.
    expect(logLossFromLogits([1, 0], [0, 0])).toBeCloseTo(Math.LN2, 15);
  });

  it('stays finite and exact for huge logits', () => {
    // A click with logit −1000 costs ln(1 + e^1000) = 1000 (+ e^−1000), no overflow.
    expect(logLossFromLogits([1], [-1000])).toBe(1000);
    // A click with logit 1000 costs ln(1 + e^−1000) = 0.
    expect(logLossFromLogits([1], [1000])).toBe(0);
    expectThrows(() => logLossFromLogits([1], [Infinity]), RangeError, invalidArgument('logLossFromLogits', 'logits[0]', 'a finite number', Infinity));
  });
});

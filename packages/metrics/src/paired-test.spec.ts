import { expectThrows } from './__fixtures__/reference';
import { emptyInput, invalidArgument, lengthMismatch } from './messages';
import { pairedTest } from './paired-test';
import { SeededRandom } from './random';

describe('pairedTest', () => {
  it('enumerates all sign patterns for few users', () => {
    // Differences 1, 2, 3 (sum 6). Of the 8 sign patterns the sums are ±6, ±4, ±2, ±0:
    // +1+2+3 = 6, −1+2+3 = 4, +1−2+3 = 2, −1−2+3 = 0 and their negations.
    // Only ±6 reach |sum| ≥ 6, so p = 2 / 8.
    const result = pairedTest([1, 2, 3], [0, 0, 0]);
    expect(result.pValue).toBe(0.25);
    expect(result.meanDifference).toBe(2);
    expect(result.n).toBe(3);
    expect(result.exact).toBe(true);
    expect(result.resamples).toBe(8);
    expect(result.method).toBe('sign-flip permutation test, exact (8 sign patterns)');
  });

  it('counts sums equal to the observed one despite rounding', () => {
    // Differences 0.1, 0.2, −0.3, 0.5 sum to 0.5. The 16 sign patterns give ±0.5 (keep all,
    // or flip 0.1, 0.2 and −0.3, whose sum is 0), ±0.7, ±0.9, ±1.1, ±0.1 and ±0.3, so 10
    // patterns reach |sum| ≥ 0.5 and p = 10 / 16. In float64 the second 0.5 evaluates to
    // 0.49999999999999994; without the rounding tolerance p would be 8 / 16.
    const result = pairedTest([0.1, 0.2, 0, 0.5], [0, 0, 0.3, 0]);
    expect(result.pValue).toBe(10 / 16);
    // Differences 0.1, 0.2, −0.3 sum to about 0: every pattern reaches it and p = 1.
    expect(pairedTest([0.1, 0.2, 0], [0, 0, 0.3]).pValue).toBe(1);
  });

  it('gives p = 1 when nothing differs', () => {
    const values = [0.5, 0.25, 1, 0];
    expect(pairedTest(values, values)).toMatchObject({ meanDifference: 0, pValue: 1 });
    // Monte Carlo path as well (2^40 patterns do not fit in 100 resamples).
    const many = new Array<number>(40).fill(0.3);
    expect(pairedTest(many, many, { resamples: 100 })).toMatchObject({ pValue: 1, exact: false });
  });

  it('agrees with the exact test when sampled', () => {
    // 12 users: the exact test needs 2^12 = 4,096 patterns. With only 4,095 resamples the
    // test draws random patterns, and its p-value should be within 0.02 of the exact one.
    const random = new SeededRandom(4);
    const a = Array.from({ length: 12 }, () => random.nextInt(100) / 100);
    const b = a.map((value, i) => value - 0.05 + (i % 3) * 0.02);
    const exact = pairedTest(a, b, { resamples: 4096 });
    const sampled = pairedTest(a, b, { resamples: 4095, seed: 9 });
    expect(exact.exact).toBe(true);
    expect(sampled.exact).toBe(false);
    expect(Math.abs(sampled.pValue - exact.pValue)).toBeLessThan(0.02);
    expect(sampled.method).toBe('sign-flip permutation test, Monte Carlo (4095 random sign patterns, seed 9)');
  });

  it('detects a consistent improvement over many users', () => {
    // 500 users; the method beats the baseline by 0.02 on average with noise of ±0.05.
    const random = new SeededRandom(5);
    const baseline = Array.from({ length: 500 }, () => random.nextInt(1000) / 1000);
    const method = baseline.map((value) => value + 0.02 + (random.nextInt(101) - 50) / 1000);
    const result = pairedTest(method, baseline, { seed: 1 });
    expect(result.meanDifference).toBeGreaterThan(0.015);
    // The smallest possible Monte Carlo p-value is 1 / (10000 + 1).
    expect(result.pValue).toBe(1 / 10001);
    // Swapping a and b flips the sign of the difference, not the two-sided p-value.
    const swapped = pairedTest(baseline, method, { seed: 1 });
    expect(swapped.meanDifference).toBeCloseTo(-result.meanDifference, 15);
    expect(swapped.pValue).toBe(result.pValue);
  });

  it('finds no difference between two noisy copies of one method', () => {
    // Differences symmetric about 0: the p-value should be far from significance.
    const random = new SeededRandom(6);
    const a = Array.from({ length: 400 }, () => random.nextInt(1000) / 1000);
    const b = a.map((value, i) => value + (i % 2 === 0 ? 0.01 : -0.01) * (1 + (i % 7)));
    expect(pairedTest(a, b, { seed: 2 }).pValue).toBeGreaterThan(0.2);
  });

  it('is deterministic for a seed', () => {
    const random = new SeededRandom(7);
    const a = Array.from({ length: 50 }, () => random.nextInt(100) / 100);
    const b = Array.from({ length: 50 }, () => random.nextInt(100) / 100);
    expect(pairedTest(a, b, { seed: 3 })).toEqual(pairedTest(a, b, { seed: 3 }));
  });

  it('rejects invalid input', () => {
    expectThrows(() => pairedTest([1, 2], [1]), RangeError, lengthMismatch('pairedTest', 'a', 2, 'b', 1));
    expectThrows(() => pairedTest([], []), RangeError, emptyInput('pairedTest', 'a', 'pass at least one value'));
    expectThrows(() => pairedTest([1, Infinity], [1, 2]), RangeError, invalidArgument('pairedTest', 'a[1]', 'a finite number', Infinity));
    expectThrows(() => pairedTest([1], [1], { resamples: 2.5 }), RangeError, invalidArgument('pairedTest', 'options.resamples', 'a positive integer', 2.5));
  });
});

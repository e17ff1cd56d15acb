import { expectThrows } from './__fixtures__/reference';
import { bootstrapMeanCI } from './confidence-interval';
import { emptyInput, invalidArgument } from './messages';
import { SeededRandom } from './random';

/** Per-user NDCG-like values: 30 % zeros, the rest spread over (0, 1]. */
function userValues(n: number, seed: number): Float64Array {
  const random = new SeededRandom(seed);
  return Float64Array.from({ length: n }, () => (random.nextInt(10) < 3 ? 0 : (1 + random.nextInt(1000)) / 1000));
}

describe('bootstrapMeanCI', () => {
  it('is deterministic for a seed and varies with it', () => {
    const values = userValues(500, 1);
    const first = bootstrapMeanCI(values, { seed: 42 });
    expect(bootstrapMeanCI(values, { seed: 42 })).toEqual(first);
    const other = bootstrapMeanCI(values, { seed: 43 });
    expect([other.low, other.high]).not.toEqual([first.low, first.high]);
  });

  it('contains the sample mean and records its settings', () => {
    for (let seed = 0; seed < 5; seed += 1) {
      const values = userValues(300, 100 + seed);
      const ci = bootstrapMeanCI(values, { seed });
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      expect(ci.mean).toBeCloseTo(mean, 14);
      expect(ci.low).toBeLessThan(ci.mean);
      expect(ci.high).toBeGreaterThan(ci.mean);
      expect(ci).toMatchObject({ confidence: 0.95, resamples: 1000, seed });
    }
  });

  it('has about the normal-theory width', () => {
    // For a mean of n values with standard deviation s, a 95 % interval is about
    // ±1.96 · s / √n wide. Bootstrap and normal widths agree within 15 % at n = 2,000.
    const values = userValues(2000, 7);
    const n = values.length;
    const mean = values.reduce((sum, value) => sum + value, 0) / n;
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
    const normalHalfWidth = 1.96 * Math.sqrt(variance / n);
    const ci = bootstrapMeanCI(values, { seed: 3 });
    expect((ci.high - ci.low) / 2 / normalHalfWidth).toBeGreaterThan(0.85);
    expect((ci.high - ci.low) / 2 / normalHalfWidth).toBeLessThan(1.15);
  });

  it('narrows as the confidence drops', () => {
    const values = userValues(400, 9);
    const wide = bootstrapMeanCI(values, { confidence: 0.99, seed: 1 });
    const narrow = bootstrapMeanCI(values, { confidence: 0.5, seed: 1 });
    expect(narrow.high - narrow.low).toBeLessThan(wide.high - wide.low);
  });

  it('takes the 25th smallest and 25th largest of 1,000 means', () => {
    // Replay the resampling with the same generator: resample b draws n indices with
    // nextInt(n). With B = 1000 and 95 %, j = ⌈0.025 · 1000⌉ = 25, so low = m(25) and
    // high = m(1000 + 1 − 25) = m(976), 0-based entries 24 and 975.
    const values = [0.1, 0.4, 0.4, 0.9, 1];
    const random = new SeededRandom(17);
    const means = Array.from({ length: 1000 }, () => {
      let sum = 0;
      for (let i = 0; i < values.length; i += 1) {
        sum += values[random.nextInt(values.length)];
      }
      return sum / values.length;
    }).sort((a, b) => a - b);
    const ci = bootstrapMeanCI(values, { seed: 17 });
    expect(ci.low).toBe(means[24]);
    expect(ci.high).toBe(means[975]);
    // mean = (0.1 + 0.4 + 0.4 + 0.9 + 1) / 5 = 2.8 / 5
    expect(ci.mean).toBeCloseTo(0.56, 15);
  });

  it('gives a zero-width interval for constant values', () => {
    expect(bootstrapMeanCI([0.25, 0.25, 0.25], { seed: 5 })).toMatchObject({ mean: 0.25, low: 0.25, high: 0.25 });
    expect(bootstrapMeanCI([0.7])).toMatchObject({ mean: 0.7, low: 0.7, high: 0.7 });
  });

  it('rejects invalid input', () => {
    expectThrows(() => bootstrapMeanCI([]), RangeError, emptyInput('bootstrapMeanCI', 'values', 'pass at least one value'));
    expectThrows(() => bootstrapMeanCI([1, NaN]), RangeError, invalidArgument('bootstrapMeanCI', 'values[1]', 'a finite number', NaN));
    expectThrows(() => bootstrapMeanCI([1], { confidence: 1 }), RangeError, invalidArgument('bootstrapMeanCI', 'options.confidence', 'a number strictly between 0 and 1', 1));
    expectThrows(() => bootstrapMeanCI([1], { resamples: 0 }), RangeError, invalidArgument('bootstrapMeanCI', 'options.resamples', 'a positive integer', 0));
    expectThrows(() => bootstrapMeanCI([1], { seed: 1.5 }), RangeError, invalidArgument('bootstrapMeanCI', 'options.seed', 'an integer in [0, 4294967295]', 1.5));
  });
});

import { expectThrows } from './__fixtures__/reference';
import { emptyInput, invalidArgument, noSteadyStateSamples } from './messages';
import { nearestRank, percentile, summarizeLatency } from './latency';

describe('summarizeLatency', () => {
  it('reports the first call apart and summarises the rest', () => {
    // First call 120 ms (compilation); steady calls 10, 12, 11, 13.
    const summary = summarizeLatency([120, 10, 12, 11, 13]);
    expect(summary.firstMs).toBe(120);
    expect(summary.count).toBe(4);
    // mean = (10 + 12 + 11 + 13) / 4 = 11.5
    expect(summary.meanMs).toBe(11.5);
    // sorted 10, 11, 12, 13: p50 = x(⌈0.5 · 4⌉) = x(2) = 11; p95 = x(⌈3.8⌉) = x(4) = 13
    expect(summary.p50).toBe(11);
    expect(summary.p95).toBe(13);
    expect(summary.p99).toBe(13);
    expect(summary.maxMs).toBe(13);
  });

  it('leaves out 3 warm-up calls and times 20', () => {
    // Warm-up 50, 30, 20 ms; then 20 timed calls of 1, 2, …, 20 ms in shuffled order.
    const timed = [7, 3, 19, 1, 12, 20, 5, 16, 9, 14, 2, 18, 11, 4, 15, 8, 13, 6, 17, 10];
    const summary = summarizeLatency([50, 30, 20, ...timed], { warmup: 3 });
    expect(summary.firstMs).toBe(50);
    expect(summary.count).toBe(20);
    // mean = (1 + … + 20) / 20 = 210 / 20 = 10.5
    expect(summary.meanMs).toBe(10.5);
    // p50 = x(⌈0.5 · 20⌉) = x(10) = 10; p95 = x(⌈19⌉) = 19; p99 = x(⌈19.8⌉) = x(20) = 20
    expect(summary.p50).toBe(10);
    expect(summary.p95).toBe(19);
    expect(summary.p99).toBe(20);
    expect(summary.maxMs).toBe(20);
  });

  it('keeps the first sample in the statistics when warmup is 0', () => {
    const summary = summarizeLatency([4, 2], { warmup: 0 });
    expect(summary.firstMs).toBe(4);
    expect(summary.count).toBe(2);
    // mean = (4 + 2) / 2 = 3; p50 = x(⌈1⌉) = 2
    expect(summary.meanMs).toBe(3);
    expect(summary.p50).toBe(2);
    expect(summary.maxMs).toBe(4);
  });

  it('rejects runs with no sample after warm-up', () => {
    expectThrows(() => summarizeLatency([5, 6], { warmup: 2 }), RangeError, noSteadyStateSamples('summarizeLatency', 2, 2));
    expectThrows(() => summarizeLatency([]), RangeError, noSteadyStateSamples('summarizeLatency', 0, 1));
  });

  it('rejects negative, NaN or non-numeric samples', () => {
    const expected = 'a finite, non-negative duration in milliseconds';
    expectThrows(() => summarizeLatency([1, -2, 3]), RangeError, invalidArgument('summarizeLatency', 'samplesMs[1]', expected, -2));
    expectThrows(() => summarizeLatency([1, NaN, 3]), RangeError, invalidArgument('summarizeLatency', 'samplesMs[1]', expected, NaN));
    expectThrows(() => summarizeLatency([1, '2' as unknown as number]), TypeError, invalidArgument('summarizeLatency', 'samplesMs[1]', 'a duration in milliseconds (a number)', '2'));
    expectThrows(() => summarizeLatency([1, 2], { warmup: -1 }), RangeError, invalidArgument('summarizeLatency', 'options.warmup', `an integer in [0, ${Number.MAX_SAFE_INTEGER}]`, -1));
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const values = [40, 15, 50, 35, 20];
    // sorted 15, 20, 35, 40, 50 (n = 5)
    expect(percentile(values, 0)).toBe(15); // rank clamped to 1
    expect(percentile(values, 5)).toBe(15); // ⌈0.25⌉ = 1
    expect(percentile(values, 30)).toBe(20); // ⌈1.5⌉ = 2
    expect(percentile(values, 40)).toBe(20); // ⌈2⌉ = 2, exactly 40 % at or below 20
    expect(percentile(values, 50)).toBe(35); // ⌈2.5⌉ = 3
    expect(percentile(values, 100)).toBe(50); // ⌈5⌉ = 5
  });

  it('does not skip a rank on rounding error', () => {
    // 2.2 · 1500 / 100 evaluates to 33.00000000000001 in float64; the rank is 33, not 34.
    expect((2.2 * 1500) / 100).toBeGreaterThan(33);
    expect(nearestRank(1500, 2.2)).toBe(33);
    const values = Array.from({ length: 1500 }, (_, i) => i + 1);
    expect(percentile(values, 2.2)).toBe(33);
  });

  it('rejects empty input and p outside [0, 100]', () => {
    expectThrows(() => percentile([], 50), RangeError, emptyInput('percentile', 'values', 'pass at least one value'));
    expectThrows(() => percentile([1], 101), RangeError, invalidArgument('percentile', 'p', 'a percentile in [0, 100]', 101));
    expectThrows(() => percentile([1, NaN], 50), RangeError, invalidArgument('percentile', 'values[1]', 'a number (not NaN)', NaN));
  });
});

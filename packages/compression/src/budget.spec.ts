import { fractionOfTokens, keptTokenCount } from './budget';
import { invalidArgument } from './messages';

describe('keptTokenCount', () => {
  it('keeps floor of len times one minus r', () => {
    expect(keptTokenCount(200, 0.5)).toBe(100); // 200 · 0.5
    expect(keptTokenCount(200, 0.875)).toBe(25); // 200 · 0.125
    expect(keptTokenCount(10, 0.7)).toBe(3); // 10 · 0.3
    expect(keptTokenCount(7, 0.5)).toBe(3); // ⌊3.5⌋
    expect(keptTokenCount(200, 0)).toBe(200);
  });

  it('absorbs float error below an integer product', () => {
    // In float64, 1 − 0.9 = 0.09999999999999998, so 100 · (1 − 0.9) = 9.999999999999998.
    expect(100 * (1 - 0.9)).toBeLessThan(10);
    expect(keptTokenCount(100, 0.9)).toBe(10);
    expect(keptTokenCount(1000, 0.9)).toBe(100);
  });

  it('matches integer arithmetic for every percent ratio', () => {
    // r = p / 100: the exact kept count is ⌊len · (100 − p) / 100⌋ in integers.
    for (let len = 1; len <= 400; len++) {
      for (let p = 0; p < 100; p++) {
        const exact = Math.max(1, Math.floor((len * (100 - p)) / 100));
        expect(keptTokenCount(len, p / 100)).toBe(exact);
      }
    }
  });

  it('matches integer arithmetic for kvpress eighths', () => {
    for (const [numerator, ratio] of [[2, 0.25], [4, 0.5], [6, 0.75], [7, 0.875]] as const) {
      for (let len = 1; len <= 1000; len++) {
        expect(keptTokenCount(len, ratio)).toBe(Math.max(1, Math.floor((len * (8 - numerator)) / 8)));
      }
    }
  });

  it('never empties a non-empty history', () => {
    expect(keptTokenCount(2, 0.9)).toBe(1); // ⌊0.2⌋ = 0, raised to 1
    expect(keptTokenCount(1, 0.999)).toBe(1);
    expect(keptTokenCount(0, 0.5)).toBe(0);
  });

  it('rejects ratios outside [0, 1)', () => {
    expect(() => keptTokenCount(10, 1)).toThrow(new RangeError(invalidArgument('keptTokenCount', 'compressionRatio', 'a finite number in [0, 1)', '1')));
    expect(() => keptTokenCount(10, -0.1)).toThrow(RangeError);
    expect(() => keptTokenCount(10, Number.NaN)).toThrow(RangeError);
    expect(() => keptTokenCount(10, Infinity)).toThrow(RangeError);
    expect(() => keptTokenCount(10, '0.5' as unknown as number)).toThrow(TypeError);
  });

  it('rejects a negative or fractional length', () => {
    expect(() => keptTokenCount(-1, 0.5)).toThrow(new RangeError(invalidArgument('keptTokenCount', 'len', 'an integer ≥ 0', '-1')));
    expect(() => keptTokenCount(2.5, 0.5)).toThrow(RangeError);
  });
});

describe('fractionOfTokens', () => {
  it('may return 0, never the whole count', () => {
    expect(fractionOfTokens(5, 0.02)).toBe(0); // ⌊0.1⌋
    expect(fractionOfTokens(5, 0)).toBe(0);
  });

  it('floors with the same float slack', () => {
    expect(fractionOfTokens(10, 0.5)).toBe(5);
    expect(fractionOfTokens(100, 1 - 0.9)).toBe(10); // 100 · 0.09999999999999998
    expect(fractionOfTokens(7, 1)).toBe(7);
  });
});

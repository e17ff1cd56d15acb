import { createSeededRandom } from './prng';

describe('createSeededRandom', () => {
  it('repeats a sequence for a seed', () => {
    const a = createSeededRandom(42);
    const b = createSeededRandom(42);
    for (let i = 0; i < 100; i++) {
      expect(a()).toBe(b());
    }
  });

  it('differs between seeds', () => {
    const a = createSeededRandom(1);
    const b = createSeededRandom(2);
    const first = Array.from({ length: 10 }, a);
    const second = Array.from({ length: 10 }, b);
    expect(first).not.toEqual(second);
  });

  it('draws uniform numbers in [0, 1)', () => {
    const random = createSeededRandom(3);
    const n = 20000;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const u = random();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      sum += u;
    }
    // The mean of n uniforms has standard deviation √(1/12n) ≈ 0.002; 0.01 is 5 of those.
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
  });

  it('rejects seeds outside [0, 2^32 − 1]', () => {
    expect(() => createSeededRandom(-1)).toThrow(RangeError);
    expect(() => createSeededRandom(2 ** 32)).toThrow(RangeError);
    expect(() => createSeededRandom(1.5)).toThrow(RangeError);
  });
});

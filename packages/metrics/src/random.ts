/**
 * Seeded pseudo-random generator: Mulberry32, a 32-bit generator with a period of 2^32.
 * It drives resampling and negative sampling, so that a seed reproduces a result exactly on
 * every platform, which `Math.random` cannot do. Its 2^32 states are plenty for drawing
 * thousands of indices, not for cryptography.
 */
export class SeededRandom {
  private state: number;

  /** @param seed unsigned 32-bit integer. The same seed yields the same sequence. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Returns the next unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /**
   * Returns an integer in [0, n) for 1 ≤ n ≤ 2^32, without modulo bias: draws that fall
   * in the incomplete last block of 2^32 are rejected and drawn again.
   */
  nextInt(n: number): number {
    const limit = 0x100000000 - (0x100000000 % n); // largest multiple of n that fits
    let draw = this.nextUint32();
    while (draw >= limit) {
      draw = this.nextUint32();
    }
    return draw % n;
  }

  /**
   * Fills `out` with integers in [0, n), the same values as `out.length` calls of
   * `nextInt(n)`. Keeping the state in a local variable makes this about twice as fast as
   * the calls, which matters for bootstrap resampling (millions of draws).
   */
  fillInts(out: Uint32Array, n: number): void {
    const limit = 0x100000000 - (0x100000000 % n);
    let state = this.state;
    for (let i = 0; i < out.length; i += 1) {
      let draw: number;
      do {
        state = (state + 0x6d2b79f5) >>> 0;
        let z = state;
        z = Math.imul(z ^ (z >>> 15), z | 1);
        z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
        draw = (z ^ (z >>> 14)) >>> 0;
      } while (draw >= limit);
      out[i] = draw % n;
    }
    this.state = state;
  }
}

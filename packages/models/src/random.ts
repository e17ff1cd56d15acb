/**
 * Seeded pseudo-random numbers for initialisation, dropout masks, negative sampling and
 * shuffling, so that one seed gives the same run on every backend.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from the
 * PractRand suite), seeded through splitmix32 so that nearby seeds give unrelated streams.
 * It is not cryptographic.
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  /**
   * @param seed - any finite number; its integer part and its fraction are both used.
   */
  constructor(seed: number) {
    // Seed the four words of state with splitmix32.
    let state = (Math.floor(seed) ^ Math.floor((seed % 1) * 0x100000000)) >>> 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();

    // Discard the first outputs so that the state is well mixed before use.
    for (let i = 0; i < 12; i++) {
      this.nextUint32();
    }
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform number in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal number (Marsaglia's polar method). */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * factor;
    return u * factor;
  }

  /** Normal number with the given standard deviation, redrawn until it lies within two of them. */
  truncatedNormal(std: number): number {
    let x = 0;
    do {
      x = this.normal();
    } while (x < -2 || x > 2);
    return x * std;
  }

  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [index: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const swap = array[i];
      array[i] = array[j];
      array[j] = swap;
    }
    return array;
  }
}

/**
 * Derives an independent seed from a base seed and a list of integers (for example the epoch
 * and the batch index), so that each step's randomness does not depend on what ran before it.
 */
export function deriveSeed(base: number, ...parts: number[]): number {
  let h = Math.floor(base) >>> 0;
  for (const part of parts) {
    h = Math.imul(h ^ (Math.floor(part) >>> 0), 0x9e3779b1) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    h = Math.imul(h, 0x85ebca77) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}

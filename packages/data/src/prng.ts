/**
 * mulberry32: a 32-bit seeded generator of uniform numbers in [0, 1).
 *
 * One 32-bit state advanced by a Weyl sequence and scrambled by a MurmurHash3-style mix.
 * The period is 2^32 and not every 32-bit output occurs, which is fine for generating test
 * data; it is not suitable for cryptography.
 *
 * @see Tommy Ettinger, mulberry32 (2017), public domain (CC0),
 *   https://gist.github.com/tommyettinger/46a874533244883189143505d203312c
 * @param seed - Any integer; only its low 32 bits are used.
 * @example
 * ```ts
 * const random = mulberry32(7);
 * const u = random(); // the same value on every run
 * ```
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes integers into one 32-bit seed with the MurmurHash3 finalizer, so that derived streams
 * (one per user, one for the catalogue) are decorrelated from each other and from `seed + 1`.
 */
export function mixSeed(...parts: number[]): number {
  let hash = 0x9e3779b9;
  for (const part of parts) {
    hash = Math.imul(hash ^ (part >>> 0), 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash ^= hash >>> 16;
  }
  return hash >>> 0;
}

/** Fisher–Yates shuffle in place, driven by `random`. */
export function shuffleInPlace(values: Int32Array, random: () => number): Int32Array {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = values[i];
    values[i] = values[j];
    values[j] = swap;
  }
  return values;
}

/**
 * Index drawn with probability proportional to its weight, given the running sums of the
 * weights (`cumulative[i]` = w0 + … + wi). Binary search: O(log n).
 */
export function sampleCumulative(cumulative: Float64Array, random: () => number): number {
  const target = random() * cumulative[cumulative.length - 1];
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (cumulative[middle] > target) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}

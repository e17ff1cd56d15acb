/**
 * Picks `size` distinct indices of `0..count-1` with a seeded PRNG (mulberry32, partial
 * Fisher-Yates), returned in ascending order; all indices when `size` is null or ≥ count.
 */
export function seededSample(count: number, size: number | null, seed: number): Int32Array {
  if (size === null || size >= count) {
    return Int32Array.from({ length: count }, (_, i) => i);
  }
  const pool = Int32Array.from({ length: count }, (_, i) => i);
  const random = mulberry32(seed);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (count - i));
    const swap = pool[i];
    pool[i] = pool[j];
    pool[j] = swap;
  }
  return pool.subarray(0, size).sort();
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
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

import { checkInteger } from './validation';

/**
 * Creates a seeded pseudo-random generator of uniform numbers in [0, 1) (mulberry32, a
 * 32-bit generator by Tommy Ettinger). The same seed always gives the same sequence on every
 * platform, which is what deterministic strategies and fixtures need; it is not suitable for
 * cryptography.
 *
 * @param seed - an integer in [0, 2^32 − 1].
 * @throws RangeError when the seed is not an integer in that range.
 * @example
 * const random = createSeededRandom(42);
 * const u = random(); // in [0, 1)
 */
export function createSeededRandom(seed: number): () => number {
  let state = checkInteger('createSeededRandom', 'seed', seed, 0, 0xffffffff) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

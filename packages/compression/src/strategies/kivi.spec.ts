import { appendRandomTokens, maxAbsDifference } from '../__fixtures__/helpers';
import { cacheBytes } from '../kv-cache';
import { ConcatStorage } from '../storage/concat-storage';
import { Float32Storage } from '../storage/float32-storage';
import { createRandomCache } from '../testing/random-cache';
import { KiviStrategy } from './kivi';

describe('KiviStrategy', () => {
  const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 100, dKey: 64, dValue: 64, seed: 1 });

  it('quantises keys per channel and values per token, with a float32 residual', () => {
    const head = new KiviStrategy({ bits: 2, groupSize: 32, residual: 32 }).compress(cache).layers[0].heads[0];
    const keys = head.keys as ConcatStorage;
    const values = head.values as ConcatStorage;
    // Keys: ⌊(100 − 32) / 32⌋ · 32 = 64 rows in complete groups of 32 tokens; 36 stay float32.
    expect(keys.parts.map((part) => [part.kind, part.rows])).toEqual([['int2-per-channel-g32', 64], ['float32', 36]]);
    // Values: 100 − 32 = 68 rows per token; 32 stay float32.
    expect(values.parts.map((part) => [part.kind, part.rows])).toEqual([['int2-per-token-g32', 68], ['float32', 32]]);
  });

  it('counts bytes by hand', () => {
    // Keys: codes 64 · 64 · 2 / 8 = 1,024 B; (64 / 32) · 64 = 128 groups · 4 B = 512 B; 36 · 64 · 4 = 9,216 B.
    // Values: codes 68 · 64 · 2 / 8 = 1,088 B; 68 · 2 = 136 groups · 4 B = 544 B; 32 · 64 · 4 = 8,192 B.
    const compressed = new KiviStrategy({ bits: 2, groupSize: 32, residual: 32 }).compress(cache);
    expect(cacheBytes(compressed)).toBe(1024 + 512 + 9216 + (1088 + 544 + 8192));
  });

  it('keeps the residual rows exact', () => {
    const head = new KiviStrategy().compress(cache).layers[0].heads[0];
    const original = cache.layers[0].heads[0];
    expect(Array.from(head.keys.decode().subarray(64 * 64))).toEqual(Array.from(original.keys.decode().subarray(64 * 64)));
    expect(Array.from(head.values.decode().subarray(68 * 64))).toEqual(Array.from(original.values.decode().subarray(68 * 64)));
    // Quantised rows are close: numbers lie in (−1.5, 1.5), so a 2-bit scale is at most 3 / 3 = 1.
    expect(maxAbsDifference(head.keys.decode(), original.keys.decode())).toBeLessThanOrEqual(0.5 + 1.5 * 2 ** -11);
  });

  it('leaves a history within the residual in float32', () => {
    const short = createRandomCache({ layers: 1, kvHeads: 1, len: 20, dKey: 8, dValue: 8, seed: 2 });
    const compressed = new KiviStrategy({ residual: 32 }).compress(short);
    expect(compressed.layers[0].heads[0].keys).toBe(short.layers[0].heads[0].keys);
    expect(cacheBytes(compressed)).toBe(cacheBytes(short));
  });

  it('quantises appended rows once a group fills', () => {
    const strategy = new KiviStrategy({ bits: 2, groupSize: 32, residual: 32 });
    const first = strategy.compress(cache);
    // 40 appended rows: keys hold 36 + 40 = 76 float32 rows, ⌊(76 − 32) / 32⌋ · 32 = 32 quantised;
    // values hold 32 + 40 = 72, of which 40 are quantised.
    const second = strategy.compress(appendRandomTokens(first, 40, 3));
    const keys = second.layers[0].heads[0].keys as ConcatStorage;
    const values = second.layers[0].heads[0].values as ConcatStorage;
    expect(keys.parts.map((part) => part.rows)).toEqual([64, 32, 44]);
    expect(values.parts.map((part) => part.rows)).toEqual([68, 40, 32]);
    expect(keys.parts[2]).toBeInstanceOf(Float32Storage);
    expect(keys.parts[0]).toBe((first.layers[0].heads[0].keys as ConcatStorage).parts[0]);
  });

  it('records its settings', () => {
    expect(new KiviStrategy().params).toEqual({ bits: 2, groupSize: 32, residual: 32 });
    expect(() => new KiviStrategy({ residual: -1 })).toThrow(RangeError);
  });
});

import { appendRandomTokens, maxAbsDifference, snapshotCache } from '../__fixtures__/helpers';
import { cacheBytes, headPositions } from '../kv-cache';
import { ConcatStorage } from '../storage/concat-storage';
import { float16BitsToNumber } from '../storage/float16';
import { QuantizedStorage, quantizedStorageBytes } from '../storage/quantized-storage';
import { createRandomCache } from '../testing/random-cache';
import { UniformQuantizationStrategy } from './uniform-quantization';

describe('UniformQuantizationStrategy', () => {
  it('charges int2 codes with float16 scales and zero points', () => {
    // 200 tokens, width 64, 2 layers, 1 head: float32 K + V = 2 · 2 · 200 · 64 · 4 = 204,800 B.
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 200, dKey: 64, dValue: 64, seed: 1 });
    expect(cacheBytes(cache)).toBe(204800);
    // Codes 51,200 numbers · 2 bits / 8 = 12,800 B; 1,600 groups of 32 · (2 + 2) B = 6,400 B.
    const compressed = new UniformQuantizationStrategy({ bits: 2, groupSize: 32 }).compress(cache);
    expect(cacheBytes(compressed)).toBe(12800 + 6400);
    expect(204800 / cacheBytes(compressed)).toBeCloseTo(10.67, 2);
  });

  it.each([8, 4, 2] as const)('decodes int%i within half a scale', (bits) => {
    const cache = createRandomCache({ layers: 1, kvHeads: 2, len: 30, dKey: 16, dValue: 8, seed: bits });
    const compressed = new UniformQuantizationStrategy({ bits, groupSize: 8, axis: 'per-channel' }).compress(cache);
    compressed.layers[0].heads.forEach((head, h) => {
      const storage = head.keys as QuantizedStorage;
      expect(storage).toBeInstanceOf(QuantizedStorage);
      const largestScale = Math.max(...Array.from(storage.scales, float16BitsToNumber));
      const original = cache.layers[0].heads[h].keys.decode();
      // Keys lie in (−1.5, 1.5): zero-point rounding adds at most 1.5 · 2^-11.
      expect(maxAbsDifference(head.keys.decode(), original)).toBeLessThanOrEqual(largestScale / 2 + 1.5 * 2 ** -11);
    });
  });

  it('keeps positions and timestamps', () => {
    const cache = createRandomCache({ layers: 1, kvHeads: 1, len: 12, dKey: 4, dValue: 4, seed: 2, withTimestamps: true });
    const head = new UniformQuantizationStrategy({ bits: 8 }).compress(cache).layers[0].heads[0];
    expect(Array.from(headPositions(head))).toEqual(Array.from(headPositions(cache.layers[0].heads[0])));
    expect(head.timestamps).toBe(cache.layers[0].heads[0].timestamps);
  });

  it('quantises only rows appended since the last call', () => {
    const strategy = new UniformQuantizationStrategy({ bits: 4, groupSize: 4 });
    const once = strategy.compress(createRandomCache({ layers: 1, kvHeads: 1, len: 10, dKey: 4, dValue: 4, seed: 3 }));
    expect(strategy.compress(once).layers[0].heads[0].keys).toBe(once.layers[0].heads[0].keys);
    const grown = strategy.compress(appendRandomTokens(once, 3, 4));
    const keys = grown.layers[0].heads[0].keys as ConcatStorage;
    expect(keys.parts.map((part) => part.kind)).toEqual(['int4-per-token-g4', 'int4-per-token-g4']);
    expect(keys.parts[0]).toBe(once.layers[0].heads[0].keys);
    // 10 + 3 rows of 4 channels: 2 · (13 · 4 · 4 / 8) B of codes + 2 · 13 groups · 4 B.
    expect(cacheBytes(grown)).toBe(quantizedStorageBytes(10, 4, strategy.quantization) * 2 + quantizedStorageBytes(3, 4, strategy.quantization) * 2);
  });

  it('does not mutate its input', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 9, dKey: 4, dValue: 4, seed: 5 });
    const before = snapshotCache(cache);
    new UniformQuantizationStrategy({ bits: 2 }).compress(cache);
    expect(snapshotCache(cache)).toEqual(before);
  });

  it('takes its id from the bit width', () => {
    expect(new UniformQuantizationStrategy({ bits: 8 }).id).toBe('int8');
    expect(new UniformQuantizationStrategy({ bits: 2 }).params).toEqual({ bits: 2, groupSize: 32, axis: 'per-token' });
    expect(() => new UniformQuantizationStrategy({ bits: 5 as 4 })).toThrow(RangeError);
  });
});

describe('UniformQuantizationStrategy with kernels', () => {
  it('stores the same bytes and codes within one of the TypeScript path', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 50, dKey: 16, dValue: 16, seed: 61 });
    const kernelStrategy = new UniformQuantizationStrategy({ bits: 4, groupSize: 8, useKernels: true });
    const withKernels = kernelStrategy.compress(cache);
    const plain = new UniformQuantizationStrategy({ bits: 4, groupSize: 8 }).compress(cache);
    expect(kernelStrategy.params).toEqual({ bits: 4, groupSize: 8, axis: 'per-token', useKernels: true });
    expect(cacheBytes(withKernels)).toBe(cacheBytes(plain));
    withKernels.layers.forEach((layer, l) => {
      const decoded = layer.heads[0].keys.decode();
      const expected = plain.layers[l].heads[0].keys.decode();
      const storage = layer.heads[0].keys as QuantizedStorage;
      expect(Array.from(storage.scales)).toEqual(Array.from((plain.layers[l].heads[0].keys as QuantizedStorage).scales));
      for (let i = 0; i < decoded.length; i++) {
        // Codes within one: decoded numbers within one scale (scales ≤ 2 / 15 here) of each other.
        expect(Math.abs(decoded[i] - expected[i])).toBeLessThanOrEqual(float16BitsToNumber(storage.scales[Math.floor(i / 8)]) * 1.0001);
      }
    });
  });
});

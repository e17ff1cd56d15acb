import { maxAbsDifference } from '../__fixtures__/helpers';
import { invalidArgument } from '../messages';
import { createSeededRandom } from '../prng';
import { float16BitsToNumber } from './float16';
import { QuantizedStorage, quantizationGroupCount, quantizedStorageBytes, type QuantizationOptions } from './quantized-storage';
import { storageBytes } from './tensor-storage';

function randomBlock(rows: number, cols: number, seed: number): Float32Array {
  const random = createSeededRandom(seed);
  return Float32Array.from({ length: rows * cols }, () => 6 * random() - 3); // [rows, cols]
}

describe('QuantizedStorage', () => {
  it('quantises a hand-computed 2-bit group', () => {
    // One token of 4 channels, one group: min 0, max 3, scale (3 − 0) / (2^2 − 1) = 1.
    const storage = QuantizedStorage.encode(new Float32Array([0, 1.2, 2.6, 3]), 1, 4, { bits: 2, groupSize: 4, axis: 'per-token' });
    expect(float16BitsToNumber(storage.zeros[0])).toBe(0);
    expect(float16BitsToNumber(storage.scales[0])).toBe(1);
    // Codes round((x − 0) / 1) = 0, 1, 3, 3, packed from the lowest bits: 0 | 1 << 2 | 3 << 4 | 3 << 6.
    expect(storage.codes[0]).toBe(0 + 4 + 48 + 192);
    expect(Array.from(storage.decode())).toEqual([0, 1, 3, 3]);
  });

  it('groups tokens of one channel per channel', () => {
    // 4 tokens × 2 channels, groups of 2 tokens: group index = ⌊row / 2⌋ · 2 + col.
    // Channel 0 contains 0, 10 | 20, 30 and channel 1 contains 1, 1 | 1, 1 (constant, scale 0).
    const data = new Float32Array([0, 1, 10, 1, 20, 1, 30, 1]);
    const storage = QuantizedStorage.encode(data, 4, 2, { bits: 8, groupSize: 2, axis: 'per-channel' });
    expect(quantizationGroupCount(4, 2, storage.options)).toBe(4);
    expect(Array.from(storage.zeros, float16BitsToNumber)).toEqual([0, 1, 20, 1]);
    expect(float16BitsToNumber(storage.scales[1])).toBe(0);
    const decoded = storage.decode();
    expect(decoded[1]).toBe(1);
    expect(decoded[7]).toBe(1);
    expect(decoded[0]).toBe(0);
    // Group 2 spans [20, 30]: scale ≥ 10 / 255, error ≤ half a scale.
    expect(Math.abs(decoded[6] - 30)).toBeLessThanOrEqual(float16BitsToNumber(storage.scales[2]) / 2);
  });

  it.each([
    [8, 'per-token'],
    [4, 'per-token'],
    [2, 'per-token'],
    [8, 'per-channel'],
    [4, 'per-channel'],
    [2, 'per-channel'],
  ] as const)('bounds the error of int%i %s by half a scale', (bits, axis) => {
    const options: QuantizationOptions = { bits, groupSize: 8, axis };
    const data = randomBlock(37, 20, bits); // partial groups on both axes
    const storage = QuantizedStorage.encode(data, 37, 20, options);
    const decoded = storage.decode();
    let largestScale = 0;
    for (let g = 0; g < storage.scales.length; g++) {
      largestScale = Math.max(largestScale, float16BitsToNumber(storage.scales[g]));
    }
    // Half a scale, plus the float16 rounding of a zero point of magnitude ≤ 3 (3 · 2^-11).
    expect(maxAbsDifference(decoded, data)).toBeLessThanOrEqual(largestScale / 2 + 3 * 2 ** -11);
    // The range 6 spread over 2^bits − 1 levels bounds the scale.
    expect(largestScale).toBeLessThanOrEqual((6 / (2 ** bits - 1)) * (1 + 2 ** -10));
  });

  it('counts bytes as the analytical formula', () => {
    for (const bits of [2, 4, 8] as const) {
      for (const axis of ['per-token', 'per-channel'] as const) {
        for (const [rows, cols, groupSize] of [[200, 64, 32], [37, 20, 8], [1, 1, 32], [5, 3, 1], [0, 4, 32], [33, 50, 32]]) {
          const options = { bits, groupSize, axis };
          const storage = QuantizedStorage.encode(randomBlock(rows, cols, rows + cols), rows, cols, options);
          expect(storageBytes(storage)).toBe(quantizedStorageBytes(rows, cols, options));
        }
      }
    }
  });

  it('charges 2-bit groups of 32 as CASES arithmetic', () => {
    // 200 tokens × 64 channels: 12,800 numbers · 2 bits / 8 = 3,200 B of codes;
    // 200 tokens · (64 / 32) groups = 400 groups · (2 B scale + 2 B zero) = 1,600 B.
    expect(quantizedStorageBytes(200, 64, { bits: 2, groupSize: 32, axis: 'per-token' })).toBe(3200 + 1600);
    // Per channel, 200 tokens make ⌈200 / 32⌉ = 7 groups per channel (the last contains 8 tokens).
    expect(quantizedStorageBytes(200, 64, { bits: 2, groupSize: 32, axis: 'per-channel' })).toBe(3200 + 4 * 7 * 64);
  });

  it('names its encoding in kind', () => {
    const storage = QuantizedStorage.encode(randomBlock(4, 4, 1), 4, 4, { bits: 4, groupSize: 32, axis: 'per-token' });
    expect(storage.kind).toBe('int4-per-token-g32');
  });

  it('rejects numbers that float16 cannot scale', () => {
    // A minimum of −1e5 has no float16 zero point. A range of 1e8 over 255 levels needs a
    // scale of about 3.9e5, which is above the float16 maximum 65504.
    expect(() => QuantizedStorage.encode(new Float32Array([-1e5, 0]), 1, 2, { bits: 8, groupSize: 2, axis: 'per-token' })).toThrow(RangeError);
    expect(() => QuantizedStorage.encode(new Float32Array([0, 1e8]), 1, 2, { bits: 8, groupSize: 2, axis: 'per-token' })).toThrow(RangeError);
    // A range of 1e6 needs a scale of about 3,922, which fits.
    expect(() => QuantizedStorage.encode(new Float32Array([0, 1e6]), 1, 2, { bits: 8, groupSize: 2, axis: 'per-token' })).not.toThrow();
    expect(() => QuantizedStorage.encode(new Float32Array([0, Number.NaN]), 1, 2, { bits: 8, groupSize: 2, axis: 'per-token' })).toThrow(
      new RangeError(invalidArgument('QuantizedStorage.encode', 'data', 'finite numbers', 'NaN at index 1')),
    );
  });

  it('rejects invalid options', () => {
    const data = new Float32Array(4);
    expect(() => QuantizedStorage.encode(data, 2, 2, { bits: 3 as 2, groupSize: 2, axis: 'per-token' })).toThrow(RangeError);
    expect(() => QuantizedStorage.encode(data, 2, 2, { bits: 2, groupSize: 0, axis: 'per-token' })).toThrow(RangeError);
    expect(() => QuantizedStorage.encode(data, 2, 2, { bits: 2, groupSize: 2, axis: 'rows' as 'per-token' })).toThrow(RangeError);
    expect(() => new QuantizedStorage(new Uint8Array(2), new Uint16Array(1), new Uint16Array(1), 2, 2, { bits: 2, groupSize: 2, axis: 'per-token' })).toThrow(RangeError);
  });
});

import { createSeededRandom } from '../prng';
import { QuantizedStorage, type QuantizationOptions } from '../storage/quantized-storage';
import { GpuKernels } from './gpu-kernels';
import { accumulateScoresReference, dequantizeReference, groupParameters, groupRangesReference, packCodes, quantizeCodesReference } from './reference';

/** Seeded numbers in (−scale, scale), `[length]`. */
function randomData(length: number, seed: number, scale = 2): Float32Array {
  const random = createSeededRandom(seed);
  return Float32Array.from({ length }, () => (random() * 2 - 1) * scale);
}

/** Unpacks the codes of a quantised storage, one byte each. */
function unpack(storage: QuantizedStorage): Uint8Array {
  const bits = storage.options.bits;
  const mask = 2 ** bits - 1;
  return Uint8Array.from({ length: storage.rows * storage.cols }, (_, i) => (storage.codes[(i * bits) >>> 3] >>> ((i * bits) & 7)) & mask);
}

const layouts: readonly QuantizationOptions[] = [
  { bits: 8, groupSize: 32, axis: 'per-token' },
  { bits: 4, groupSize: 5, axis: 'per-token' },
  { bits: 2, groupSize: 7, axis: 'per-channel' },
];

describe('GpuKernels', () => {
  const kernels = new GpuKernels();
  afterAll(() => kernels.destroy());

  it('reports the backend it runs on', () => {
    expect(kernels.mode.length).toBeGreaterThan(0);
  });

  describe.each(layouts.map((layout) => [`${layout.bits} bits, groups of ${layout.groupSize} ${layout.axis}`, layout] as const))('with %s', (_name, options) => {
    const rows = 37;
    const cols = 24;
    const data = randomData(rows * cols, options.bits + options.groupSize);
    const reference = groupParameters(groupRangesReference(data, rows, cols, options), options.bits);

    it('finds the same group ranges as the reference', () => {
      // Minimum and maximum select a number, so float32 arithmetic gives them exactly.
      const expected = groupRangesReference(data, rows, cols, options);
      const ranges = kernels.groupRanges(data, rows, cols, options);
      expect(Array.from(ranges.minimum)).toEqual(Array.from(expected.minimum));
      expect(Array.from(ranges.maximum)).toEqual(Array.from(expected.maximum));
    });

    it('computes codes within one of the reference', () => {
      const expected = quantizeCodesReference(data, cols, options, reference);
      const codes = kernels.quantizeCodes(data, cols, options, reference);
      let differing = 0;
      for (let i = 0; i < codes.length; i++) {
        expect(Math.abs(codes[i] - expected[i])).toBeLessThanOrEqual(1);
        differing += codes[i] === expected[i] ? 0 : 1;
      }
      // A difference needs a quotient within float32 rounding of a half-integer: rare.
      expect(differing).toBeLessThanOrEqual(codes.length / 100);
    });

    it('dequantises like the reference', () => {
      const codes = quantizeCodesReference(data, cols, options, reference);
      const expected = dequantizeReference(codes, cols, options, reference);
      const values = kernels.dequantize(codes, cols, options, reference);
      for (let i = 0; i < values.length; i++) {
        // One float32 rounding of a product and a sum of magnitude < 4: at most 2 · 2^-22.
        expect(Math.abs(values[i] - expected[i])).toBeLessThanOrEqual(2 ** -21);
      }
    });

    it('encodes a storage that matches QuantizedStorage.encode within one code', () => {
      const storage = kernels.encode(data, rows, cols, options);
      const expected = QuantizedStorage.encode(data, rows, cols, options);
      expect(Array.from(storage.scales)).toEqual(Array.from(expected.scales));
      expect(Array.from(storage.zeros)).toEqual(Array.from(expected.zeros));
      const codes = unpack(storage);
      const expectedCodes = unpack(expected);
      for (let i = 0; i < codes.length; i++) {
        expect(Math.abs(codes[i] - expectedCodes[i])).toBeLessThanOrEqual(1);
      }
    });
  });

  it('sums attention along queries like the reference', () => {
    const queries = 16;
    const len = 200;
    const block = randomData(queries * len, 3, 1).map(Math.abs); // [queries, len]
    const expected = accumulateScoresReference(block, queries, len);
    const sums = kernels.accumulateScores(block, queries, len);
    for (let j = 0; j < len; j++) {
      // 16 float32 additions of numbers < 1: relative error below 16 · 2^-24.
      expect(Math.abs(sums[j] - expected[j])).toBeLessThanOrEqual(16 * 2 ** -24 * Math.max(1, expected[j]));
    }
  });

  it('sums a hand-computed block', () => {
    // [[1, 2, 3], [4, 5, 6]] summed over its 2 queries: [1 + 4, 2 + 5, 3 + 6] = [5, 7, 9].
    const block = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(kernels.accumulateScores(block, 2, 3))).toEqual([5, 7, 9]);
    expect(Array.from(accumulateScoresReference(block, 2, 3))).toEqual([5, 7, 9]);
  });

  it('packs codes as QuantizedStorage does', () => {
    // 2-bit codes [1, 2, 3, 0, 1]: byte 0 = 1 + 2 · 4 + 3 · 16 + 0 · 64 = 57, byte 1 = 1.
    expect(Array.from(packCodes(Uint8Array.of(1, 2, 3, 0, 1), 2))).toEqual([57, 1]);
  });

  it('rejects a block of the wrong length', () => {
    expect(() => kernels.accumulateScores(new Float32Array(5), 2, 3)).toThrow(RangeError);
    expect(() => kernels.encode(Float32Array.of(1, Number.NaN), 1, 2, layouts[0])).toThrow(RangeError);
  });
});

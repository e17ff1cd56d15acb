import { invalidShape } from '../messages';
import { float16BitsToNumber, float32ToFloat16Bits } from '../storage/float16';
import { quantizationGroupCount, type QuantizationBits, type QuantizationOptions } from '../storage/quantized-storage';

// Plain TypeScript references of the gpu.js kernels in `gpu-kernels.ts`. They compute in
// float64 and are the path that every strategy uses unless a kernel option is set.

/** Minimum and maximum of every quantisation group. */
export interface GroupRanges {
  /** `[groups]` smallest number of each group. */
  readonly minimum: Float32Array;
  /** `[groups]` largest number of each group. */
  readonly maximum: Float32Array;
}

/** Zero point and scale of every group, as float16 bit patterns and as numbers. */
export interface GroupParameters {
  /** `[groups]` float16 bit patterns of the zero points. */
  readonly zeros: Uint16Array;
  /** `[groups]` float16 bit patterns of the scales. */
  readonly scales: Uint16Array;
  /** `[groups]` zero points as numbers. */
  readonly zeroValues: Float32Array;
  /** `[groups]` scales as numbers. */
  readonly scaleValues: Float32Array;
}

/** Returns the group of the number at a row-major flat index, as `QuantizedStorage` lays groups out. */
export function groupOfIndex(index: number, cols: number, options: QuantizationOptions): number {
  if (options.axis === 'per-token') {
    return Math.floor(index / cols) * Math.ceil(cols / options.groupSize) + Math.floor((index % cols) / options.groupSize);
  }
  return Math.floor(Math.floor(index / cols) / options.groupSize) * cols + (index % cols);
}

/**
 * Computes the minimum and maximum of every quantisation group of a block.
 *
 * @param data - `[rows, cols]` row-major.
 * @throws RangeError when `data` does not hold `rows · cols` numbers.
 */
export function groupRangesReference(data: Float32Array, rows: number, cols: number, options: QuantizationOptions): GroupRanges {
  if (data.length !== rows * cols) {
    throw new RangeError(invalidShape('groupRangesReference', 'data', [rows, cols], data.length));
  }
  const groups = quantizationGroupCount(rows, cols, options);
  const minimum = new Float32Array(groups).fill(Infinity); // [groups]
  const maximum = new Float32Array(groups).fill(-Infinity); // [groups]
  for (let i = 0; i < data.length; i++) {
    const g = groupOfIndex(i, cols, options);
    minimum[g] = Math.min(minimum[g], data[i]);
    maximum[g] = Math.max(maximum[g], data[i]);
  }
  return { minimum, maximum };
}

/**
 * Derives each group's float16 zero point (the minimum, rounded to nearest) and scale
 * (`(max − zero) / (2^bits − 1)`, rounded up), the rule of `QuantizedStorage.encode`.
 */
export function groupParameters(ranges: GroupRanges, bits: QuantizationBits): GroupParameters {
  const groups = ranges.minimum.length;
  const levels = 2 ** bits - 1;
  const zeros = new Uint16Array(groups); // [groups]
  const scales = new Uint16Array(groups); // [groups]
  const zeroValues = new Float32Array(groups); // [groups]
  const scaleValues = new Float32Array(groups); // [groups]
  for (let g = 0; g < groups; g++) {
    zeros[g] = float32ToFloat16Bits(ranges.minimum[g]);
    zeroValues[g] = float16BitsToNumber(zeros[g]);
    const scale = Math.max(0, (ranges.maximum[g] - zeroValues[g]) / levels);
    scales[g] = float32ToFloat16Bits(scale);
    if (float16BitsToNumber(scales[g]) < scale) {
      scales[g] += 1; // the next float16 up: bit patterns of positive values are ordered
    }
    scaleValues[g] = float16BitsToNumber(scales[g]);
  }
  return { zeros, scales, zeroValues, scaleValues };
}

/**
 * Computes the code of every number: `round((x − zero) / scale)` clamped to
 * `[0, 2^bits − 1]`, and 0 in a group of scale 0.
 *
 * @param data - `[rows, cols]` row-major.
 * @returns `[rows · cols]` codes, one byte each (not packed).
 */
export function quantizeCodesReference(data: Float32Array, cols: number, options: QuantizationOptions, parameters: GroupParameters): Uint8Array {
  const levels = 2 ** options.bits - 1;
  const codes = new Uint8Array(data.length); // [rows · cols]
  for (let i = 0; i < data.length; i++) {
    const g = groupOfIndex(i, cols, options);
    const scale = parameters.scaleValues[g];
    codes[i] = scale === 0 ? 0 : Math.min(levels, Math.max(0, Math.round((data[i] - parameters.zeroValues[g]) / scale)));
  }
  return codes;
}

/**
 * Decodes codes: `zero + code · scale` per number.
 *
 * @param codes - `[rows · cols]` codes, one byte each.
 * @returns `[rows, cols]` row-major.
 */
export function dequantizeReference(codes: Uint8Array, cols: number, options: QuantizationOptions, parameters: GroupParameters): Float32Array {
  const out = new Float32Array(codes.length); // [rows, cols]
  for (let i = 0; i < codes.length; i++) {
    const g = groupOfIndex(i, cols, options);
    out[i] = parameters.zeroValues[g] + codes[i] * parameters.scaleValues[g];
  }
  return out;
}

/**
 * Sums a block of attention weights along its queries: the attention each key received.
 *
 * @param block - `[queries, len]` row-major.
 * @returns `[len]`.
 * @throws RangeError when `block` does not hold `queries · len` numbers.
 */
export function accumulateScoresReference(block: Float32Array, queries: number, len: number): Float32Array {
  if (block.length !== queries * len) {
    throw new RangeError(invalidShape('accumulateScoresReference', 'block', [queries, len], block.length));
  }
  const sums = new Float64Array(len); // [len]
  for (let q = 0; q < queries; q++) {
    for (let j = 0; j < len; j++) {
      sums[j] += block[q * len + j];
    }
  }
  return Float32Array.from(sums);
}

/**
 * Packs one-byte codes little-end first, as `QuantizedStorage` stores them: code `i`
 * occupies bits `[i · bits, (i + 1) · bits)`.
 *
 * @returns `⌈codes.length · bits / 8⌉` bytes.
 */
export function packCodes(codes: Uint8Array, bits: QuantizationBits): Uint8Array {
  const packed = new Uint8Array(Math.ceil((codes.length * bits) / 8));
  for (let i = 0; i < codes.length; i++) {
    const bit = i * bits;
    packed[bit >>> 3] |= codes[i] << (bit & 7);
  }
  return packed;
}

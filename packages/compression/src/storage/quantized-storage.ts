import { invalidArgument, invalidShape } from '../messages';
import { checkInteger, checkOneOf } from '../validation';
import { FLOAT16_MAX, float16BitsToNumber, float32ToFloat16Bits } from './float16';
import type { TensorStorage } from './tensor-storage';

/**
 * Direction of a quantisation group in a `[len, dHead]` block. `per-token`: a group is
 * `groupSize` consecutive channels of one token (KIVI's value layout). `per-channel`: a group
 * is `groupSize` consecutive tokens of one channel (KIVI's key layout, which isolates
 * outlier channels).
 */
export type QuantizationAxis = 'per-token' | 'per-channel';

/** Accepted values of {@link QuantizationAxis}. */
export const QUANTIZATION_AXES: readonly QuantizationAxis[] = ['per-token', 'per-channel'];

/** Code widths that {@link QuantizedStorage} packs; each divides 8, so no code straddles a byte. */
export type QuantizationBits = 2 | 4 | 8;

/** Accepted values of {@link QuantizationBits}. */
export const QUANTIZATION_BITS: readonly QuantizationBits[] = [2, 4, 8];

/** Layout of uniform integer quantisation. */
export interface QuantizationOptions {
  /** Bits per code. */
  readonly bits: QuantizationBits;
  /** Numbers per group; a last, shorter group is charged like a full one. @minimum 1 */
  readonly groupSize: number;
  /** Direction of the groups. */
  readonly axis: QuantizationAxis;
}

/**
 * Validates quantisation options.
 *
 * @throws RangeError when `bits` is not 2, 4 or 8, `groupSize` is not an integer ≥ 1, or
 * `axis` is a string other than `per-token` and `per-channel`.
 * @throws TypeError when an option has the wrong type.
 */
export function checkQuantizationOptions(where: string, options: QuantizationOptions): QuantizationOptions {
  return {
    bits: checkOneOf(where, 'bits', options.bits, QUANTIZATION_BITS),
    groupSize: checkInteger(where, 'groupSize', options.groupSize, 1),
    axis: checkOneOf(where, 'axis', options.axis, QUANTIZATION_AXES),
  };
}

/**
 * Number of quantisation groups of a `[rows, cols]` block: `rows · ⌈cols / groupSize⌉`
 * per token, `⌈rows / groupSize⌉ · cols` per channel.
 */
export function quantizationGroupCount(rows: number, cols: number, options: QuantizationOptions): number {
  if (options.axis === 'per-token') {
    return rows * Math.ceil(cols / options.groupSize);
  }
  return Math.ceil(rows / options.groupSize) * cols;
}

/**
 * Bytes of a `[rows, cols]` quantised storage: the packed codes, `⌈rows · cols · bits / 8⌉`,
 * plus a float16 scale and a float16 zero point per group, `4 · groups`.
 *
 * @example
 * // 200 tokens × 64 channels, 2-bit codes, groups of 32 channels:
 * // 200 · 64 · 2 / 8 = 3,200 B of codes + 4 · (200 · 2) = 1,600 B of scales and zero points.
 * quantizedStorageBytes(200, 64, { bits: 2, groupSize: 32, axis: 'per-token' }); // 4800
 */
export function quantizedStorageBytes(rows: number, cols: number, options: QuantizationOptions): number {
  return Math.ceil((rows * cols * options.bits) / 8) + 4 * quantizationGroupCount(rows, cols, options);
}

/**
 * Uniform asymmetric integer storage: each number is a `bits`-wide code with a float16 scale
 * and a float16 zero point per group, decoded as `zero + code · scale`.
 *
 * Per group, the zero point is the group minimum rounded to float16 and the scale is
 * `(max − zero) / (2^bits − 1)` rounded up to float16, so the codes cover the group's range.
 * A code is `round((x − zero) / scale)` clamped to `[0, 2^bits − 1]`. The error of a
 * number is at most half a scale, plus the float16 rounding of the zero point (relative
 * 2^-11) for numbers at the group minimum. Codes are packed little-end first in row-major
 * order: number `i` occupies bits `[i · bits, (i + 1) · bits)` of the byte array.
 *
 * @param codes - packed codes, `⌈rows · cols · bits / 8⌉` bytes.
 * @param scales - `[groups]` float16 bit patterns.
 * @param zeros - `[groups]` float16 bit patterns.
 * @throws RangeError when a buffer length does not match the shape and options.
 * @example
 * const values = QuantizedStorage.encode(data, 200, 64, { bits: 2, groupSize: 32, axis: 'per-token' });
 * storageBytes(values); // 4800
 */
export class QuantizedStorage implements TensorStorage {
  readonly kind: string;
  readonly options: QuantizationOptions;

  constructor(
    readonly codes: Uint8Array,
    readonly scales: Uint16Array,
    readonly zeros: Uint16Array,
    readonly rows: number,
    readonly cols: number,
    options: QuantizationOptions,
  ) {
    this.options = checkQuantizationOptions('QuantizedStorage', options);
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols <= 0) {
      throw new RangeError(invalidArgument('QuantizedStorage', 'shape', 'integers rows ≥ 0 and cols ≥ 1', `[${rows}, ${cols}]`));
    }
    const groups = quantizationGroupCount(rows, cols, this.options);
    const codeBytes = Math.ceil((rows * cols * this.options.bits) / 8);
    if (codes.length !== codeBytes) {
      throw new RangeError(invalidShape('QuantizedStorage', 'codes', [codeBytes], codes.length));
    }
    if (scales.length !== groups) {
      throw new RangeError(invalidShape('QuantizedStorage', 'scales', [groups], scales.length));
    }
    if (zeros.length !== groups) {
      throw new RangeError(invalidShape('QuantizedStorage', 'zeros', [groups], zeros.length));
    }
    this.kind = `int${this.options.bits}-${this.options.axis}-g${this.options.groupSize}`;
  }

  /**
   * Quantises a float32 block.
   *
   * @param data - `[rows, cols]` row-major.
   * @throws RangeError when the shape does not match, a number is not finite, or a group's
   * minimum or scale does not fit in float16 (magnitude above 65504).
   */
  static encode(data: Float32Array, rows: number, cols: number, options: QuantizationOptions): QuantizedStorage {
    const where = 'QuantizedStorage.encode';
    const resolved = checkQuantizationOptions(where, options);
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols <= 0 || data.length !== rows * cols) {
      throw new RangeError(invalidShape(where, 'data', [rows, cols], data.length));
    }
    const groupOf = groupIndexer(cols, resolved);
    const groups = quantizationGroupCount(rows, cols, resolved);
    const levels = 2 ** resolved.bits - 1;

    // Minimum and maximum of every group.
    const minimum = new Float64Array(groups).fill(Infinity); // [groups]
    const maximum = new Float64Array(groups).fill(-Infinity); // [groups]
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      if (!Number.isFinite(x)) {
        throw new RangeError(invalidArgument(where, 'data', 'finite numbers', `${x} at index ${i}`));
      }
      const g = groupOf(i);
      minimum[g] = Math.min(minimum[g], x);
      maximum[g] = Math.max(maximum[g], x);
    }

    // Zero point (minimum, rounded) and scale (rounded up) per group, in float16.
    const zeros = new Uint16Array(groups); // [groups]
    const scales = new Uint16Array(groups); // [groups]
    const zeroValues = new Float64Array(groups); // [groups]
    const scaleValues = new Float64Array(groups); // [groups]
    for (let g = 0; g < groups; g++) {
      zeros[g] = float32ToFloat16Bits(minimum[g]);
      zeroValues[g] = float16BitsToNumber(zeros[g]);
      const scale = Math.max(0, (maximum[g] - zeroValues[g]) / levels);
      scales[g] = float32ToFloat16Bits(scale);
      if (float16BitsToNumber(scales[g]) < scale) {
        scales[g] += 1; // the next float16 up: bit patterns of positive values are ordered
      }
      scaleValues[g] = float16BitsToNumber(scales[g]);
      if (!Number.isFinite(zeroValues[g]) || !Number.isFinite(scaleValues[g])) {
        throw new RangeError(invalidArgument(where, 'data', `groups whose minimum and scale fit in float16 (magnitude ≤ ${FLOAT16_MAX})`, `minimum ${minimum[g]} and maximum ${maximum[g]} in group ${g}`));
      }
    }

    // Codes, packed.
    const codes = new Uint8Array(Math.ceil((data.length * resolved.bits) / 8));
    for (let i = 0; i < data.length; i++) {
      const g = groupOf(i);
      const scale = scaleValues[g];
      const code = scale === 0 ? 0 : Math.min(levels, Math.max(0, Math.round((data[i] - zeroValues[g]) / scale)));
      const bit = i * resolved.bits;
      codes[bit >>> 3] |= code << (bit & 7);
    }
    return new QuantizedStorage(codes, scales, zeros, rows, cols, resolved);
  }

  decode(): Float32Array {
    const groupOf = groupIndexer(this.cols, this.options);
    const mask = 2 ** this.options.bits - 1;
    const out = new Float32Array(this.rows * this.cols); // [rows, cols] row-major
    for (let i = 0; i < out.length; i++) {
      const g = groupOf(i);
      const bit = i * this.options.bits;
      const code = (this.codes[bit >>> 3] >>> (bit & 7)) & mask;
      out[i] = float16BitsToNumber(this.zeros[g]) + code * float16BitsToNumber(this.scales[g]);
    }
    return out;
  }

  buffers(): readonly ArrayBufferView[] {
    return [this.codes, this.scales, this.zeros];
  }
}

/** Returns the function from a row-major flat index to its group index. */
function groupIndexer(cols: number, options: QuantizationOptions): (index: number) => number {
  const groupSize = options.groupSize;
  if (options.axis === 'per-token') {
    const groupsPerRow = Math.ceil(cols / groupSize);
    return (index) => Math.floor(index / cols) * groupsPerRow + Math.floor((index % cols) / groupSize);
  }
  return (index) => Math.floor(Math.floor(index / cols) / groupSize) * cols + (index % cols);
}


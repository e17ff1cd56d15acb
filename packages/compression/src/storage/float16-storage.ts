import { invalidShape } from '../messages';
import { float16BitsToNumber, float32ToFloat16Bits } from './float16';
import type { TensorStorage } from './tensor-storage';

/**
 * Half-precision storage: 2 bytes per number, rounded to nearest with ties to even.
 *
 * Magnitudes of 65520 and above overflow to ±Infinity, as IEEE binary16 does; the keys and
 * values of a normalised attention layer are far below that.
 *
 * @param bits - `[rows, cols]` row-major float16 bit patterns. Kept by reference.
 * @throws RangeError when `bits.length !== rows * cols`.
 * @example
 * const keys = Float16Storage.fromFloat32(new Float32Array(200 * 50), 200, 50);
 * storageBytes(keys); // 20000
 */
export class Float16Storage implements TensorStorage {
  readonly kind = 'float16';

  constructor(
    readonly bits: Uint16Array,
    readonly rows: number,
    readonly cols: number,
  ) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols <= 0 || bits.length !== rows * cols) {
      throw new RangeError(invalidShape('Float16Storage', 'bits', [rows, cols], bits.length));
    }
  }

  /**
   * Encodes float32 numbers as float16.
   *
   * @param data - `[rows, cols]` row-major.
   * @throws RangeError when `data.length !== rows * cols`.
   */
  static fromFloat32(data: Float32Array, rows: number, cols: number): Float16Storage {
    if (data.length !== rows * cols) {
      throw new RangeError(invalidShape('Float16Storage.fromFloat32', 'data', [rows, cols], data.length));
    }
    const bits = new Uint16Array(data.length); // [rows, cols]
    for (let i = 0; i < data.length; i++) {
      bits[i] = float32ToFloat16Bits(data[i]);
    }
    return new Float16Storage(bits, rows, cols);
  }

  decode(): Float32Array {
    const out = new Float32Array(this.bits.length); // [rows, cols] row-major
    for (let i = 0; i < out.length; i++) {
      out[i] = float16BitsToNumber(this.bits[i]);
    }
    return out;
  }

  buffers(): readonly ArrayBufferView[] {
    return [this.bits];
  }
}

/** Bytes of a `[rows, cols]` float16 storage: `2 · rows · cols`. */
export function float16StorageBytes(rows: number, cols: number): number {
  return 2 * rows * cols;
}

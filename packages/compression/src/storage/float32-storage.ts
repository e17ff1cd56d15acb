import { invalidShape } from '../messages';
import type { TensorStorage } from './tensor-storage';

/**
 * Plain float32 storage: 4 bytes per number, exact.
 *
 * @param data - `[rows, cols]` row-major. Kept by reference, not copied.
 * @throws RangeError when `data.length !== rows * cols`.
 * @example
 * const keys = new Float32Storage(new Float32Array(200 * 50), 200, 50);
 */
export class Float32Storage implements TensorStorage {
  readonly kind = 'float32';

  constructor(
    readonly data: Float32Array,
    readonly rows: number,
    readonly cols: number,
  ) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols <= 0 || data.length !== rows * cols) {
      throw new RangeError(invalidShape('Float32Storage', 'data', [rows, cols], data.length));
    }
  }

  decode(): Float32Array {
    return this.data.slice();
  }

  buffers(): readonly ArrayBufferView[] {
    return [this.data];
  }
}

/** Bytes of a `[rows, cols]` float32 storage: `4 · rows · cols`. */
export function float32StorageBytes(rows: number, cols: number): number {
  return 4 * rows * cols;
}

import { invalidArgument, invalidShape } from '../messages';
import type { TensorStorage } from './tensor-storage';

/**
 * Low-rank storage: a `[rows, cols]` block kept as two float32 factors, `A` `[rows, rank]`
 * and `B` `[rank, cols]`, and decoded as the product `A · B`.
 *
 * It takes `4 · rank · (rows + cols)` bytes, fewer than float32's `4 · rows · cols` only
 * when `rank < rows · cols / (rows + cols)`.
 *
 * @param left - factor `A`, `[rows, rank]` row-major. Kept by reference, not copied.
 * @param right - factor `B`, `[rank, cols]` row-major. Kept by reference, not copied.
 * @throws RangeError when the shape is invalid or a factor's length does not match it.
 * @example
 * const keys = new LowRankStorage(left, right, 200, 64, 16); // 4 · 16 · (200 + 64) = 16,896 B
 */
export class LowRankStorage implements TensorStorage {
  readonly kind: string;

  constructor(
    readonly left: Float32Array,
    readonly right: Float32Array,
    readonly rows: number,
    readonly cols: number,
    readonly rank: number,
  ) {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || !Number.isInteger(rank) || rows < 0 || cols <= 0 || rank < 1) {
      throw new RangeError(invalidArgument('LowRankStorage', 'shape', 'integers rows ≥ 0, cols ≥ 1 and rank ≥ 1', `rows ${rows}, cols ${cols}, rank ${rank}`));
    }
    if (left.length !== rows * rank) {
      throw new RangeError(invalidShape('LowRankStorage', 'left', [rows, rank], left.length));
    }
    if (right.length !== rank * cols) {
      throw new RangeError(invalidShape('LowRankStorage', 'right', [rank, cols], right.length));
    }
    this.kind = `low-rank-${rank}`;
  }

  /** Decodes `A · B`, accumulating each product in float64. */
  decode(): Float32Array {
    const out = new Float32Array(this.rows * this.cols); // [rows, cols] row-major
    for (let i = 0; i < this.rows; i++) {
      for (let j = 0; j < this.cols; j++) {
        let sum = 0;
        for (let k = 0; k < this.rank; k++) {
          sum += this.left[i * this.rank + k] * this.right[k * this.cols + j];
        }
        out[i * this.cols + j] = sum;
      }
    }
    return out;
  }

  buffers(): readonly ArrayBufferView[] {
    return [this.left, this.right];
  }
}

/** Bytes of a `[rows, cols]` low-rank storage of rank `rank`: `4 · rank · (rows + cols)`. */
export function lowRankStorageBytes(rows: number, cols: number, rank: number): number {
  return 4 * rank * (rows + cols);
}

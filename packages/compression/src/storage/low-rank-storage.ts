import { multiplyFactors, validateFactors } from './factor-product';
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
    validateFactors('LowRankStorage', ['left', 'right'], left, right, rows, cols, rank);
    this.kind = `low-rank-${rank}`;
  }

  /** Decodes `A · B`, accumulating each product in float64. */
  decode(): Float32Array {
    return multiplyFactors(this.left, this.right, this.rows, this.cols, this.rank);
  }

  buffers(): readonly ArrayBufferView[] {
    return [this.left, this.right];
  }
}

/** Bytes of a `[rows, cols]` low-rank storage of rank `rank`: `4 · rank · (rows + cols)`. */
export function lowRankStorageBytes(rows: number, cols: number, rank: number): number {
  return 4 * rank * (rows + cols);
}

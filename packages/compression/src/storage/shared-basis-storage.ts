import { multiplyFactors, validateFactors } from './factor-product';
import type { TensorStorage } from './tensor-storage';

/**
 * Shared-basis storage: a `[rows, cols]` block kept as per-user float32 coefficients
 * `C` `[rows, rank]` on a basis `B` `[rank, cols]` shared by all users, decoded as `C · B`.
 *
 * Only the coefficients belong to the user, so the storage reports only them:
 * `4 · rows · rank` bytes. The basis is stored once for the whole population and is counted
 * apart, as a one-off size.
 *
 * @param coefficients - `[rows, rank]` row-major. Kept by reference, not copied.
 * @param basis - `[rank, cols]` row-major, shared. Kept by reference and never counted here.
 * @throws RangeError when the shape is invalid or an array's length does not match it.
 * @example
 * const keys = new SharedBasisStorage(coefficients, basis, 200, 64, 16); // 4 · 200 · 16 = 12,800 B
 */
export class SharedBasisStorage implements TensorStorage {
  readonly kind: string;

  constructor(
    readonly coefficients: Float32Array,
    readonly basis: Float32Array,
    readonly rows: number,
    readonly cols: number,
    readonly rank: number,
  ) {
    validateFactors('SharedBasisStorage', ['coefficients', 'basis'], coefficients, basis, rows, cols, rank);
    this.kind = `shared-basis-${rank}`;
  }

  /** Decodes `C · B`, accumulating each product in float64. */
  decode(): Float32Array {
    return multiplyFactors(this.coefficients, this.basis, this.rows, this.cols, this.rank);
  }

  /** Returns the coefficients only, because the shared basis is not per-user bytes. */
  buffers(): readonly ArrayBufferView[] {
    return [this.coefficients];
  }
}

/** Per-user bytes of a `[rows, cols]` shared-basis storage of rank `rank`: `4 · rows · rank`. */
export function sharedBasisStorageBytes(rows: number, rank: number): number {
  return 4 * rows * rank;
}

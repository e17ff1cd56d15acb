import { invalidArgument, invalidShape } from '../messages';
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
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || !Number.isInteger(rank) || rows < 0 || cols <= 0 || rank < 1) {
      throw new RangeError(invalidArgument('SharedBasisStorage', 'shape', 'integers rows ≥ 0, cols ≥ 1 and rank ≥ 1', `rows ${rows}, cols ${cols}, rank ${rank}`));
    }
    if (coefficients.length !== rows * rank) {
      throw new RangeError(invalidShape('SharedBasisStorage', 'coefficients', [rows, rank], coefficients.length));
    }
    if (basis.length !== rank * cols) {
      throw new RangeError(invalidShape('SharedBasisStorage', 'basis', [rank, cols], basis.length));
    }
    this.kind = `shared-basis-${rank}`;
  }

  /** Decodes `C · B`, accumulating each product in float64. */
  decode(): Float32Array {
    const out = new Float32Array(this.rows * this.cols); // [rows, cols] row-major
    for (let i = 0; i < this.rows; i++) {
      for (let j = 0; j < this.cols; j++) {
        let sum = 0;
        for (let k = 0; k < this.rank; k++) {
          sum += this.coefficients[i * this.rank + k] * this.basis[k * this.cols + j];
        }
        out[i * this.cols + j] = sum;
      }
    }
    return out;
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

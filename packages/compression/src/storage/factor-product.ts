import { invalidArgument, invalidShape } from '../messages';

/**
 * Checks the shape of a factored `[rows, cols]` block: `left` `[rows, rank]` and `right`
 * `[rank, cols]`, both row-major.
 *
 * @throws RangeError naming `where` and the factor when the shape is invalid or a length does not match it.
 */
export function validateFactors(where: string, names: readonly [string, string], left: Float32Array, right: Float32Array, rows: number, cols: number, rank: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || !Number.isInteger(rank) || rows < 0 || cols <= 0 || rank < 1) {
    throw new RangeError(invalidArgument(where, 'shape', 'integers rows ≥ 0, cols ≥ 1 and rank ≥ 1', `rows ${rows}, cols ${cols}, rank ${rank}`));
  }
  if (left.length !== rows * rank) {
    throw new RangeError(invalidShape(where, names[0], [rows, rank], left.length));
  }
  if (right.length !== rank * cols) {
    throw new RangeError(invalidShape(where, names[1], [rank, cols], right.length));
  }
}

/** Multiplies `left` `[rows, rank]` by `right` `[rank, cols]`, accumulating each product in float64. */
export function multiplyFactors(left: Float32Array, right: Float32Array, rows: number, cols: number, rank: number): Float32Array {
  const out = new Float32Array(rows * cols); // [rows, cols] row-major
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) {
        sum += left[i * rank + k] * right[k * cols + j];
      }
      out[i * cols + j] = sum;
    }
  }
  return out;
}

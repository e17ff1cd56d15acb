// Float comparison helpers for tests.

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new Error(`maxAbsDifference: lengths differ (${a.length} vs ${b.length})`);
  }
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) {
      continue;
    }
    max = Math.max(max, Math.abs(a[i] - b[i]));
  }
  return max;
}

/** Expects two arrays to agree element-wise within `tolerance` (equal infinities count as equal). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  expect(maxAbsDifference(actual, expected)).toBeLessThanOrEqual(tolerance);
}

/** Last row of a `[rows, width]` row-major array. */
export function lastRow(values: Float32Array, width: number): Float32Array {
  return values.subarray(values.length - width);
}

// Boundary checks shared by the public functions. Each check throws a TypeError for a value
// of the wrong type and a RangeError for a value of the right type outside its domain, with a
// message built in messages.ts.

import { emptyInput, invalidArgument, lengthMismatch } from './messages';

/** Scores indexed by item id, `[nItems + 1]`, where entry 0 is padding. */
export type ItemScores = Float32Array | Float64Array;

/** Largest seed accepted: seeds are unsigned 32-bit integers. */
const MAX_SEED = 0xffffffff;

/**
 * Checks that `scores` is a Float32Array or Float64Array of length `nItems + 1` with
 * nItems ≥ 1, and returns nItems.
 */
export function requireItemScores(where: string, argument: string, scores: unknown): number {
  if (!(scores instanceof Float32Array) && !(scores instanceof Float64Array)) {
    throw new TypeError(invalidArgument(where, argument, 'a Float32Array or Float64Array indexed by item id ([nItems + 1], entry 0 is padding)', scores));
  }
  if (scores.length < 2) {
    throw new RangeError(invalidArgument(where, `${argument}.length`, 'at least 2 (padding entry 0 and one item)', scores.length));
  }
  return scores.length - 1;
}

/** Checks that `value` is an array-like object (an array or a typed array). */
export function requireArrayLike(where: string, argument: string, value: unknown): asserts value is ArrayLike<unknown> {
  const isArrayLike =
    Array.isArray(value) ||
    (ArrayBuffer.isView(value) && !(value instanceof DataView)) ||
    (typeof value === 'object' && value !== null && typeof (value as { length?: unknown }).length === 'number');
  if (!isArrayLike) {
    throw new TypeError(invalidArgument(where, argument, 'an array or typed array of numbers', value));
  }
}

/** Checks that `a` and `b` have the same length. */
export function requireSameLength(where: string, argumentA: string, a: ArrayLike<unknown>, argumentB: string, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) {
    throw new RangeError(lengthMismatch(where, argumentA, a.length, argumentB, b.length));
  }
}

/** Checks that `value` is a number that is not NaN (±Infinity allowed). */
export function requireNumber(where: string, argument: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(invalidArgument(where, argument, 'a number', value));
  }
  if (Number.isNaN(value)) {
    throw new RangeError(invalidArgument(where, argument, 'a number (not NaN)', value));
  }
}

/** Checks that `value` is a finite number. */
export function requireFinite(where: string, argument: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(invalidArgument(where, argument, 'a finite number', value));
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(invalidArgument(where, argument, 'a finite number', value));
  }
}

/** Checks that `value` is an integer in [min, max]. */
export function requireInteger(where: string, argument: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(invalidArgument(where, argument, `an integer in [${min}, ${max}]`, value));
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(invalidArgument(where, argument, `an integer in [${min}, ${max}]`, value));
  }
}

/** Checks that `value` is a positive integer (1, 2, 3, …). */
export function requirePositiveInteger(where: string, argument: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(invalidArgument(where, argument, 'a positive integer', value));
  }
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(invalidArgument(where, argument, 'a positive integer', value));
  }
}

/** Checks that `value` is an item id in 1..nItems. */
export function requireItemId(where: string, argument: string, value: unknown, nItems: number): asserts value is number {
  requireInteger(where, argument, value, 1, nItems);
}

/** Checks that `value` is a seed: an integer in [0, 2^32 − 1]. */
export function requireSeed(where: string, argument: string, value: unknown): asserts value is number {
  requireInteger(where, argument, value, 0, MAX_SEED);
}

/** Checks that every entry of `values` is a number that is not NaN. */
export function requireNoNaN(where: string, argument: string, values: ArrayLike<unknown>): void {
  for (let i = 0; i < values.length; i += 1) {
    requireNumber(where, `${argument}[${i}]`, values[i]);
  }
}

/** Checks that every entry of `labels` is 0 or 1, and returns the number of 1s. */
export function requireBinaryLabels(where: string, argument: string, labels: ArrayLike<unknown>): number {
  let positives = 0;
  for (let i = 0; i < labels.length; i += 1) {
    const label = labels[i];
    if (label === 1) {
      positives += 1;
    } else if (label !== 0) {
      const error = typeof label === 'number' ? RangeError : TypeError;
      throw new error(invalidArgument(where, `${argument}[${i}]`, '0 or 1', label));
    }
  }
  return positives;
}

/** Checks that `values` is a non-empty array of finite numbers and returns a float64 copy. */
export function requireFiniteSample(where: string, argument: string, values: unknown): Float64Array {
  requireArrayLike(where, argument, values);
  if (values.length === 0) {
    throw new RangeError(emptyInput(where, argument, 'pass at least one value'));
  }
  const copy = new Float64Array(values.length); // [n]
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    requireFinite(where, `${argument}[${i}]`, value);
    copy[i] = value;
  }
  return copy;
}

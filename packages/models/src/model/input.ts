import { invalidArgument, invalidItemId, invalidShape } from '../messages';

/** A history after left padding was stripped and the window was capped. */
export interface PreparedSequence {
  /** Kept item ids, newest last, `[len]`; position i of the model is index i here. */
  readonly items: Int32Array;
  /** Index in the input of the first kept item. */
  readonly start: number;
}

/**
 * Validates a history and cuts it to the model's input window: leading padding (id 0) is
 * stripped, every other id must lie in 1..itemCount, and only the newest `maxLength` items
 * are kept. The whole input is checked, including items older than the window.
 *
 * @param ids - `[n]` item ids, oldest first, optionally left-padded with 0.
 * @throws TypeError when `ids` is not an array of numbers.
 * @throws RangeError naming the first id that is not an integer in 1..itemCount (or a 0 after a real item).
 */
export function prepareSequence(where: string, argument: string, ids: ArrayLike<number>, itemCount: number, maxLength: number): PreparedSequence {
  // Check the container.
  if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
    throw new TypeError(invalidArgument(where, argument, 'an Int32Array of item ids', String(ids)));
  }

  // Skip left padding, then require real ids.
  let first = 0;
  while (first < ids.length && ids[first] === 0) {
    first++;
  }
  for (let i = first; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 1 || id > itemCount) {
      throw new RangeError(invalidItemId(where, argument, id, i, itemCount));
    }
  }

  // Keep the newest maxLength items.
  const start = Math.max(first, ids.length - maxLength);
  const items = new Int32Array(ids.length - start); // [len]
  for (let i = start; i < ids.length; i++) {
    items[i - start] = ids[i];
  }
  return { items, start };
}

/**
 * Validates ids that may not contain padding (appended items, candidates).
 *
 * @param ids - `[k]` item ids.
 * @throws RangeError naming the first id outside 1..itemCount.
 */
export function validateItems(where: string, argument: string, ids: ArrayLike<number>, itemCount: number): void {
  if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
    throw new TypeError(invalidArgument(where, argument, 'an Int32Array of item ids', String(ids)));
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 1 || id > itemCount) {
      throw new RangeError(invalidItemId(where, argument, id, i, itemCount));
    }
  }
}

/**
 * Validates a hidden state passed to a scoring function.
 *
 * @param hidden - `[d]`.
 * @throws RangeError when its length is not `d` or a value is not finite.
 */
export function validateHidden(where: string, hidden: Float32Array, width: number): void {
  if (!(hidden instanceof Float32Array) || hidden.length !== width) {
    throw new RangeError(invalidShape(where, 'hidden', [width], hidden instanceof Float32Array ? hidden.length : NaN));
  }
  for (let i = 0; i < width; i++) {
    if (!Number.isFinite(hidden[i])) {
      throw new RangeError(invalidArgument(where, 'hidden', 'finite numbers', `${hidden[i]} at index ${i}`));
    }
  }
}

/**
 * Validates optional timestamps against the number of items they describe.
 *
 * @param timestamps - `[n]` seconds, or undefined.
 * @throws RangeError when the length differs from `n` or a value is not finite.
 */
export function validateTimestamps(where: string, timestamps: Float64Array | undefined, n: number): void {
  if (timestamps === undefined) {
    return;
  }
  if (!(timestamps instanceof Float64Array) || timestamps.length !== n) {
    throw new RangeError(invalidShape(where, 'options.timestamps', [n], timestamps instanceof Float64Array ? timestamps.length : NaN));
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(timestamps[i])) {
      throw new RangeError(invalidArgument(where, 'options.timestamps', 'finite seconds', `${timestamps[i]} at index ${i}`));
    }
  }
}

/**
 * Validates an optional request time and returns it when the model reads it.
 *
 * @param requestTime - seconds, or undefined.
 * @param required - true when the model reads it (HSTU with `queryTime: 'next'` and timestamps given).
 * @returns the request time when required, else `null`.
 * @throws RangeError when it is required and missing, or given and not finite.
 */
export function checkRequestTime(where: string, argument: string, requestTime: number | undefined, required: boolean): number | null {
  if (requestTime !== undefined && (typeof requestTime !== 'number' || !Number.isFinite(requestTime))) {
    throw new RangeError(invalidArgument(where, argument, 'finite seconds', String(requestTime)));
  }
  if (!required) {
    return null;
  }
  if (requestTime === undefined) {
    throw new RangeError(invalidArgument(where, argument, "the time of the request after the last item, which HSTU with queryTime 'next' reads with timestamps", 'undefined; pass it, or build the model with queryTime \'own\''));
  }
  return requestTime;
}

/**
 * Validates optional per-sequence request times, as {@link checkRequestTime} does for one.
 *
 * @param requestTimes - `[count]` seconds, or undefined.
 * @returns `[count]` when required, else `null`.
 */
export function checkRequestTimes(where: string, requestTimes: Float64Array | undefined, count: number, required: boolean): Float64Array | null {
  if (requestTimes !== undefined && (!(requestTimes instanceof Float64Array) || requestTimes.length !== count)) {
    throw new RangeError(invalidShape(where, 'options.requestTimes', [count], requestTimes instanceof Float64Array ? requestTimes.length : NaN));
  }
  for (let i = 0; i < count && requestTimes !== undefined; i++) {
    checkRequestTime(where, `options.requestTimes[${i}]`, requestTimes[i], false);
  }
  if (!required) {
    return null;
  }
  if (requestTimes === undefined) {
    checkRequestTime(where, 'options.requestTimes', undefined, true);
  }
  return requestTimes as Float64Array;
}

import { formatValue, invalidArgument } from './messages';

// Checks shared by every constructor and factory of the package. Each throws TypeError for a
// value of the wrong type and RangeError for a value outside its range, with a message that
// names the function, the argument, the accepted range and the received value.

/** Checks a compression ratio: a finite number with 0 ≤ r < 1. */
export function checkCompressionRatio(where: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new TypeError(invalidArgument(where, 'compressionRatio', 'a number in [0, 1)', formatValue(value)));
  }
  if (!Number.isFinite(value) || value < 0 || value >= 1) {
    throw new RangeError(invalidArgument(where, 'compressionRatio', 'a finite number in [0, 1)', formatValue(value)));
  }
  return value;
}

/** Checks an integer in `[minimum, maximum]`. */
export function checkInteger(where: string, name: string, value: unknown, minimum: number, maximum = Number.MAX_SAFE_INTEGER): number {
  const range = maximum === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${minimum}` : `an integer in [${minimum}, ${maximum}]`;
  if (typeof value !== 'number') {
    throw new TypeError(invalidArgument(where, name, range, formatValue(value)));
  }
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    throw new RangeError(invalidArgument(where, name, range, formatValue(value)));
  }
  return value;
}

/** Checks a finite number in `[minimum, maximum]`. */
export function checkNumber(where: string, name: string, value: unknown, minimum: number, maximum: number): number {
  const range = `a finite number in [${minimum}, ${maximum}]`;
  if (typeof value !== 'number') {
    throw new TypeError(invalidArgument(where, name, range, formatValue(value)));
  }
  if (!Number.isFinite(value) || value < minimum || value > maximum) {
    throw new RangeError(invalidArgument(where, name, range, formatValue(value)));
  }
  return value;
}

/** Checks that a value is one of an accepted list: RangeError for another value of the same type, else TypeError. */
export function checkOneOf<T extends string | number>(where: string, name: string, value: unknown, accepted: readonly T[]): T {
  if (!accepted.includes(value as T)) {
    const list = accepted.map((item) => formatValue(item)).join(', ');
    const error = typeof value === typeof accepted[0] ? RangeError : TypeError;
    throw new error(invalidArgument(where, name, `one of ${list}`, formatValue(value)));
  }
  return value as T;
}

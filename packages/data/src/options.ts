import { invalidArgument } from './messages';
import { silentLogger, type Logger } from './logger';
import type { DedupePolicy, PreprocessOptions } from './types';

/** Preprocessing options with defaults applied and values validated. */
export interface ResolvedPreprocessOptions {
  minItemInteractions: number;
  minUserInteractions: number;
  /** `null` when no threshold applies. */
  ratingThreshold: number | null;
  dedupe: DedupePolicy;
  logger: Logger;
}

const DEDUPE_POLICIES: readonly DedupePolicy[] = ['keep-all', 'keep-first', 'keep-last'];

/**
 * Applies defaults to preprocessing options and validates them.
 *
 * @param where - Name of the public function, used in error messages.
 * @throws RangeError when a minimum is not a non-negative integer, the threshold is not a
 *   finite number, or `dedupe` is not one of the policies.
 */
export function resolvePreprocessOptions(where: string, options: PreprocessOptions = {}): ResolvedPreprocessOptions {
  const minItemInteractions = options.minItemInteractions ?? 0;
  const minUserInteractions = options.minUserInteractions ?? 0;
  const ratingThreshold = options.ratingThreshold ?? null;
  const dedupe = options.dedupe ?? 'keep-all';

  checkNonNegativeInteger(where, 'minItemInteractions', minItemInteractions);
  checkNonNegativeInteger(where, 'minUserInteractions', minUserInteractions);
  if (ratingThreshold !== null && (typeof ratingThreshold !== 'number' || !Number.isFinite(ratingThreshold))) {
    throw new RangeError(invalidArgument(where, 'ratingThreshold', 'a finite number', ratingThreshold));
  }
  if (!DEDUPE_POLICIES.includes(dedupe)) {
    throw new RangeError(invalidArgument(where, 'dedupe', `one of ${DEDUPE_POLICIES.map((p) => `'${p}'`).join(', ')}`, dedupe));
  }

  return { minItemInteractions, minUserInteractions, ratingThreshold, dedupe, logger: options.logger ?? silentLogger };
}

/** @throws RangeError unless `value` is an integer ≥ 0. */
export function checkNonNegativeInteger(where: string, argument: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RangeError(invalidArgument(where, argument, 'an integer >= 0', value));
  }
}

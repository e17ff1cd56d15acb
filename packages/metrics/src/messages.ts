// Builders of every error string of @malloc/metrics. Tests assert against these same
// functions, so each message is worded in one place.

/**
 * Formats a received value for an error message: numbers as written (`NaN`, `-Infinity`),
 * strings quoted, typed arrays and arrays by their kind and length, other objects as JSON.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') {
    return Object.is(value, -0) ? '0' : String(value);
  }
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (value === null || value === undefined || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (Array.isArray(value)) {
    return `an array of length ${value.length}`;
  }
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: number }).length;
    return `${value.constructor.name}(${length ?? value.byteLength})`;
  }
  if (typeof value === 'function') {
    return 'a function';
  }
  return describeObject(value as object);
}

/** Formats a plain object as JSON, shortened to 80 characters. */
function describeObject(value: object): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) {
    return `an object (${Object.prototype.toString.call(value)})`;
  }
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** Builds `where: invalid argument: expected …, received ….` */
export function invalidArgument(where: string, argument: string, expected: string, received: unknown): string {
  return `${where}: invalid ${argument}: expected ${expected}, received ${describeValue(received)}.`;
}

/** Builds the error for two arrays that must pair element by element but differ in length. */
export function lengthMismatch(where: string, argumentA: string, lengthA: number, argumentB: string, lengthB: number): string {
  return `${where}: ${argumentA} and ${argumentB} must have the same length; received ${lengthA} and ${lengthB}.`;
}

/** Builds the error for an item id listed twice where every id must be distinct. */
export function duplicateItem(where: string, argument: string, itemId: number): string {
  return `${where}: invalid ${argument}: item ${itemId} appears more than once; each item may be listed once.`;
}

/** Builds the error for a metric key that the accumulator does not compute. */
export function unknownMetricKey(where: string, key: string, available: readonly string[]): string {
  return `${where}: unknown metric key ${JSON.stringify(key)}; available keys: ${available.join(', ')}.`;
}

/** Builds the error for a statistic requested over no values. */
export function emptyInput(where: string, argument: string, requirement: string): string {
  return `${where}: ${argument} is empty; ${requirement}.`;
}

/** Builds the error for a request of more negatives than there are eligible items. */
export function notEnoughNegatives(where: string, requested: number, available: number): string {
  return `${where}: invalid count: requested ${requested} negatives, but only ${available} items are eligible (not padding, not the target, not excluded).`;
}

/** Builds the error for AUC over labels that lack a positive or a negative. */
export function singleClass(where: string, positives: number, negatives: number): string {
  return `${where}: AUC needs at least one positive and one negative label; received ${positives} positives and ${negatives} negatives.`;
}

/** Builds the error for GAUC input where no user has both labels. */
export function noUserWithBothClasses(where: string, usersSkipped: number): string {
  return `${where}: no user has both a positive and a negative label (${usersSkipped} users skipped), so GAUC is undefined.`;
}

/** Builds the error for latency samples that are all warm-up samples. */
export function noSteadyStateSamples(where: string, samples: number, warmup: number): string {
  return `${where}: no samples remain after warm-up: received ${samples} samples and warmup ${warmup}; time more calls than warmup.`;
}

/** Builds the error for a model preset name that does not exist. */
export function unknownPreset(where: string, name: string, available: readonly string[]): string {
  return `${where}: unknown model preset ${JSON.stringify(name)}; available presets: ${available.join(', ')}; or pass { architecture, config }.`;
}

// Builders of every error and warning string of @malloc/compression. Tests assert against
// these same functions, so a message is worded in one place.

/** Formats a shape as `[a, b, c]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Error for a typed array whose length does not match the expected shape. */
export function invalidShape(where: string, argument: string, expected: readonly number[], receivedLength: number): string {
  return `${where}: ${argument} must hold ${formatShape(expected)} = ${expected.reduce((a, b) => a * b, 1)} numbers; received ${receivedLength}.`;
}

/** Error for an argument outside its accepted type or range. */
export function invalidArgument(where: string, argument: string, expected: string, received: string): string {
  return `${where}: invalid ${argument}: expected ${expected}, received ${received}.`;
}

/** Formats a received value for a message: strings quoted, everything else as `String()` shows it. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `an array of length ${value.length}`;
  }
  if (value !== null && typeof value === 'object') {
    return `an object (${Object.prototype.toString.call(value)})`;
  }
  return String(value);
}

/** Error for a registry id that no strategy has. */
export function unknownStrategy(id: string, accepted: readonly string[]): string {
  return `createStrategy: unknown strategy id ${JSON.stringify(id)}; expected one of: ${accepted.join(', ')}.`;
}

/** Error for a parameter key that a strategy does not accept. */
export function unknownParameter(id: string, key: string, accepted: readonly string[]): string {
  const list = accepted.length === 0 ? 'none (this strategy takes no parameters)' : accepted.join(', ');
  return `createStrategy: unknown parameter ${JSON.stringify(key)} for strategy ${JSON.stringify(id)}; accepted parameters: ${list}.`;
}

/** Error for a required parameter that is absent. */
export function missingParameter(id: string, key: string): string {
  return `createStrategy: missing parameter ${JSON.stringify(key)} for strategy ${JSON.stringify(id)}; it has no default.`;
}

/** Error for a strategy that reads attention statistics the caller did not record. */
export function missingAttentionStats(where: string, needed: string): string {
  return `${where}: context.stats is null, but this strategy reads ${needed}; record attention statistics during prefill.`;
}

/** Error for a layer whose heads hold different token counts, which a per-layer budget cannot handle. */
export function unequalHeadLengths(where: string, layer: number, lengths: readonly number[]): string {
  return `${where}: invalid cache: expected every head of layer ${layer} to hold the same number of tokens, received ${formatShape(lengths)}.`;
}

/** Error for a score that is NaN, which top-k cannot order. */
export function invalidScore(where: string, layer: number, head: number, index: number, value: number): string {
  return `${where}: invalid score at layer ${layer}, head ${head}, token ${index}: expected a number that is not NaN, received ${value}.`;
}

/** Warning when the token budget is smaller than the number of attention sinks. */
export function sinksExceedBudgetWarning(id: string, sinks: number, budget: number): string {
  return `${id}: the budget of ${budget} token(s) is smaller than sinks = ${sinks}, so only the first ${budget} sink token(s) are kept and no recent token is.`;
}

/** Warning when the observation window is larger than the token budget. */
export function windowExceedsBudgetWarning(id: string, window: number, budget: number): string {
  return `${id}: the observation window of ${window} token(s) is larger than the budget of ${budget}, so only the newest ${budget} token(s) are kept, as a sliding window would.`;
}

/** Warning when the attention statistics hold fewer window queries than a strategy requests. */
export function shortObservationWindowWarning(id: string, requested: number, available: number): string {
  return `${id}: window = ${requested} was requested but the attention statistics hold ${available} window queries; using ${available}. Record a larger observation window during prefill.`;
}

/** Warning when IntActKV has no attention statistics and falls back to the oldest tokens as pivots. */
export function pivotsWithoutStatsWarning(id: string, pivots: number): string {
  return `${id}: context.stats is null, so the ${pivots} oldest token(s) of each head are kept in float32 as pivots; record attention statistics during prefill to choose pivots by attention.`;
}

/** Error for a strategy that needs a shared calibration and has not been calibrated. */
export function notCalibrated(where: string, id: string): string {
  return `${where}: strategy ${JSON.stringify(id)} has no shared basis yet; call calibrate(caches, context) with the caches of training users before compress.`;
}

/** Error for a head-adaptive split asked to prune a layer whose heads already hold different token counts. */
export function unequalHeadsForAdaptiveSplit(where: string, layer: number, lengths: readonly number[]): string {
  return `${where}: invalid cache: layer ${layer} has heads of ${formatShape(lengths)} tokens, but the base strategy scores heads of equal length only; the head-adaptive split serves the one-shot protocol, or streaming with one KV head per layer.`;
}

/** Error for a per-layer budget schedule that spends more tokens than the uniform budgets. */
export function scheduleOverBudget(where: string, scheduled: readonly number[], total: number): string {
  return `${where}: invalid schedule: expected per-layer budgets that sum to at most ${total} tokens, received ${formatShape(scheduled)} (sum ${scheduled.reduce((sum, value) => sum + value, 0)}).`;
}

// Builders of every error, warning and log string of @malloc/models. Tests assert against
// these same functions, so a message is worded in one place.

/** Formats a shape as `[a, b, c]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Builds the error for an argument value that breaks a documented rule. */
export function invalidArgument(where: string, argument: string, expected: string, received: string): string {
  return `${where}: invalid ${argument}: expected ${expected}, received ${received}.`;
}

/** Builds the error for a flat array whose length does not match the expected shape. */
export function invalidShape(where: string, argument: string, expected: readonly number[], receivedLength: number): string {
  const size = expected.reduce((a, b) => a * b, 1);
  return `${where}: ${argument} must hold ${formatShape(expected)} = ${size} numbers; received ${receivedLength}.`;
}

/** Builds the error for an item id outside the catalogue, raised before any embedding lookup. */
export function invalidItemId(where: string, argument: string, id: number, index: number, itemCount: number): string {
  return `${where}: invalid ${argument}: item id ${id} at index ${index} is outside 1..${itemCount} (0 is padding and is allowed only as left padding of a history).`;
}

/** Builds the error for an append that would give a token a position without a position embedding. */
export function positionOutOfRange(where: string, firstPosition: number, count: number, maxLength: number): string {
  return `${where}: appending ${count} item(s) at positions ${firstPosition}..${firstPosition + count - 1} exceeds the model's maxLength ${maxLength} (positions 0..${maxLength - 1}); cap the history and request together to the newest ${maxLength} items before prefill.`;
}

/** Builds the error for a cache whose layout does not fit the model. */
export function incompatibleCache(where: string, detail: string): string {
  return `${where}: the cache does not fit this model: ${detail}.`;
}

/** Builds the error for a kernel that the models need and the backend lacks. */
export function missingKernel(kernel: string, backend: string): string {
  return `The '${backend}' backend of TensorFlow.js has no kernel for the op '${kernel}', which the models need; choose another backend.`;
}

/** Builds the error for a requested backend that failed to start. */
export function backendUnavailable(backend: string, reason: string): string {
  return `initBackend: the '${backend}' backend is not available: ${reason}.`;
}

/** Builds the log line that names the backend initBackend selected. */
export function backendSelected(backend: string, detail: string): string {
  return `TensorFlow.js backend: ${backend} (${detail}).`;
}

/** Builds the debug line that explains why an optional native binding was not used. */
export function nativeBindingSkipped(name: string, reason: string): string {
  return `Optional package ${name} not used: ${reason}.`;
}

/** Builds the error for a checkpoint file that cannot be read or fails its checks. */
export function corruptCheckpoint(file: string, detail: string): string {
  return `Checkpoint ${file} is corrupt: ${detail}.`;
}

/** Builds the error for a valid checkpoint written for other data, options or another model. */
export function checkpointMismatch(file: string, field: string, expected: string, received: string): string {
  return `Checkpoint ${file} does not match: ${field} is ${received}, expected ${expected}.`;
}

/** Builds the log line of one finished training epoch. */
export function epochFinished(epoch: number, epochs: number, loss: number, seconds: number, tokensPerSecond: number, validation: number | null): string {
  const score = validation === null ? '' : `, validation ${validation.toFixed(5)}`;
  return `epoch ${epoch}/${epochs}: loss ${loss.toFixed(5)}, ${seconds.toFixed(1)} s, ${Math.round(tokensPerSecond)} tokens/s${score}`;
}

/** Builds the log line of a training run resumed from a checkpoint. */
export function trainingResumed(dir: string, epoch: number): string {
  return `Resuming training from ${dir} after epoch ${epoch}.`;
}

/** Builds the log line of early stopping after `patience` epochs without improvement. */
export function earlyStopped(epoch: number, bestEpoch: number, patience: number): string {
  return `Stopping after epoch ${epoch}: no validation improvement for ${patience} epoch(s) since epoch ${bestEpoch}.`;
}

/** Builds the error for a training loss that became NaN or infinite. */
export function nonFiniteLoss(epoch: number, step: number, loss: number): string {
  return `trainModel: the loss became ${loss} at epoch ${epoch}, step ${step}; lower the learning rate or check the data.`;
}

/** Builds the error for a checkpoint folder without its manifest. */
export function missingCheckpoint(file: string): string {
  return `Checkpoint ${file} not found; save one with saveCheckpoint first.`;
}

/** Builds the error for a CTR call on a model created without a click head. */
export function missingCtrHead(where: string): string {
  return `${where}: the model has no click head; create it with config.ctrHead = true (and train it with the 'ctr-bce' loss) to score impressions.`;
}

/** Builds the error of a data-parallel training worker that failed; `reason` is the worker's own message. */
export function trainingWorkerFailed(replica: number, reason: string): string {
  return `trainModel: training worker ${replica} failed: ${reason}`;
}

/** Builds the warning for more training replicas than CPU cores. */
export function workersExceedCores(workers: number, cores: number): string {
  return `trainModel: workers = ${workers} exceeds the ${cores} CPU core(s) available to this process, so replicas share cores and steps may be slower than with ${cores} worker(s).`;
}

// Builders of every error, warning and progress string of the runner. Tests assert against
// these same functions.

import type { TrainingSettings } from './config';

function list(values: readonly string[]): string {
  return values.join(', ');
}

export function invalidConfig(source: string, problems: readonly string[]): string {
  return `Invalid configuration from ${source}:\n  - ${problems.join('\n  - ')}\nSee the JSON schema @malloc/runner/config-schema.json (in this repository: packages/runner/src/config-schema.json) for every key, its type and its default.`;
}

export function configFileUnreadable(path: string, reason: string): string {
  return `Cannot read config file '${path}': ${reason}. Pass a JSON (.json) or YAML (.yaml, .yml) file.`;
}

export function unknownPreset(preset: string, accepted: readonly string[]): string {
  return `Unknown preset '${preset}'. Accepted presets: ${list(accepted)}.`;
}

export function unknownDataset(dataset: string, accepted: readonly string[]): string {
  return `Unknown dataset '${dataset}'. Accepted datasets: ${list(accepted)}.`;
}

export function unknownModel(model: string, accepted: readonly string[]): string {
  return `Unknown model '${model}'. Accepted models: ${list(accepted)}.`;
}

export function unknownStrategy(strategy: string, accepted: readonly string[]): string {
  return `Unknown strategy '${strategy}'. Accepted strategies: ${list(accepted)}. Run 'malloc methods' for their descriptions.`;
}

/** Builds the error for a head-level model variant given as a strategy. */
/** Builds the error for a compression strategy requested for a recurrent model, whose cache is a constant-size state. */
export function strategyForRecurrentModel(model: string, strategy: string, accepted: readonly string[]): string {
  return `Strategy '${strategy}' cannot run on model '${model}': its cache is a constant-size recurrent state with one entry per layer, so there are no tokens to evict or merge. Accepted strategies for '${model}': ${list(accepted)}; run other strategies in a separate configuration without this model.`;
}

/** Builds the error for a model id requested as a compression strategy. */
export function modelAsStrategy(id: string): string {
  return `'${id}' is a model, not a compression strategy: remove it from the strategies and add it to the models of the run configuration.`;
}

export function modelVariantAsStrategy(id: string): string {
  const fields: Readonly<Record<string, string>> = { mla: 'model.kvLatentSize', beacon: 'model.beacon', linformer: 'model.linformer', lsh: 'model.lsh' };
  const field = fields[id] ?? 'model.kvHeads';
  return `'${id}' is a model variant, not a compression strategy: remove it from the strategies and set ${field} in the run configuration, so that the runner trains that model and evaluates the strategies on its cache.`;
}

export function invalidRatio(value: number | string): string {
  return `Invalid compression ratio ${String(value)}: expected a number in [0, 1) (the fraction of history tokens removed), for example 0.5, 0.75 or 0.875.`;
}

export function invalidOption(option: string, value: string, expected: string): string {
  return `Invalid value '${value}' for ${option}: expected ${expected}.`;
}

export function unknownCommand(command: string, accepted: readonly string[]): string {
  return `Unknown command '${command}'. Accepted commands: ${list(accepted)}. Run 'malloc --help' for usage.`;
}

export function invalidResultRow(problems: readonly string[]): string {
  return `Refusing to write a results row that does not match results-schema.json:\n  - ${problems.join('\n  - ')}`;
}

export function malformedResultsLine(path: string, line: number, reason: string): string {
  return `Malformed line ${line} in '${path}': ${reason}. The file is append-only JSON Lines; fix or remove that line, nothing else is touched.`;
}

export function progressLine(label: string, done: number, total: number, elapsedSeconds: number): string {
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const left = rate > 0 ? (total - done) / rate : Number.NaN;
  const leftText = Number.isFinite(left) ? `, ~${formatSeconds(left)} left` : '';
  return `${label}: ${done}/${total} (${rate.toFixed(1)}/s${leftText})`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) {
    return `${seconds.toFixed(0)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

export function cellFailed(cellKey: string, message: string): string {
  return `Cell ${cellKey} failed: ${message}. The other cells continue; the run exits with status 1 at the end.`;
}

export function cellSkipped(cellKey: string): string {
  return `Skipping ${cellKey}: an ok row with the same configuration is already in results.jsonl.`;
}

export function refusingOverwrite(path: string): string {
  return `Refusing to overwrite '${path}': result files are never replaced. Choose another --out folder or remove the file yourself.`;
}

export function warningsSuppressed(strategy: string, setting: string, count: number): string {
  return `${strategy}${setting === '' ? '' : ` (${setting})`}: ${count} more warnings like the one above for other users were not shown.`;
}

export function noUserEvaluated(usersSkipped: number): string {
  return `No test user was evaluated (${usersSkipped} skipped because their input is not longer than the request). Lower evaluation.requestLength or use a dataset with longer histories.`;
}

export function invalidShard(text: string): string {
  return `Invalid value '${text}' for --shard: expected I/N with integers 0 ≤ I < N, for example 0/4 for the first of four shards (I is 0-based).`;
}

export function shardPlan(index: number, count: number, groups: readonly string[], total: number): string {
  return `Shard ${index}/${count}: ${groups.length} of ${total} (model, seed) groups${groups.length === 0 ? ' (nothing to do: use fewer shards than groups)' : `: ${groups.join(', ')}`}`;
}

export function runInterrupted(signal: string): string {
  return `Received ${signal}: stopping before the next test user, training step or (model, seed) group. Rows already written are kept and nothing partial is written; rerun the same command to continue. Send the signal again to stop at once.`;
}

export function benchInterrupted(rowsWritten: number): string {
  return `Run interrupted after writing ${rowsWritten} rows. Rerun the same command to finish the remaining cells.`;
}

export function mergeTargetExists(path: string): string {
  return `Cannot merge into '${path}': the file already exists. Pass a new --into folder.`;
}

export function mergeNoInputs(): string {
  return 'Missing shard folders: pass one or more folders (or results.jsonl files) after --into DIR.';
}

export function mergeInputMissing(path: string): string {
  return `Cannot merge '${path}': the file does not exist. Pass the --out folder of a shard or its results.jsonl.`;
}

export function mergeConfigMismatch(first: string, firstHash: string, second: string, secondHash: string): string {
  return `Cannot merge rows of different configurations: ${first} has configuration hash ${firstHash} but ${second} has ${secondHash}. Merge only shards of the same configuration.`;
}

export function mergeConflict(cellKey: string, first: string, second: string, fields: readonly string[]): string {
  return `Cannot merge cell ${cellKey}: ${first} and ${second} differ in ${fields.join(', ')}. Remove the wrong row or rerun that shard into a new folder.`;
}

export function evaluationInterrupted(done: number, total: number): string {
  return `Evaluation stopped after ${done} of ${total} users; no row of this (model, seed) group was written.`;
}

/**
 * Builds the log line that starts a training: the row label (which names the variant), the
 * budget and the loss, with the negatives of sampled softmax and how they are drawn.
 */
export function trainingStarted(label: string, seed: number, dataset: string, training: TrainingSettings, loss: string): string {
  const negatives = loss === 'sampled-softmax' ? ` with ${training.negatives} ${training.negativeSampling} negatives` : '';
  const budget = training.trainOnValidation === true ? `${training.epochs} epochs with the validation items among the targets, keeping the last` : `up to ${training.epochs} epochs`;
  return `Training ${label} (seed ${seed}) on ${dataset}: ${budget}, batch ${training.batchSize}, ${loss}${negatives}`;
}

export function trainingInterrupted(model: string, seed: number, epoch: number, step: number, steps: number): string {
  return `Training of ${model} (seed ${seed}) stopped at step ${step}/${steps} of epoch ${epoch}; the next run resumes from the last finished epoch checkpoint.`;
}

/** Builds the log line of a training that continues the state of a run with another epoch budget or patience. */
export function budgetVariantAdopted(source: string, epochs: number, folder: string): string {
  return `Continuing from the ${epochs}-epoch training state of ${source}, a run that differs only in training.epochs or training.patience; copied to ${folder} (the source stays as it was).`;
}

/** Builds the warning for a training state of another epoch budget or patience that cannot be continued. */
export function budgetVariantUnusable(source: string, reason: string): string {
  return `Not continuing from the training state of ${source}, a run that differs only in training.epochs or training.patience: ${reason}.`;
}

export function invalidRedisUrl(url: string): string {
  return `Invalid value for --redis: expected redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://..., received '${url}'. The password may instead come from REDIS_PASSWORD.`;
}

export function invalidShardJob(jobId: string, problem: string): string {
  return `Invalid shard job ${jobId}: ${problem}. A shard job is { config, shard: 'I/N' }, as 'malloc enqueue' creates it.`;
}

export function shardJobFinished(jobId: string, shard: string, rows: number, failed: number): string {
  return `Shard job ${jobId} (shard ${shard}) finished: ${rows} rows written, ${failed} cells failed${failed > 0 ? ' (recorded as failed rows in results.jsonl)' : ''}.`;
}

export function shardJobFailed(jobId: string, shard: string, reason: string): string {
  return `Shard job ${jobId} (shard ${shard}) failed: ${reason}`;
}

export function redisUnreachable(display: string, seconds: number, reason: string): string {
  return `Cannot connect to Redis at ${display} within ${seconds} s: ${reason}. Check the host, the port and the password (in the URL or REDIS_PASSWORD).`;
}

export function duplicateListEntry(option: string, value: string): string {
  return `Invalid ${option}: '${value}' is listed twice. List each value once; a cell is evaluated once per configuration.`;
}

export function noNewRows(cellsSkipped: number): string {
  return `No new rows were written. ${cellsSkipped} cells of this configuration were already in results.jsonl and were skipped; 'malloc report' shows them.`;
}

export function ctrNeedsLabels(dataset: string): string {
  return `Dataset '${dataset}' has neither click labels nor ratings, so the CTR task cannot label its impressions: it needs a label per interaction, or a rating that is compared with evaluation.clickThreshold (rating ≥ threshold is a click). Use a dataset with ratings, such as ml-100k, or run task 'retrieval'.`;
}

export function ctrSingleClass(what: string, positives: number, negatives: number): string {
  return `The ${what} impressions contain ${positives} clicks and ${negatives} non-clicks; AUC needs both. Evaluate more users or impressions per user.`;
}

export function invalidPrefillWindow(window: unknown): string {
  return `evaluateCells: invalid options.prefillWindow: expected an integer ≥ 1 (users prefilled per call), received ${String(window)}.`;
}

export function invalidChunkSize(chunkSize: unknown): string {
  return `Invalid evaluation.chunkSize: expected an integer ≥ 1 (items per chunk of the streaming protocol), received ${String(chunkSize)}.`;
}

export function unequalHeadsForStreamingStats(layer: number, lengths: readonly number[]): string {
  return `Streaming protocol: layer ${layer} of the compressed cache has heads of [${lengths.join(', ')}] tokens, but attention statistics need equal head lengths. Head-adaptive methods stream only with one KV head per layer; evaluate them with evaluation.protocol 'one-shot'.`;
}

/** Builds the error for a streaming cache row whose position the prefill statistics do not cover. */
export function streamingStatsRowMissing(layer: number, position: number): string {
  return `Streaming protocol: layer ${layer} of the compressed cache has a row at position ${position}, but the prefill of the history so far has no row there, so its attention statistics do not cover it. This is a bug in the model's cache bookkeeping; evaluate this model with evaluation.protocol 'one-shot'.`;
}

export function noCalibrationUsers(strategy: string): string {
  return `Cannot calibrate strategy '${strategy}': no training user has a history of at least one item. Use a dataset with longer sequences, or drop this strategy.`;
}

export function calibrated(strategy: string, setting: string, users: number, sharedBytes: number, seconds: number): string {
  return `Calibrated ${strategy}${setting === '' ? '' : ` (${setting})`} on ${users} training users in ${seconds.toFixed(1)} s; its shared state takes ${sharedBytes} B once for all users.`;
}

export function ctrOneShotOnly(protocol: string): string {
  return `The CTR task supports the one-shot protocol only (compress the history cache once, then score the impressions); received evaluation.protocol '${protocol}'. Remove evaluation.protocol or run task 'retrieval'.`;
}

/** Builds the error for a sequence-level model variant set for a model that does not implement it. */
export function sequenceVariantModel(model: string, field: string, accepted: readonly string[]): string {
  return `${field} is set, but model '${model}' does not implement it (implemented by: ${list(accepted)}); remove '${model}' from the models or run it in a separate configuration without ${field}.`;
}

/** Error for `training.trainOnValidation` in a CTR run. */
export function trainOnValidationWithCtr(): string {
  return 'training.trainOnValidation is true, but task is ctr, whose validation part is a block of impressions of its own; remove training.trainOnValidation or run the retrieval task.';
}

/** Error for `training.trainOnValidation` together with early stopping. */
export function trainOnValidationWithPatience(patience: number): string {
  return `training.trainOnValidation is true, so the validation items are training targets and cannot stop the training, but training.patience is ${patience}. Set training.patience to null and training.epochs to the budget to train, or remove training.trainOnValidation to stop early on validation.`;
}

/** Error for `model.queryTime: 'next'` together with `model.timeBias: false`. */
export function queryTimeWithoutTimeBias(): string {
  return "model.queryTime is 'next', but model.timeBias is false, so no time difference is read; remove one of the two.";
}

/** Error for `model.queryTime: 'next'` in a CTR run. */
export function queryTimeWithCtr(): string {
  return "model.queryTime is 'next', but task is ctr, whose click head scores each candidate at its own time; remove model.queryTime or run the retrieval task.";
}

/** Warning for `model.queryTime: 'next'` on data that has no timestamps. */
export function queryTimeWithoutTimestamps(dataset: string): string {
  return `model.queryTime is 'next', but dataset ${dataset} has no timestamps, so hstu-nexttime trains the same model as hstu. Use data with timestamps, such as ml-100k, to compare the two conventions.`;
}

/** Warning for `model.timeBias: false` on data that has no timestamps. */
export function timeBiasWithoutTimestamps(dataset: string): string {
  return `model.timeBias is false, but dataset ${dataset} has no timestamps, so hstu-notime trains the same model as hstu. Use data with timestamps, such as ml-100k, to measure the time bias.`;
}

/** Warning for a saved run configuration that the label check could not read. */
export function unreadableRunConfig(path: string, reason: string): string {
  return `Could not read the run configuration ${path} (${reason}), so its rows were not checked against this run's settings. Restore the file or move that run's rows to another results folder.`;
}

/** Warning for rows of one label that an earlier run trained with other settings. */
export function labelConflict(resultsPath: string, model: string, runId: string, fields: readonly string[]): string {
  return `${resultsPath} already has ${model} rows from run ${runId}, whose model was trained with other settings (${fields.join(', ')}). Row labels do not name these settings, so the report shows the two as separate models with the differing settings in their labels; write this run to another out folder to keep each results file to one configuration.`;
}

import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Logger, silentLogger } from './logger';
import { separateModelLabels } from './model-labels';
import {
  duplicateResultsFile,
  invalidArgument,
  invalidResultField,
  malformedResultsLine,
  resultsFileMissing,
  resultsPathNotFound,
  truncatedLastLine,
  unsupportedSchemaVersion,
} from './messages';

/** The results schema version that this report reads. */
export const RESULTS_SCHEMA_VERSION = 1;

/** Name of the results file inside a results directory. */
export const RESULTS_FILE_NAME = 'results.jsonl';

/** Serving phases whose latency the runner measures, in the order the table shows them. */
export const LATENCY_PHASES = ['prefill', 'compress', 'append', 'score'] as const;

/** One serving phase of {@link LATENCY_PHASES}. */
export type LatencyPhase = (typeof LATENCY_PHASES)[number];

/** Confidence interval of one metric, as the runner records it. */
export interface ConfidenceInterval {
  low: number;
  high: number;
  /** Confidence level, such as 0.95. */
  confidence: number;
}

/** Provenance fields that the site shows; every field is null when the row lacks it. */
export interface RowProvenance {
  gitCommit: string | null;
  backend: string | null;
  node: string | null;
  machine: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  configHash: string | null;
}

/**
 * One results row as the site uses it: the fields the site reads, each checked for its type.
 * Unknown fields of the input are ignored. A field that the input lacks is `''` (strings) or
 * `null` (numbers and flags), so a failed row without metrics still fits the table.
 */
export interface ResultRow {
  /** Absolute path of the results file that contains the row. */
  file: string;
  /** 1-based line number of the row in `file`. */
  line: number;
  /** `ok`, `failed`, or any other status string; only `ok` rows are plotted. */
  status: string;
  ok: boolean;
  /** Error message of a failed row; `''` when there is none. */
  error: string;
  runId: string;
  task: string;
  /** Compression protocol: `one-shot`, `streaming` or `none` (no cache), or `''` when absent. */
  protocol: string;
  dataset: string;
  model: string;
  strategy: string;
  family: string;
  granularity: string;
  /** Short label of the strategy parameters, such as `compressionRatio=0.875`; `''` for none. */
  setting: string;
  seed: number | null;
  backend: string;
  usersEvaluated: number | null;
  excludeHistory: boolean | null;
  /** Metric values by key (`hit@10`, `ndcg@10`, `mrr`, ...); a null-prototype object. */
  metrics: Readonly<Record<string, number>>;
  /** Confidence intervals by metric key; a null-prototype object, often empty. */
  confidence: Readonly<Record<string, ConfidenceInterval>>;
  /** Mean measured bytes of the stored cache per user. */
  bytesPerUser: number | null;
  /** Mean bytes of the uncompressed cache for the same users. */
  fullBytesPerUser: number | null;
  /** Measured ratio: total full bytes / total stored bytes. */
  compressionRatio: number | null;
  /** Median latency in milliseconds per phase; null where the phase does not apply. */
  latencyP50Ms: Readonly<Record<LatencyPhase, number | null>>;
  provenance: RowProvenance;
  /** Multiply-accumulate operations per request, from the optional `macsPerRequest` field; null when absent. */
  macsPerRequest: number | null;
  /** Metrics on subsets of users by slice name (`tail` is the longest 10 % of histories); a null-prototype object. */
  slices: Readonly<Record<string, ResultSlice>>;
  /** The canonical settings that trained the row's model (`training.settings`); null when the row does not record them. */
  trainedSettings: Readonly<Record<string, unknown>> | null;
  /** SHA-256 fingerprint of the evaluated data (`dataSource.fingerprint`); null when absent. */
  dataFingerprint: string | null;
}

/** Metrics of one slice of users, such as the tail users with the longest histories. */
export interface ResultSlice {
  /** Users in the slice; null when the row does not record it. */
  users: number | null;
  /** Metric values by key; a null-prototype object. */
  metrics: Readonly<Record<string, number>>;
}

/** Rows of one results file, with the lines that were ignored. */
export interface ParsedResults {
  rows: ResultRow[];
  /** Line numbers that were ignored: only a cut-short last line is ever ignored. */
  ignoredLines: number[];
}

/** Rows of several results files, in the order of the files and of their lines. */
export interface ReadResults extends ParsedResults {
  /** Absolute paths of the results files read, each once. */
  files: string[];
}

/** Location of a row, for error messages. */
interface RowContext {
  file: string;
  line: number;
}

type JsonObject = Record<string, unknown>;

/**
 * Resolves a results argument to the path of its results file: a directory stands for the
 * `results.jsonl` inside it, and any other path must be the file itself.
 *
 * @param path - A results directory or the path of a results file.
 * @returns The absolute path of the results file.
 * @throws Error when the path does not exist or the directory has no results.jsonl.
 */
export async function resolveResultsFile(path: string): Promise<string> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new Error(resultsPathNotFound(absolute), { cause: error });
  });
  if (!info.isDirectory()) {
    return absolute;
  }

  const file = join(absolute, RESULTS_FILE_NAME);
  const fileInfo = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new Error(resultsFileMissing(absolute), { cause: error });
  });
  if (!fileInfo.isFile()) {
    throw new Error(resultsFileMissing(absolute));
  }
  return file;
}

/**
 * Reads the rows of several results files. A path that names the same file as an earlier
 * one is read once, so passing a directory and its results.jsonl does not double the rows.
 * Rows that share a model label but come from models trained with different settings get
 * separate labels ({@link separateModelLabels}), so that their seeds are never averaged together.
 *
 * @param paths - Results directories or results.jsonl paths; at least one.
 * @param logger - Receives a warning for each ignored line and duplicate path.
 * @throws RangeError when `paths` is empty.
 * @throws Error when a path does not exist; SyntaxError or TypeError from {@link parseResultsText}.
 */
export async function readResultsFiles(paths: readonly string[], logger: Logger = silentLogger): Promise<ReadResults> {
  if (!Array.isArray(paths) || paths.length === 0) {
    throw new RangeError(invalidArgument('readResultsFiles', 'paths', 'a non-empty array of results directories or results.jsonl paths', paths));
  }

  // Resolve every argument first, so that a missing path fails before any parsing.
  const files: string[] = [];
  for (const path of paths) {
    if (typeof path !== 'string' || path === '') {
      throw new TypeError(invalidArgument('readResultsFiles', 'paths', 'non-empty strings', path));
    }
    const file = await resolveResultsFile(path);
    if (files.includes(file)) {
      logger.warn(duplicateResultsFile(file));
      continue;
    }
    files.push(file);
  }

  // Parse each file in argument order.
  const rows: ResultRow[] = [];
  const ignoredLines: number[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const parsed = parseResultsText(text, file, logger);
    rows.push(...parsed.rows);
    ignoredLines.push(...parsed.ignoredLines);
  }
  return { rows: separateModelLabels(rows, logger), ignoredLines, files };
}

/**
 * Parses the text of a results file: one JSON object per line, blank lines skipped.
 *
 * A last line without a newline that is not valid JSON is the trace of an interrupted
 * append, so it is ignored with a warning, as the runner's reader does. Any other malformed
 * line throws.
 *
 * @param text - Contents of the file; a leading byte-order mark and CRLF line ends are accepted.
 * @param file - Path of the file, used in messages and stored in each row.
 * @param logger - Receives a warning for an ignored last line.
 * @throws SyntaxError naming the file and line when a line is not valid JSON.
 * @throws TypeError or RangeError naming the file, line and field from {@link parseResultRow}.
 */
export function parseResultsText(text: string, file: string, logger: Logger = silentLogger): ParsedResults {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split('\n');
  const rows: ResultRow[] = [];
  const ignoredLines: number[] = [];

  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index].endsWith('\r') ? lines[index].slice(0, -1) : lines[index];
    if (line.trim() === '') {
      continue;
    }

    // Parse the JSON; only the last line, which has no newline after it, may be cut short.
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      const isLastLine = index === lines.length - 1;
      if (isLastLine) {
        logger.warn(truncatedLastLine(file, lineNumber));
        ignoredLines.push(lineNumber);
        continue;
      }
      throw new SyntaxError(malformedResultsLine(file, lineNumber, (error as Error).message), { cause: error });
    }

    rows.push(parseResultRow(value, { file, line: lineNumber }));
  }
  return { rows, ignoredLines };
}

/**
 * Checks one parsed JSON value against the fields the site reads and returns the row.
 * `schemaVersion`, `status`, `dataset`, `model` and `strategy` are required; every other field
 * is optional, but a field that is present must have the documented type.
 *
 * @param value - One parsed line of a results file.
 * @param context - File and 1-based line of the value, used in messages.
 * @throws TypeError naming the file, line and field when a field has the wrong type.
 * @throws RangeError when `schemaVersion` is not 1 or a byte count or user count is negative.
 */
export function parseResultRow(value: unknown, context: RowContext): ResultRow {
  if (!isObject(value)) {
    throw new TypeError(invalidResultField(context.file, context.line, '(row)', 'a JSON object', value));
  }
  if (value.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    throw new RangeError(unsupportedSchemaVersion(context.file, context.line, RESULTS_SCHEMA_VERSION, value.schemaVersion));
  }

  // Identity of the row.
  const status = requiredString(value, 'status', context);
  const identity = {
    status,
    ok: status === 'ok',
    error: optionalString(value, 'error', context) ?? '',
    runId: optionalString(value, 'runId', context) ?? '',
    task: optionalString(value, 'task', context) ?? '',
    protocol: optionalString(value, 'protocol', context) ?? '',
    dataset: requiredString(value, 'dataset', context),
    model: requiredString(value, 'model', context),
    strategy: requiredString(value, 'strategy', context),
    family: optionalString(value, 'family', context) ?? '',
    granularity: optionalString(value, 'granularity', context) ?? '',
    setting: optionalString(value, 'setting', context) ?? formatSetting(readParams(value, context)),
    seed: optionalNumber(value, 'seed', context),
    backend: optionalString(value, 'backend', context) ?? '',
    usersEvaluated: optionalCount(value, 'usersEvaluated', context),
    excludeHistory: optionalBoolean(value, 'excludeHistory', context),
  };

  // Measurements.
  return {
    file: context.file,
    line: context.line,
    ...identity,
    metrics: readMetrics(value, context),
    confidence: readConfidence(value, context),
    bytesPerUser: optionalCount(value, 'bytesPerUser', context),
    fullBytesPerUser: optionalCount(value, 'fullBytesPerUser', context),
    compressionRatio: optionalNumber(value, 'compressionRatio', context),
    latencyP50Ms: readLatency(value, context),
    provenance: readProvenance(value, context),
    macsPerRequest: optionalCount(value, 'macsPerRequest', context),
    slices: readSlices(value, context),
    trainedSettings: readTrainedSettings(value, context),
    dataFingerprint: readDataFingerprint(value, context),
  };
}

/**
 * Formats strategy parameters as a short label, `key=value` joined by commas in key order,
 * for rows that carry `params` but no `setting`.
 */
export function formatSetting(params: Readonly<Record<string, unknown>>): string {
  return Object.keys(params)
    .sort()
    .map((key) => {
      const value = params[key];
      return `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
    })
    .join(',');
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(object: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

function requiredString(object: JsonObject, field: string, context: RowContext): string {
  const value = own(object, field);
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(invalidResultField(context.file, context.line, field, 'a non-empty string', value));
  }
  return value;
}

function optionalString(object: JsonObject, field: string, context: RowContext, path = field): string | null {
  const value = own(object, field);
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    throw new TypeError(invalidResultField(context.file, context.line, path, 'a string', value));
  }
  return value;
}

function optionalNumber(object: JsonObject, field: string, context: RowContext, path = field): number | null {
  const value = own(object, field);
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(invalidResultField(context.file, context.line, path, 'a finite number', value));
  }
  return value;
}

/** Reads a count (bytes, users), which may not be negative. */
function optionalCount(object: JsonObject, field: string, context: RowContext): number | null {
  const value = optionalNumber(object, field, context);
  if (value !== null && value < 0) {
    throw new RangeError(invalidResultField(context.file, context.line, field, 'a number >= 0', value));
  }
  return value;
}

function optionalBoolean(object: JsonObject, field: string, context: RowContext): boolean | null {
  const value = own(object, field);
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'boolean') {
    throw new TypeError(invalidResultField(context.file, context.line, field, 'true or false', value));
  }
  return value;
}

function optionalObject(object: JsonObject, field: string, context: RowContext, path = field): JsonObject | null {
  const value = own(object, field);
  if (value === undefined || value === null) {
    return null;
  }
  if (!isObject(value)) {
    throw new TypeError(invalidResultField(context.file, context.line, path, 'a JSON object', value));
  }
  return value;
}

/** Reads `training.settings`, the run's `model` and `training` sections that the runner records in each row. */
function readTrainedSettings(row: JsonObject, context: RowContext): Record<string, unknown> | null {
  const training = optionalObject(row, 'training', context);
  return training === null ? null : optionalObject(training, 'settings', context, 'training.settings');
}

function readDataFingerprint(row: JsonObject, context: RowContext): string | null {
  const source = optionalObject(row, 'dataSource', context);
  return source === null ? null : optionalString(source, 'fingerprint', context, 'dataSource.fingerprint');
}

function readParams(row: JsonObject, context: RowContext): Record<string, unknown> {
  return optionalObject(row, 'params', context) ?? {};
}

function readMetrics(row: JsonObject, context: RowContext): Record<string, number> {
  const metrics: Record<string, number> = Object.create(null);
  const input = optionalObject(row, 'metrics', context);
  for (const key of Object.keys(input ?? {})) {
    const value = optionalNumber(input as JsonObject, key, context, `metrics.${key}`);
    if (value !== null) {
      metrics[key] = value;
    }
  }
  return metrics;
}

function readSlices(row: JsonObject, context: RowContext): Record<string, ResultSlice> {
  const slices: Record<string, ResultSlice> = Object.create(null);
  const input = optionalObject(row, 'slices', context);
  for (const name of Object.keys(input ?? {})) {
    const path = `slices.${name}`;
    const slice = optionalObject(input as JsonObject, name, context, path);
    if (slice === null) {
      continue;
    }
    const metrics: Record<string, number> = Object.create(null);
    const values = optionalObject(slice, 'metrics', context, `${path}.metrics`);
    for (const key of Object.keys(values ?? {})) {
      const value = optionalNumber(values as JsonObject, key, context, `${path}.metrics.${key}`);
      if (value !== null) {
        metrics[key] = value;
      }
    }
    slices[name] = { users: optionalNumber(slice, 'users', context, `${path}.users`), metrics };
  }
  return slices;
}

function readConfidence(row: JsonObject, context: RowContext): Record<string, ConfidenceInterval> {
  const intervals: Record<string, ConfidenceInterval> = Object.create(null);
  const input = optionalObject(row, 'confidence', context);
  for (const key of Object.keys(input ?? {})) {
    const path = `confidence.${key}`;
    const interval = optionalObject(input as JsonObject, key, context, path);
    if (interval === null) {
      continue;
    }
    const low = optionalNumber(interval, 'low', context, `${path}.low`);
    const high = optionalNumber(interval, 'high', context, `${path}.high`);
    const level = optionalNumber(interval, 'confidence', context, `${path}.confidence`);
    if (low === null || high === null || level === null) {
      throw new TypeError(invalidResultField(context.file, context.line, path, 'an object with numbers low, high and confidence', interval));
    }
    intervals[key] = { low, high, confidence: level };
  }
  return intervals;
}

function readLatency(row: JsonObject, context: RowContext): Record<LatencyPhase, number | null> {
  const latency = optionalObject(row, 'latencyMs', context);
  const p50 = {} as Record<LatencyPhase, number | null>;
  for (const phase of LATENCY_PHASES) {
    const summary = latency === null ? null : optionalObject(latency, phase, context, `latencyMs.${phase}`);
    p50[phase] = summary === null ? null : optionalNumber(summary, 'p50', context, `latencyMs.${phase}.p50`);
  }
  return p50;
}

function readProvenance(row: JsonObject, context: RowContext): RowProvenance {
  const provenance = optionalObject(row, 'provenance', context);
  const read = (field: string): string | null => (provenance === null ? null : optionalString(provenance, field, context, `provenance.${field}`));
  return {
    gitCommit: read('gitCommit'),
    backend: read('backend'),
    node: read('node'),
    machine: read('machine'),
    startedAt: read('startedAt'),
    finishedAt: read('finishedAt'),
    configHash: read('configHash'),
  };
}

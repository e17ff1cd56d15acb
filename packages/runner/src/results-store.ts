import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import { invalidResultRow, malformedResultsLine, refusingOverwrite } from './messages';
import resultsSchema from './results-schema.json';

/** Latency of one phase in milliseconds, or null when the phase does not apply. */
export type PhaseLatency = { p50: number; p95: number; p99: number; mean: number; firstMs: number | null; count: number } | null;

/** Impressions, labels and GAUC user counts behind the metrics of a CTR row. */
export interface CtrRowDetails {
  /** Impressions held out per user (the user's last interactions). */
  impressionsPerUser: number;
  /** Impressions scored over all evaluated users. */
  impressions: number;
  /** Fraction of the impressions that are clicks. */
  clickRate: number;
  /** `labels`: the dataset's label column; `ratings`: rating ≥ `clickThreshold`. */
  labelSource: 'labels' | 'ratings';
  clickThreshold: number | null;
  /** Users whose impressions have both labels, who enter GAUC. */
  gaucUsersUsed: number;
  /** Users whose impressions all have one label, left out of GAUC. */
  gaucUsersSkipped: number;
}

/** One line of results.jsonl; results-schema.json is the normative description. */
export interface ResultRow {
  schemaVersion: 1;
  runId: string;
  cellKey: string;
  status: 'ok' | 'failed';
  error?: string;
  task: 'retrieval' | 'ctr';
  protocol: 'one-shot' | 'streaming' | 'none';
  dataset: string;
  model: string;
  strategy: string;
  family: string;
  granularity: string;
  params: Record<string, number | string | boolean>;
  setting: string;
  seed: number;
  backend: 'tensorflow' | 'wasm' | 'cpu';
  usersEvaluated: number;
  usersSkipped?: number;
  excludeHistory: boolean;
  metrics?: Record<string, number>;
  /** Impressions, labels and GAUC user counts of a CTR row. */
  ctr?: CtrRowDetails;
  confidence?: Record<string, { low: number; high: number; confidence: number; resamples: number }>;
  pairedVsFull?: Record<string, { meanDifference: number; pValue: number; n: number; method: string }>;
  slices?: Record<string, { users: number; metrics: Record<string, number> }>;
  bytesPerUser?: number;
  fullBytesPerUser?: number;
  compressionRatio?: number;
  declaredRatio?: number | null;
  meanCachedTokens?: number;
  /** Streaming protocol: history items per chunk. */
  chunkSize?: number;
  /** Streaming protocol: the most tokens one head stored after any chunk's compression. */
  maxCachedTokens?: number;
  /** Mean analytical MACs of one request over the evaluated users. */
  macsPerRequest?: number;
  /** Methods with calibration: training users whose caches fitted the shared state. */
  calibrationUsers?: number;
  /** Methods with calibration: bytes of the shared state, stored once for all users. */
  basisBytes?: number;
  latencyMs?: { prefill: PhaseLatency; compress: PhaseLatency; append: PhaseLatency; score: PhaseLatency };
  training?: Record<string, unknown>;
  dataSource?: Record<string, unknown>;
  provenance: {
    gitCommit: string | null;
    packages: Record<string, string>;
    backend: string;
    node: string;
    machine: string;
    startedAt: string;
    finishedAt: string;
    configHash: string;
  };
}

// strictRequired is off because the if/then branch requires keys declared at the top level.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validateRow = ajv.compile(resultsSchema);

/** The JSON Schema of a results row, as shipped in the package. */
export const RESULTS_SCHEMA: Readonly<Record<string, unknown>> = resultsSchema;

/** Lists what is wrong with a row against results-schema.json; empty when the row is valid. */
export function resultRowProblems(row: unknown): string[] {
  if (validateRow(row)) {
    return [];
  }
  return (validateRow.errors ?? []).map((error) => `${error.instancePath || '(row)'} ${error.message ?? 'is invalid'} ${JSON.stringify(error.params)}`);
}

/**
 * Appends one row to `<out>/results.jsonl` with a single write followed by fsync. The file is
 * never truncated or rewritten; a row that fails the schema is rejected before any write.
 *
 * @throws TypeError when the row does not match the schema.
 */
export function appendResultRow(path: string, row: ResultRow): void {
  const problems = resultRowProblems(row);
  if (problems.length > 0) {
    throw new TypeError(invalidResultRow(problems));
  }
  mkdirSync(dirname(path), { recursive: true });

  // A crash can leave a last line without its newline; start on a fresh line then.
  const needsNewline = existsSync(path) && !endsWithNewline(path);
  const line = `${needsNewline ? '\n' : ''}${JSON.stringify(row)}\n`;
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function endsWithNewline(path: string): boolean {
  const text = readFileSync(path);
  return text.length === 0 || text[text.length - 1] === 0x0a;
}

/** Rows read back from a results file, with the count of unreadable lines. */
export interface ReadResults {
  rows: ResultRow[];
  /** A last line cut short by a crash (no newline, not valid JSON); it is ignored, not removed. */
  truncatedLastLine: boolean;
}

/**
 * Reads `results.jsonl`. A malformed line in the middle throws an error naming the file and
 * line. Only a truncated last line, the trace of an interrupted write, is skipped and reported.
 */
export function readResults(path: string): ReadResults {
  if (!existsSync(path)) {
    return { rows: [], truncatedLastLine: false };
  }
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const rows: ResultRow[] = [];
  let truncatedLastLine = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') {
      continue;
    }
    try {
      rows.push(JSON.parse(line) as ResultRow);
    } catch (error) {
      const isLast = i === lines.length - 1;
      if (isLast) {
        truncatedLastLine = true;
        continue;
      }
      throw new Error(malformedResultsLine(path, i + 1, (error as Error).message));
    }
  }
  return { rows, truncatedLastLine };
}

/**
 * Writes a file atomically (temporary file, fsync, rename) and never replaces an existing
 * one: run folders are unique, so an existing file means a logic error.
 *
 * @throws Error when the file already exists.
 */
export function writeNewFileAtomic(path: string, text: string): void {
  if (existsSync(path)) {
    throw new Error(refusingOverwrite(path));
  }
  mkdirSync(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(temporary, 'wx');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

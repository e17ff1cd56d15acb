import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from './logger';
import { mergeConfigMismatch, mergeConflict, mergeInputMissing, mergeNoInputs, mergeTargetExists } from './messages';
import { readResults, writeNewFileAtomic, type ResultRow } from './results-store';

/** Outcome of {@link mergeResults}. */
export interface MergeOutcome {
  resultsPath: string;
  rows: ResultRow[];
  /** Rows left out because an identical row of the same cell was already kept. */
  duplicates: number;
  /** Failed rows left out because the same cell has an ok row. */
  failedReplaced: number;
}

/**
 * Fields that differ between two runs of the same cell without changing its result: the run
 * id, the provenance (times, machine), the latencies and the training time and reuse flag.
 */
const VOLATILE_FIELDS = new Set(['runId', 'provenance', 'latencyMs', 'training']);

interface Located {
  row: ResultRow;
  where: string;
}

/**
 * Joins the results of shard runs into a new `<into>/results.jsonl`. Every input is a shard's
 * `--out` folder or a results.jsonl file. All rows must share one configuration hash. For each
 * cell the ok row wins, and a failed row of a cell that also has an ok row is left out. Two rows
 * of one cell must agree on every field except the run id, provenance, latencies and training
 * time. An identical second row is left out.
 *
 * @throws RangeError when no input is given, an input does not exist, `<into>/results.jsonl`
 *   already exists, two rows have different configuration hashes, or two rows of one cell
 *   differ; the message names both files and lines.
 */
export function mergeResults(into: string, inputs: readonly string[], logger: Logger): MergeOutcome {
  if (inputs.length === 0) {
    throw new RangeError(mergeNoInputs());
  }
  const resultsPath = join(resolve(into), 'results.jsonl');
  if (existsSync(resultsPath)) {
    throw new RangeError(mergeTargetExists(resultsPath));
  }

  // Read every input with the file and line of each row.
  const located: Located[] = [];
  for (const input of inputs) {
    const path = existsSync(input) && statSync(input).isDirectory() ? join(input, 'results.jsonl') : input;
    if (!existsSync(path)) {
      throw new RangeError(mergeInputMissing(path));
    }
    const { rows, lines } = readResultsWithLines(path);
    rows.forEach((row, i) => located.push({ row, where: `${path}:${lines[i]}` }));
  }

  // One configuration for all rows.
  const first = located[0];
  for (const entry of located) {
    if (entry.row.provenance.configHash !== first.row.provenance.configHash) {
      throw new RangeError(mergeConfigMismatch(first.where, first.row.provenance.configHash, entry.where, entry.row.provenance.configHash));
    }
  }

  // One row per cell: ok before failed, and rows of one status must agree.
  const byCell = new Map<string, Located>();
  let duplicates = 0;
  let failedReplaced = 0;
  for (const entry of located) {
    const kept = byCell.get(entry.row.cellKey);
    if (kept === undefined) {
      byCell.set(entry.row.cellKey, entry);
      continue;
    }
    if (kept.row.status !== entry.row.status) {
      failedReplaced++;
      if (entry.row.status === 'ok') {
        byCell.set(entry.row.cellKey, entry);
      }
      continue;
    }
    const fields = differingFields(kept.row, entry.row);
    if (fields.length > 0) {
      throw new RangeError(mergeConflict(entry.row.cellKey, kept.where, entry.where, fields));
    }
    duplicates++;
  }

  // Written once, atomically, in the order the cells were first seen.
  const rows = [...byCell.values()].map((entry) => entry.row);
  writeNewFileAtomic(resultsPath, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
  logger.info(`Merged ${rows.length} rows from ${inputs.length} inputs into ${resultsPath} (${duplicates} identical duplicates and ${failedReplaced} failed rows with an ok rerun left out)`);
  return { resultsPath, rows, duplicates, failedReplaced };
}

/** Top-level fields whose values differ between two rows, ignoring the volatile ones. */
function differingFields(a: ResultRow, b: ResultRow): string[] {
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].filter((key) => !VOLATILE_FIELDS.has(key) && JSON.stringify(left[key]) !== JSON.stringify(right[key])).sort();
}

/** Rows of a results file with the 1-based line number of each. */
function readResultsWithLines(path: string): { rows: ResultRow[]; lines: number[] } {
  const { rows } = readResults(path);
  const lines: number[] = [];
  const text = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < text.length && lines.length < rows.length; i++) {
    if (text[i].trim() !== '') {
      lines.push(i + 1);
    }
  }
  return { rows, lines };
}

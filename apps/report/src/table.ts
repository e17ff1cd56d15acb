import { basename, dirname } from 'node:path';
import { accuracyIntervalText, accuracyMetric, accuracyOf } from './accuracy';
import type { CsvCell } from './csv';
import { LATENCY_PHASES, LatencyPhase, ResultRow } from './results';

/** One column of the results table: how to read a row's value and how to show it. */
export interface TableColumn {
  /** Column heading in the HTML table. */
  header: string;
  /** Column name in the CSV file. */
  csvHeader: string;
  /** Whether the column contains numbers, which the table right-aligns and sorts by value. */
  numeric: boolean;
  /** Whether the page shows the column before the reader picks columns; the compact default set. */
  shownByDefault: boolean;
  /** Exact value for the CSV file and the cell's tooltip; null when the row lacks it. */
  value(row: ResultRow): CsvCell;
  /** Text of the HTML cell (rounded for reading); `''` when the row lacks the value. */
  text(row: ResultRow): string;
}

/**
 * Columns of the results table, in order. Columns for CTR metrics, families and slices come
 * after the first 21, so scripts that read results.csv by position keep working. The page
 * shows the columns with `shownByDefault` until the reader picks others, so the table fits a
 * laptop screen without scrolling sideways. Metrics show 4 decimals, bytes are grouped by
 * thousands, the measured ratio shows 2 decimals and latencies show 2 decimals in ms. The
 * exact value of each number is in the CSV file and in the cell's `title`.
 */
export const TABLE_COLUMNS: readonly TableColumn[] = [
  textColumn('status', 'status', (row) => row.status),
  textColumn('dataset', 'dataset', (row) => row.dataset),
  textColumn('model', 'model', (row) => row.model),
  textColumn('strategy', 'strategy', (row) => row.strategy),
  textColumn('setting', 'setting', (row) => row.setting),
  textColumn('protocol', 'protocol', (row) => row.protocol),
  numberColumn('seed', 'seed', (row) => row.seed, String, false),
  numberColumn('users', 'usersEvaluated', (row) => row.usersEvaluated, formatGrouped, false),
  metricColumn('hit@10', false),
  metricColumn('ndcg@10', false),
  metricColumn('hit@50', false),
  metricColumn('ndcg@50', false),
  metricColumn('mrr', false),
  numberColumn('bytes/user', 'bytesPerUser', (row) => row.bytesPerUser, formatGrouped),
  numberColumn('measured ratio', 'compressionRatio', (row) => row.compressionRatio, (value) => `${value.toFixed(2)}×`),
  ...LATENCY_PHASES.map((phase) => latencyColumn(phase, false)),
  textColumn('backend', 'backend', (row) => row.backend, false),
  textColumn('run', 'runId', (row) => row.runId, false),
  textColumn('task', 'task', (row) => row.task, false),
  textColumn('family', 'family', (row) => row.family, false),
  textColumn('accuracy metric', 'accuracyMetric', (row) => accuracyMetric(row.task), false),
  numberColumn('accuracy', 'accuracy', accuracyOf, (value) => value.toFixed(4)),
  {
    header: 'accuracy CI',
    csvHeader: 'accuracyInterval',
    numeric: false,
    shownByDefault: true,
    value: accuracyIntervalText,
    text: (row) => {
      const interval = row.confidence[accuracyMetric(row.task)];
      return interval === undefined ? '' : `${interval.low.toFixed(4)}–${interval.high.toFixed(4)}`;
    },
  },
  metricColumn('auc', false),
  metricColumn('gauc', false),
  metricColumn('logloss', false),
  numberColumn('tail accuracy', 'tailAccuracy', (row) => row.slices.tail?.metrics[accuracyMetric(row.task)] ?? null, (value) => value.toFixed(4), false),
  numberColumn('MACs/request', 'macsPerRequest', (row) => row.macsPerRequest, formatGrouped, false),
];

/** Extra CSV columns after {@link TABLE_COLUMNS}: the error of a failed row and where the row was read. */
export const TABLE_CSV_EXTRA_HEADER: readonly string[] = ['error', 'gitCommit', 'configHash', 'source'];

/**
 * Orders rows for the results table: by dataset, then ok rows before the others, then
 * NDCG@10 descending with rows that lack it last. Rows that tie keep their input order.
 */
export function sortRowsForTable(rows: readonly ResultRow[]): ResultRow[] {
  const ndcg = (row: ResultRow): number => row.metrics['ndcg@10'] ?? -Infinity;
  return rows
    .map((row, index) => ({ row, index }))
    .sort(
      (a, b) =>
        compareStrings(a.row.dataset, b.row.dataset) ||
        Number(b.row.ok) - Number(a.row.ok) ||
        compareNumbersDescending(ndcg(a.row), ndcg(b.row)) ||
        a.index - b.index,
    )
    .map((entry) => entry.row);
}

/** Header of the results CSV: the table's columns, then {@link TABLE_CSV_EXTRA_HEADER}. */
export function tableCsvHeader(): string[] {
  return [...TABLE_COLUMNS.map((column) => column.csvHeader), ...TABLE_CSV_EXTRA_HEADER];
}

/** Cells of the results CSV, one row per results row, with exact values. */
export function tableCsvRows(rows: readonly ResultRow[]): CsvCell[][] {
  return rows.map((row) => [
    ...TABLE_COLUMNS.map((column) => column.value(row)),
    row.error,
    row.provenance.gitCommit,
    row.provenance.configHash,
    sourceLabel(row),
  ]);
}

/**
 * Names where a row was read as `<folder>/<file>:<line>`, such as `run-1/results.jsonl:3`.
 * Only the last folder is kept, so a published site does not show local paths.
 */
export function sourceLabel(row: ResultRow): string {
  return `${basename(dirname(row.file))}/${basename(row.file)}:${row.line}`;
}

/** Formats a number with a comma between groups of three digits and at most one decimal. */
export function formatGrouped(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

function textColumn(header: string, csvHeader: string, read: (row: ResultRow) => string, shownByDefault = true): TableColumn {
  return { header, csvHeader, numeric: false, shownByDefault, value: read, text: read };
}

function numberColumn(header: string, csvHeader: string, read: (row: ResultRow) => number | null, format: (value: number) => string, shownByDefault = true): TableColumn {
  return {
    header,
    csvHeader,
    numeric: true,
    shownByDefault,
    value: read,
    text: (row) => {
      const value = read(row);
      return value === null ? '' : format(value);
    },
  };
}

function metricColumn(metric: string, shownByDefault = true): TableColumn {
  return numberColumn(metric, metric, (row) => row.metrics[metric] ?? null, (value) => value.toFixed(4), shownByDefault);
}

function latencyColumn(phase: LatencyPhase, shownByDefault: boolean): TableColumn {
  return numberColumn(`${phase} p50 ms`, `latencyMs.${phase}.p50`, (row) => row.latencyP50Ms[phase], (value) => value.toFixed(2), shownByDefault);
}

function compareStrings(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}

function compareNumbersDescending(a: number, b: number): number {
  if (a === b) {
    return 0;
  }
  return a > b ? -1 : 1;
}

import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileSha256 } from './cache';
import { DataFormatError, DatasetNotFoundError } from './errors';
import { YAMBDA_FORMAT } from './formats';
import { InteractionLogBuilder } from './interaction-log';
import type { FileLoadOptions } from './loaders';
import { emptyFile, fileNotFound, invalidArgument, invalidParquet, malformedRow, missingColumns, notAFile, stepRead, stepReadFiltered, stepRowFilter } from './messages';
import { resolvePreprocessOptions } from './options';
import { preprocessLog } from './preprocess';
import type { SequenceDataset } from './types';

/** Options of {@link loadYambda}. */
export interface YambdaLoadOptions extends FileLoadOptions {
  /**
   * Values of `event_type` to keep, such as `['listen', 'like']` in `multi_event.parquet`.
   * Rows of other types are removed and counted in `report.steps`. Requires an `event_type`
   * column. Default value: every row.
   */
  eventTypes?: readonly string[];
  /**
   * `'organic'` keeps rows with `is_organic` = 1, `'recommended'` those with 0, `'all'` every
   * row. Removed rows are counted in `report.steps`. Default value: `'all'`.
   */
  organic?: 'all' | 'organic' | 'recommended';
}

/** The subset of hyparquet 1.33 that the loader uses, typed loosely at the module boundary. */
type Hyparquet = typeof import('hyparquet', { with: { 'resolution-mode': 'import' } });
type AsyncBuffer = Awaited<ReturnType<Hyparquet['asyncBufferFromFile']>>;
type FileMetaData = Awaited<ReturnType<Hyparquet['parquetMetadataAsync']>>;

/** Column values of one row group, in row order. */
type ColumnValues = ArrayLike<unknown>;

/**
 * Loads a Yambda interaction file (Parquet, from https://huggingface.co/datasets/yandex/yambda)
 * as chronological sequences.
 *
 * The file is read one row group at a time with hyparquet, so memory contains one row group's
 * columns plus the growing interaction arrays, never a copy of the whole file. Columns are
 * found by name: `uid`, `item_id` and `timestamp` are required, and `event_type` and
 * `is_organic` are read when a filter needs them. Every row removed by a filter is counted
 * in `report.steps` and `source.params`.
 *
 * @see "Yambda-5B — A Large-Scale Multi-modal Dataset for Ranking And Retrieval", Yandex,
 *   arXiv:2505.22238, 2025. The data is published under the Apache-2.0 licence.
 * @param path - A Yambda `.parquet` file, for example `flat/50m/multi_event.parquet`.
 * @param options - Event-type and organic filters, preprocessing options and the dataset name.
 * @throws DataFormatError when the file is not Parquet, lacks a required column, has no rows,
 *   or a row has a negative, fractional or missing id or timestamp. The message names the
 *   file, the 1-based row, the problem and the expected format.
 * @throws DatasetNotFoundError when the file is missing.
 * @throws RangeError for an invalid option.
 * @example
 * ```ts
 * const listens = await loadYambda('/data/yambda/flat/50m/multi_event.parquet', { eventTypes: ['listen'], minUserInteractions: 5 });
 * ```
 */
export async function loadYambda(path: string, options: YambdaLoadOptions = {}): Promise<SequenceDataset> {
  // Options.
  const where = 'loadYambda';
  const resolved = resolvePreprocessOptions(where, options);
  const eventTypes = options.eventTypes === undefined ? null : new Set(checkEventTypes(where, options.eventTypes));
  const organic = options.organic ?? 'all';
  if (organic !== 'all' && organic !== 'organic' && organic !== 'recommended') {
    throw new RangeError(invalidArgument(where, 'organic', "'all', 'organic' or 'recommended'", organic));
  }
  const absolute = resolve(path);
  const name = options.name ?? basename(path);

  // File and footer.
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new DatasetNotFoundError(fileNotFound(name, absolute), name, [absolute]);
    }
    throw error;
  });
  if (!info.isFile()) {
    throw new DatasetNotFoundError(notAFile(name, absolute), name, [absolute]);
  }
  const hyparquet = await import('hyparquet');
  const file = await hyparquet.asyncBufferFromFile(absolute);
  const metadata = await readMetadata(hyparquet, file, absolute);

  // Columns by name.
  const present = new Set(metadata.schema.slice(1).map((element) => element.name));
  const columns = YAMBDA_FORMAT.columns;
  const needed: string[] = [columns.user, columns.item, columns.timestamp];
  if (eventTypes !== null) {
    needed.push(columns.eventType);
  }
  if (organic !== 'all') {
    needed.push(columns.organic);
  }
  const missing = needed.filter((column) => !present.has(column));
  if (missing.length > 0) {
    throw new DataFormatError(malformedRow(absolute, 0, missingColumns(missing), YAMBDA_FORMAT.description, [...present].join(',')), absolute, 0, [...present].join(','));
  }

  // Row groups, one at a time.
  const builder = new InteractionLogBuilder(true, false);
  const counts = { rows: 0, otherEventTypes: 0, otherOrigin: 0 };
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    const values = await readRowGroup(hyparquet, file, metadata, needed, groupStart, groupStart + groupRows);
    for (let row = 0; row < groupRows; row++) {
      const rowNumber = groupStart + row + 1;
      counts.rows++;

      // Filters, counted.
      if (eventTypes !== null && !eventTypes.has(String(values[columns.eventType][row]))) {
        counts.otherEventTypes++;
        continue;
      }
      if (organic !== 'all' && toNumber(values[columns.organic][row]) !== (organic === 'organic' ? 1 : 0)) {
        counts.otherOrigin++;
        continue;
      }

      // Ids and time.
      const user = toNumber(values[columns.user][row]);
      const item = toNumber(values[columns.item][row]);
      const timestamp = toNumber(values[columns.timestamp][row]);
      const problem = !isId(user) ? 'uid' : !isId(item) ? 'item_id' : !(timestamp >= 0) ? 'timestamp' : null;
      if (problem !== null) {
        const text = needed.map((column) => `${column}=${String(values[column][row])}`).join(', ');
        throw new DataFormatError(malformedRow(absolute, rowNumber, `invalid ${problem}: expected a non-negative integer`, YAMBDA_FORMAT.description, text), absolute, rowNumber, text);
      }
      builder.add(user, item, timestamp);
    }
    groupStart += groupRows;
  }

  // Report and preprocessing.
  if (counts.rows === 0) {
    throw new DataFormatError(emptyFile(absolute, YAMBDA_FORMAT.description), absolute, 0, '');
  }
  const log = builder.finish();
  const filtered = eventTypes !== null || organic !== 'all';
  const steps = [
    filtered
      ? stepReadFiltered(counts.rows, log.rowCount, log.rawUserIds.length, log.rawItemIds.length, [absolute])
      : stepRead(counts.rows, log.rawUserIds.length, log.rawItemIds.length, [absolute]),
  ];
  if (eventTypes !== null) {
    steps.push(stepRowFilter(`event_type in [${[...eventTypes].join(', ')}]`, counts.otherEventTypes, counts.rows - counts.otherEventTypes));
  }
  if (organic !== 'all') {
    steps.push(stepRowFilter(`is_organic = ${organic === 'organic' ? 1 : 0}`, counts.otherOrigin, counts.rows - counts.otherEventTypes - counts.otherOrigin));
  }
  const params = {
    eventTypes: eventTypes === null ? null : [...eventTypes],
    organic,
    rowsInFile: counts.rows,
    rowsOfOtherEventTypes: counts.otherEventTypes,
    rowsOfOtherOrigin: counts.otherOrigin,
    rowGroups: metadata.row_groups.length,
    fileBytes: info.size,
    sha256: await fileSha256(absolute),
  };
  return preprocessLog(where, log, { name, files: [absolute], format: YAMBDA_FORMAT.name, params, steps }, resolved);
}

function checkEventTypes(where: string, eventTypes: readonly string[]): readonly string[] {
  if (!Array.isArray(eventTypes) || eventTypes.length === 0 || eventTypes.some((type) => typeof type !== 'string' || type === '')) {
    throw new RangeError(invalidArgument(where, 'eventTypes', 'a non-empty array of non-empty strings', eventTypes));
  }
  return eventTypes;
}

async function readMetadata(hyparquet: Hyparquet, file: AsyncBuffer, path: string): Promise<FileMetaData> {
  try {
    return await hyparquet.parquetMetadataAsync(file);
  } catch (error) {
    throw new DataFormatError(invalidParquet(path, (error as Error).message, YAMBDA_FORMAT.description), path, 0, '');
  }
}

/** Reads the requested columns of rows `[start, end)`, one row group, as arrays in row order. */
async function readRowGroup(hyparquet: Hyparquet, file: AsyncBuffer, metadata: FileMetaData, columns: readonly string[], start: number, end: number): Promise<Record<string, ColumnValues>> {
  // Chunks arrive per column and may start before `start`; keep each with its first row.
  const chunks = new Map<string, Array<{ rowStart: number; data: ColumnValues }>>(columns.map((column) => [column, []]));
  await hyparquet.parquetRead({
    file,
    metadata,
    columns: [...columns],
    rowStart: start,
    rowEnd: end,
    onChunk: (chunk) => chunks.get(chunk.columnName)?.push({ rowStart: chunk.rowStart, data: chunk.columnData }),
  });

  // One array per column with exactly the rows of the group.
  const values: Record<string, ColumnValues> = {};
  for (const column of columns) {
    const parts = chunks.get(column) ?? [];
    const merged: unknown[] = new Array<unknown>(end - start);
    for (const part of parts) {
      for (let k = 0; k < part.data.length; k++) {
        const row = part.rowStart + k;
        if (row >= start && row < end) {
          merged[row - start] = part.data[k];
        }
      }
    }
    values[column] = merged;
  }
  return values;
}

function toNumber(value: unknown): number {
  if (typeof value === 'bigint') {
    return Number(value);
  }
  return typeof value === 'number' ? value : Number.NaN;
}

function isId(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

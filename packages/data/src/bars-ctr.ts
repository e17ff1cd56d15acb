import { basename, dirname, resolve } from 'node:path';
import { DataFormatError } from './errors';
import { KUAIVIDEO_X1_FORMAT, MICROVIDEO_X1_FORMAT, otherSeparator, separatorName } from './formats';
import { InteractionLogBuilder } from './interaction-log';
import type { FileLoadOptions } from './loaders';
import {
  emptyFile,
  invalidArgument,
  invalidHistoryEntry,
  invalidId,
  invalidLabel,
  invalidTimestamp,
  malformedLine,
  missingColumns,
  stepBlankLines,
  stepLabels,
  stepRead,
  stepReadFiles,
  wrongFieldCount,
  wrongSeparator,
} from './messages';
import { resolvePreprocessOptions } from './options';
import { checkRatingThreshold, preprocessLog } from './preprocess';
import { parseDecimal, parseId, readLines, type FileReadSummary } from './text-reader';
import type { SequenceDataset } from './types';

/**
 * A CTR file of the BARS benchmark (FuxiCTR CSV): a header row, comma-separated fields, one
 * labelled impression per line, and history columns that join ids with a separator.
 */
export interface BarsCtrFormat {
  /** Format name recorded in `source.format`. */
  readonly name: string;
  /** Field separator. */
  readonly separator: string;
  /** Separator of the entries of a history column. */
  readonly historySeparator: string;
  /** Header names of the user, item, time and 0/1 click label columns. */
  readonly columns: { readonly user: string; readonly item: string; readonly timestamp: string; readonly label: string };
  /** History columns whose entries are checked when the header has them; they are not read. */
  readonly historyColumns: readonly string[];
  /** The expected format in words, quoted by errors. */
  readonly description: string;
}

/** One file or several files of one dataset, read in this order (for example train, then test). */
export type CtrFilePaths = string | readonly string[];

/** Separators that a history field may use by mistake, with their names in messages. */
const OTHER_HISTORY_SEPARATORS: ReadonlyArray<readonly [string, string]> = [
  ['\u0002', 'U+0002'],
  ['|', "'|'"],
  [';', 'semicolons'],
  [':', 'colons'],
  [' ', 'spaces'],
  ['\t', 'tabs'],
];

const OTHER_SEPARATOR_BYTES = new Set(OTHER_HISTORY_SEPARATORS.map(([separator]) => separator.charCodeAt(0)));

const MINUS = 0x2d;

/**
 * Loads MicroVideo-1.7M in the form of the BARS benchmark (`MicroVideo1.7M_x1/train.csv` and
 * `test.csv`) as per-user chronological impressions with click labels.
 *
 * Each line is one impression. Columns are found by header name: `user_id`, `item_id`,
 * `timestamp` and `is_click` (0 or 1, kept in `dataset.labels`, never a filter). The history
 * columns `clicked_items` and `clicked_categories` must hold non-empty ids joined by `^`, but
 * they are not read, because the impressions themselves already contain each user's clicks.
 * `cate_id` and the cover-image embeddings (`item_image_emb_dim64.h5`) are not read. Rows of a
 * user are sorted by `timestamp` (stable, so ties keep the file order, train before test).
 * `source.params` counts the rows of each file and the clicked and non-clicked rows.
 *
 * Sources of the format: the BARS dataset page `datasets/MicroVideo1.7M/README.md` of
 * https://github.com/reczoo/BARS (12,737,617 rows: 8,970,309 train, 3,767,308 test), and the
 * FuxiCTR dataset configuration of MicroVideo1.7M_x1 used by the BARS DMIN benchmark
 * (`splitter: ^` on the two history columns, label column `is_click`).
 *
 * NOTE: the timestamps are stored in the unit of the file, which the sources do not state, so
 * only their order is meaningful. Time cuts in seconds (`temporalSplit`) do not apply.
 *
 * @see Xusong Chen et al., "Temporal Hierarchical Attention at Category- and Item-Level for
 *   Micro-Video Click-Through Prediction", ACM MM 2018 (THACIL, https://github.com/whn09/THACIL).
 * @param paths - `train.csv`, `test.csv`, or both in this order.
 * @param options - Preprocessing options and the dataset name. Default name: the folder name.
 * @throws DataFormatError when the header lacks one of the four columns, or a line has another
 *   field count or separator, a non-integer id, a label other than 0 or 1, a non-numeric
 *   timestamp or a malformed history. Also thrown for a file without data rows. The message
 *   names the file, line, text and expected format.
 * @throws DatasetNotFoundError when a file is missing.
 * @throws RangeError for an invalid option, an empty path list or any `ratingThreshold`.
 * @example
 * ```ts
 * const micro = await loadMicroVideo(['/data/MicroVideo1.7M_x1/train.csv', '/data/MicroVideo1.7M_x1/test.csv']);
 * ```
 */
export async function loadMicroVideo(paths: CtrFilePaths, options: FileLoadOptions = {}): Promise<SequenceDataset> {
  return loadBarsCtr('loadMicroVideo', paths, MICROVIDEO_X1_FORMAT, options);
}

/**
 * Loads KuaiVideo in the form of the BARS benchmark (`KuaiVideo_x1/train.csv` and `test.csv`)
 * as per-user chronological impressions with click labels.
 *
 * Each line is one impression. Columns are found by header name: `user_id`, `item_id`,
 * `timestamp` and `is_click` (0 or 1, kept in `dataset.labels`, never a filter). The history
 * columns `pos_items` and `neg_items` must hold non-empty ids joined by `^`, but they are not
 * read: the BARS conversion cuts them to the first 100 entries, and the impressions already
 * contain each user's clicks and non-clicks. `is_like`, `is_follow` and the visual embeddings
 * (`item_visual_emb_dim64.h5`, `user_visual_emb_dim64.h5`) are not read. Rows of a user are
 * sorted by `timestamp` (stable, so ties keep the file order, train before test).
 * `source.params` counts the rows of each file and the clicked and non-clicked rows.
 *
 * Source of the format: the BARS conversion script
 * `datasets/KuaiShou/KuaiVideo_x1/convert_kuaivideo_x1.py` of https://github.com/reczoo/BARS,
 * which writes the header `timestamp,user_id,item_id,is_click,is_like,is_follow,pos_items,neg_items`
 * from the `dataset.pkl` of ALPINE (https://github.com/liyongqi67/ALPINE).
 *
 * NOTE: the BARS dataset page states that the timestamps were processed so that only their order
 * is known. They are kept as they are, so time cuts in seconds (`temporalSplit`) do not apply.
 *
 * @see Yongqi Li et al., "Routing Micro-videos via A Temporal Graph-guided Recommendation
 *   System", ACM MM 2019 (ALPINE); the raw data come from the Kuaishou challenge of ACM MM 2018.
 * @param paths - `train.csv`, `test.csv`, or both in this order.
 * @param options - Preprocessing options and the dataset name. Default name: the folder name.
 * @throws DataFormatError when the header lacks one of the four columns, or a line has another
 *   field count or separator, a non-integer id, a label other than 0 or 1, a non-numeric
 *   timestamp or a malformed history. Also thrown for a file without data rows. The message
 *   names the file, line, text and expected format.
 * @throws DatasetNotFoundError when a file is missing.
 * @throws RangeError for an invalid option, an empty path list or any `ratingThreshold`.
 * @example
 * ```ts
 * const kuai = await loadKuaiVideo(['/data/KuaiVideo_x1/train.csv', '/data/KuaiVideo_x1/test.csv'], { name: 'kuaivideo-x1' });
 * ```
 */
export async function loadKuaiVideo(paths: CtrFilePaths, options: FileLoadOptions = {}): Promise<SequenceDataset> {
  return loadBarsCtr('loadKuaiVideo', paths, KUAIVIDEO_X1_FORMAT, options);
}

/**
 * Loads BARS CTR files of one format into one dataset; `where` names the public function in
 * messages. See {@link loadMicroVideo} for the rules.
 */
export async function loadBarsCtr(where: string, paths: CtrFilePaths, format: BarsCtrFormat, options: FileLoadOptions): Promise<SequenceDataset> {
  // Options and paths.
  const resolved = resolvePreprocessOptions(where, options);
  checkRatingThreshold(where, resolved, false, format.name);
  const list: readonly unknown[] = typeof paths === 'string' ? [paths] : Array.isArray(paths) ? paths : [];
  if (list.length === 0 || list.some((path) => typeof path !== 'string' || path === '')) {
    throw new RangeError(invalidArgument(where, 'paths', 'a path or a non-empty array of paths', paths));
  }
  const files = (list as string[]).map((path) => resolve(path));
  const name = options.name ?? basename(dirname(files[0]));

  // Every file into one log, in the order given.
  const builder = new InteractionLogBuilder(true, false, 1 << 16, true);
  const summaries: FileReadSummary[] = [];
  const rowsByFile: number[] = [];
  for (const file of files) {
    const rowsBefore = builder.rowCount;
    summaries.push(await parseBarsCtrFile(file, format, name, builder));
    rowsByFile.push(builder.rowCount - rowsBefore);
  }
  const log = builder.finish();

  // Report: rows per file, labels and skipped blank lines.
  const labels = log.labels as Uint8Array; // [rows]
  let clicked = 0;
  for (let row = 0; row < labels.length; row++) {
    clicked += labels[row];
  }
  const blankLines = summaries.reduce((sum, summary) => sum + summary.blankLines, 0);
  const steps = [stepRead(log.rowCount, log.rawUserIds.length, log.rawItemIds.length, files), stepReadFiles(rowsByFile, files), stepLabels(clicked, log.rowCount - clicked)];
  if (blankLines > 0) {
    steps.push(stepBlankLines(blankLines));
  }
  const params = {
    rowsByFile,
    clickedRows: clicked,
    nonClickedRows: log.rowCount - clicked,
    blankLines,
    timestampUnit: 'as in the file; only the order is meaningful',
    fileBytes: summaries.map((summary) => summary.bytes),
    sha256: summaries.map((summary) => summary.sha256),
  };
  return preprocessLog(where, log, { name, files, format: format.name, params, steps }, resolved);
}

/** Column positions found in a header. */
interface ColumnLayout {
  fieldCount: number;
  user: number;
  item: number;
  timestamp: number;
  label: number;
  /** Position and name of each history column present. */
  histories: Array<{ index: number; name: string }>;
}

/** Parses one file into `builder`: the header, then one row per line. */
async function parseBarsCtrFile(path: string, format: BarsCtrFormat, datasetId: string, builder: InteractionLogBuilder): Promise<FileReadSummary> {
  const separator = format.separator.charCodeAt(0);
  let layout: ColumnLayout | null = null;
  let fieldStarts = new Int32Array(0); // [columns]
  let fieldEnds = new Int32Array(0); // [columns]
  const rowsBefore = builder.rowCount;

  const summary = await readLines(path, datasetId, (bytes, start, end, lineNumber) => {
    const fail = (problem: string): never => {
      const text = bytes.toString('utf8', start, end);
      throw new DataFormatError(malformedLine(path, lineNumber, problem, format.description, text), path, lineNumber, text);
    };

    // The first line is the header.
    if (layout === null) {
      layout = headerLayout(bytes.toString('utf8', start, end), format, fail, bytes, start, end);
      fieldStarts = new Int32Array(layout.fieldCount);
      fieldEnds = new Int32Array(layout.fieldCount);
      return;
    }

    // Fields, then the four columns read.
    const found = splitFields(bytes, start, end, separator, fieldStarts, fieldEnds);
    if (found !== layout.fieldCount) {
      const other = found === 1 ? otherSeparator(bytes, start, end, format.separator) : null;
      fail(other === null ? wrongFieldCount(layout.fieldCount, found) : wrongSeparator(other, separatorName(format.separator)));
    }
    const field = (index: number): string => bytes.toString('utf8', fieldStarts[index], fieldEnds[index]);
    const user = parseId(bytes, fieldStarts[layout.user], fieldEnds[layout.user]);
    if (user < 0) {
      fail(invalidId('user id', field(layout.user)));
    }
    const item = parseId(bytes, fieldStarts[layout.item], fieldEnds[layout.item]);
    if (item < 0) {
      fail(invalidId('item id', field(layout.item)));
    }
    const label = parseDecimal(bytes, fieldStarts[layout.label], fieldEnds[layout.label]);
    if (label !== 0 && label !== 1) {
      fail(invalidLabel(field(layout.label)));
    }
    const timestamp = parseSignedDecimal(bytes, fieldStarts[layout.timestamp], fieldEnds[layout.timestamp]);
    if (Number.isNaN(timestamp)) {
      fail(invalidTimestamp(field(layout.timestamp)));
    }

    // History columns: non-empty ids joined by the history separator.
    for (const history of layout.histories) {
      const bad = badHistoryEntry(bytes, fieldStarts[history.index], fieldEnds[history.index], format.historySeparator);
      if (bad !== null) {
        const other = OTHER_HISTORY_SEPARATORS.find(([candidate]) => bad.includes(candidate));
        fail(other === undefined ? invalidHistoryEntry(history.name, bad, format.historySeparator) : wrongSeparator(other[1], `'${format.historySeparator}' in ${history.name}`));
      }
    }
    builder.add(user, item, timestamp, 0, label);
  });

  // A file without rows is an error, not an empty part of the dataset.
  if (builder.rowCount === rowsBefore) {
    throw new DataFormatError(emptyFile(path, format.description), path, 0, '');
  }
  return summary;
}

/** Finds the columns by name in the header line, or fails naming the missing ones. */
function headerLayout(header: string, format: BarsCtrFormat, fail: (problem: string) => never, bytes: Buffer, start: number, end: number): ColumnLayout {
  const names = header.split(format.separator).map((name) => name.trim());
  const missing = Object.values(format.columns).filter((column) => !names.includes(column));
  if (missing.length > 0) {
    const other = names.length === 1 ? otherSeparator(bytes, start, end, format.separator) : null;
    fail(other === null ? missingColumns(missing) : wrongSeparator(other, separatorName(format.separator)));
  }
  return {
    fieldCount: names.length,
    user: names.indexOf(format.columns.user),
    item: names.indexOf(format.columns.item),
    timestamp: names.indexOf(format.columns.timestamp),
    label: names.indexOf(format.columns.label),
    histories: format.historyColumns.filter((name) => names.includes(name)).map((name) => ({ index: names.indexOf(name), name })),
  };
}

/**
 * Splits `bytes[start, end)` at each `separator` byte, storing up to `fieldStarts.length` field
 * ranges. Returns the number of fields found, which may exceed the storage.
 */
function splitFields(bytes: Buffer, start: number, end: number, separator: number, fieldStarts: Int32Array, fieldEnds: Int32Array): number {
  let count = 0;
  let fieldStart = start;
  for (let i = start; i < end; i++) {
    if (bytes[i] !== separator) {
      continue;
    }
    if (count < fieldStarts.length) {
      fieldStarts[count] = fieldStart;
      fieldEnds[count] = i;
    }
    count++;
    fieldStart = i + 1;
  }
  if (count < fieldStarts.length) {
    fieldStarts[count] = fieldStart;
    fieldEnds[count] = end;
  }
  return count + 1;
}

/**
 * Returns the first entry of a history field that is empty or contains another known
 * separator, or null when every entry is a token. An empty field is an empty history.
 * FuxiCTR reads these entries as string tokens, so they are not required to be integers.
 */
function badHistoryEntry(bytes: Buffer, start: number, end: number, separator: string): string | null {
  const separatorByte = separator.charCodeAt(0);
  let entryStart = start;
  for (let i = start; i <= end; i++) {
    if (i < end && bytes[i] !== separatorByte) {
      continue;
    }
    if (start < end && (i === entryStart || containsOtherSeparator(bytes, entryStart, i))) {
      return bytes.toString('utf8', entryStart, i);
    }
    entryStart = i + 1;
  }
  return null;
}

/** Tests whether `bytes[start, end)` contains one of {@link OTHER_HISTORY_SEPARATORS}, all single bytes. */
function containsOtherSeparator(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (OTHER_SEPARATOR_BYTES.has(bytes[i])) {
      return true;
    }
  }
  return false;
}

/** Parses an optionally negative decimal number (`-12`, `3.5`); NaN for anything else. */
function parseSignedDecimal(bytes: Buffer, start: number, end: number): number {
  if (end > start && bytes[start] === MINUS) {
    return -parseDecimal(bytes, start + 1, end);
  }
  return parseDecimal(bytes, start, end);
}

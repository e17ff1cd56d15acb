import { DataFormatError } from './errors';
import { InteractionLogBuilder, type InteractionLog } from './interaction-log';
import {
  emptyFile,
  emptyId,
  invalidId,
  invalidLabel,
  invalidNumber,
  malformedLine,
  tooFewFields,
  wrongFieldCount,
  wrongSeparator,
} from './messages';
import { isWhitespace, parseDecimal, parseId, readLines, type FileReadSummary } from './text-reader';

/** Meaning of one column of a delimited interaction file. */
export type ColumnKind = 'user' | 'item' | 'rating' | 'timestamp' | 'label' | 'ignore';

/** A file with one interaction per line and a fixed list of separated columns. */
export interface DelimitedFormat {
  /** Format name recorded in `source.format`. */
  name: string;
  /** Column separator, one or more bytes (`'\t'`, `'::'`, `','`). */
  separator: string;
  /** Meaning of each column, in file order; exactly one `'user'` and one `'item'`. */
  columns: readonly ColumnKind[];
  /** Whether the first non-blank line is a header to skip. */
  hasHeader: boolean;
  /** The expected format in words, quoted by errors about malformed lines. */
  description: string;
  /**
   * Kind of the user and item ids: `'integer'` (non-negative, at most 15 digits) or `'string'`
   * (any non-empty text, kept verbatim). Default value: `'integer'`.
   */
  idType?: 'integer' | 'string';
}

/** MovieLens-10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header, half-star ratings. */
export const MOVIELENS_10M_RATINGS_FORMAT: DelimitedFormat = {
  name: 'movielens-10m-ratings',
  separator: '::',
  columns: ['user', 'item', 'rating', 'timestamp'],
  hasHeader: false,
  description: 'one rating per line as UserID::MovieID::Rating::Timestamp with integer ids, no header (MovieLens-10M ratings.dat)',
};

/**
 * MovieLens-20M, 25M and 32M `ratings.csv`: header `userId,movieId,rating,timestamp`, then one
 * rating per line.
 */
export const MOVIELENS_CSV_RATINGS_FORMAT: DelimitedFormat = {
  name: 'movielens-ratings-csv',
  separator: ',',
  columns: ['user', 'item', 'rating', 'timestamp'],
  hasHeader: true,
  description: 'a header userId,movieId,rating,timestamp, then one rating per line with integer ids (MovieLens-20M/25M/32M ratings.csv)',
};

/**
 * Amazon review ratings of 2014 (`ratings_<Category>.csv`): `user,item,rating,timestamp`, no
 * header, string ids such as `A2SUAM1J3GNN3B` and ASINs such as `0000013714`.
 */
export const AMAZON_RATINGS_FORMAT: DelimitedFormat = {
  name: 'amazon-ratings-csv',
  separator: ',',
  columns: ['user', 'item', 'rating', 'timestamp'],
  hasHeader: false,
  description: 'one rating per line as user,item,rating,timestamp with string ids, no header (Amazon 2014 ratings_<Category>.csv)',
  idType: 'string',
};

/**
 * Amazon review ratings of 2018 ("ratings only" `<Category>.csv`): `item,user,rating,timestamp`,
 * no header, string ids. The item comes first, unlike the 2014 files.
 */
export const AMAZON_2018_RATINGS_FORMAT: DelimitedFormat = {
  name: 'amazon-2018-ratings-csv',
  separator: ',',
  columns: ['item', 'user', 'rating', 'timestamp'],
  hasHeader: false,
  description: 'one rating per line as item,user,rating,timestamp with string ids, no header (Amazon 2018 ratings-only <Category>.csv)',
  idType: 'string',
};

/**
 * KuaiRand interaction logs (`log_standard_4_08_to_4_21_1k.csv` and the other `log_*.csv`
 * files): a header row, then comma-separated integer fields. Columns are found by header
 * name, so their order and the other columns (is_like, play_time_ms, tab, ...) do not matter.
 */
export const KUAIRAND_LOG_FORMAT = {
  name: 'kuairand-log-csv',
  separator: ',',
  /** Header names of the columns read: video_id is the item, time_ms the time in milliseconds, is_click the label. */
  columns: { user: 'user_id', item: 'video_id', timestamp: 'time_ms', label: 'is_click' },
  /** Units of `time_ms` per second; timestamps are divided by it so that they are in seconds. */
  timestampUnitsPerSecond: 1000,
  description: 'a header with the columns user_id, video_id, time_ms and is_click, then one interaction per line with integer ids, a time in milliseconds and is_click 0 or 1 (KuaiRand log_*.csv)',
} as const;

/**
 * Yambda interaction files (`flat/<size>/listens.parquet`, `likes.parquet`, `multi_event.parquet`
 * and the others): Parquet with one interaction per row. Columns are found by name; other
 * columns (played_ratio_pct, track_length_seconds, ...) are not read.
 */
export const YAMBDA_FORMAT = {
  name: 'yambda-parquet',
  /** Names of the columns read: uid is the user, item_id the track, timestamp the time in seconds. */
  columns: { user: 'uid', item: 'item_id', timestamp: 'timestamp', eventType: 'event_type', organic: 'is_organic' },
  description:
    'a Parquet file with the integer columns uid, item_id and timestamp (seconds), and optionally event_type (text) and is_organic (0 or 1), one interaction per row (Yambda flat/*.parquet)',
} as const;

/**
 * Amazon-Electronics as preprocessed for DIN and DIEN (`local_train_splitByUser`,
 * `local_test_splitByUser`): six tab-separated fields per line, `label`, `user`, `item`,
 * `category`, the history items and the history categories. The two history fields join
 * their entries with the control character U+0002; `loadDinSamples` also detects `^`.
 */
export const DIN_SAMPLES_FORMAT = {
  name: 'din-samples',
  fieldSeparator: '\t',
  historySeparator: '\u0002',
  description:
    'six tab-separated fields per line: label (0 or 1), user, item, category, history items and history categories, the histories joined by U+0002 or ^ (DIN local_*_splitByUser)',
} as const;

/**
 * Amazon-Electronics for DIN in the BARS/FuxiCTR form (`AmazonElectronics_x1/train.csv` and
 * `test.csv`): the header `label,user_id,item_id,cate_id,item_history,cate_history`, then the
 * six fields of {@link DIN_SAMPLES_FORMAT} separated by commas, with `^` joining the history
 * entries. The BARS script `convert_amazonelectronics_x1.py` writes it from DIN's `dataset.pkl`.
 */
export const DIN_BARS_CSV_FORMAT = {
  name: 'din-bars-csv',
  fieldSeparator: ',',
  historySeparator: '^',
  header: 'label,user_id,item_id,cate_id,item_history,cate_history',
  description:
    'the header label,user_id,item_id,cate_id,item_history,cate_history, then six comma-separated fields per line with the histories joined by ^ (BARS AmazonElectronics_x1 train.csv / test.csv)',
} as const;

/**
 * MicroVideo-1.7M in the BARS/FuxiCTR form (`MicroVideo1.7M_x1/train.csv` and `test.csv`):
 * comma-separated with a header. Columns are found by header name. `user_id`, `item_id`,
 * `timestamp` and `is_click` are read. The history columns `clicked_items` and
 * `clicked_categories` join their ids with `^` and are checked but not read. `cate_id` is
 * ignored.
 */
export const MICROVIDEO_X1_FORMAT = {
  name: 'microvideo1.7m-x1-csv',
  separator: ',',
  historySeparator: '^',
  /** Header names of the columns read: the impression's user, item, time and 0/1 click label. */
  columns: { user: 'user_id', item: 'item_id', timestamp: 'timestamp', label: 'is_click' },
  /** History columns whose entries are checked (non-empty ids joined by `^`) when the header has them. */
  historyColumns: ['clicked_items', 'clicked_categories'],
  description:
    'a header with the columns user_id, item_id, timestamp and is_click, then one impression per line with integer ids, a numeric timestamp, is_click 0 or 1, and the histories clicked_items and clicked_categories joined by ^ (BARS MicroVideo1.7M_x1 train.csv / test.csv)',
} as const;

/**
 * KuaiVideo in the BARS/FuxiCTR form (`KuaiVideo_x1/train.csv` and `test.csv`): the header
 * `timestamp,user_id,item_id,is_click,is_like,is_follow,pos_items,neg_items`, comma-separated.
 * Columns are found by header name. `user_id`, `item_id`, `timestamp` and `is_click` are read.
 * `pos_items` and `neg_items` join their ids with `^` and are checked but not read. `is_like`
 * and `is_follow` are ignored.
 */
export const KUAIVIDEO_X1_FORMAT = {
  name: 'kuaivideo-x1-csv',
  separator: ',',
  historySeparator: '^',
  /** Header names of the columns read: the impression's user, item, time and 0/1 click label. */
  columns: { user: 'user_id', item: 'item_id', timestamp: 'timestamp', label: 'is_click' },
  /** History columns whose entries are checked (non-empty ids joined by `^`) when the header has them. */
  historyColumns: ['pos_items', 'neg_items'],
  description:
    'a header with the columns user_id, item_id, timestamp and is_click, then one impression per line with integer ids, a numeric timestamp, is_click 0 or 1, and the histories pos_items and neg_items joined by ^ (BARS KuaiVideo_x1 train.csv / test.csv)',
} as const;

/** MovieLens-100K `u.data`: `user_id \t item_id \t rating \t timestamp`, no header. */
export const MOVIELENS_100K_FORMAT: DelimitedFormat = {
  name: 'movielens-100k-udata',
  separator: '\t',
  columns: ['user', 'item', 'rating', 'timestamp'],
  hasHeader: false,
  description: 'one rating per line as user_id<TAB>item_id<TAB>rating<TAB>timestamp with integer ids, no header (MovieLens-100K u.data)',
};

/** MovieLens-1M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header. */
export const MOVIELENS_1M_RATINGS_FORMAT: DelimitedFormat = {
  name: 'movielens-1m-ratings',
  separator: '::',
  columns: ['user', 'item', 'rating', 'timestamp'],
  hasHeader: false,
  description: 'one rating per line as UserID::MovieID::Rating::Timestamp with integer ids, no header (MovieLens-1M ratings.dat)',
};

/** Format name of {@link parseSequenceFile} input, recorded in `source.format`. */
export const SEQUENCE_FORMAT_NAME = 'user-sequences';

/** The expected sequence format in words, quoted by errors about malformed lines. */
export const SEQUENCE_FORMAT_DESCRIPTION =
  'one user per line as user_id item_id item_id ... separated by spaces, items oldest first, integer ids, no header';

/** A parsed file: its rows and what reading it measured. */
export interface ParsedFile {
  log: InteractionLog;
  file: FileReadSummary;
}

/** Separators recognised when a line does not use the expected one, with their names in messages. */
const KNOWN_SEPARATORS: ReadonlyArray<readonly [string, string]> = [
  ['\t', 'tabs'],
  ['::', "'::'"],
  [',', 'commas'],
  [';', 'semicolons'],
  ['|', "'|'"],
  [' ', 'spaces'],
];

/**
 * Parses a delimited interaction file into a log, streaming it.
 *
 * @param path - File to read.
 * @param format - Separator and column meanings.
 * @param datasetId - Dataset id, named in the error for a missing file.
 * @throws DataFormatError for a wrong field count, a wrong separator, a non-integer id, a
 *   rating or timestamp that is not a non-negative number, or a file without data rows. The
 *   message names the file, the 1-based line, the problem and the expected format, and
 *   quotes the line.
 * @throws DatasetNotFoundError when the file is missing.
 * @throws RangeError when `format` has no user or item column, or an empty separator.
 */
export async function parseDelimitedFile(path: string, format: DelimitedFormat, datasetId: string): Promise<ParsedFile> {
  // Column positions.
  const userColumn = format.columns.indexOf('user');
  const itemColumn = format.columns.indexOf('item');
  const ratingColumn = format.columns.indexOf('rating');
  const timestampColumn = format.columns.indexOf('timestamp');
  const labelColumn = format.columns.indexOf('label');
  const stringIds = format.idType === 'string';
  if (userColumn < 0 || itemColumn < 0 || format.separator.length === 0) {
    throw new RangeError(
      `parseDelimitedFile: invalid format '${format.name}': expected a non-empty separator and both a 'user' and an 'item' column, received separator ${JSON.stringify(format.separator)} and columns [${format.columns.join(', ')}].`,
    );
  }
  const separator = Buffer.from(format.separator, 'utf8');
  const fieldCount = format.columns.length;
  const fieldStarts = new Int32Array(fieldCount); // [columns]
  const fieldEnds = new Int32Array(fieldCount); // [columns]
  const builder = new InteractionLogBuilder(timestampColumn >= 0, ratingColumn >= 0, 1 << 16, labelColumn >= 0);
  let headerPending = format.hasHeader;

  // The line being parsed, so that one `fail` closure serves every line without a per-line allocation.
  const current: { bytes: Buffer; start: number; end: number; lineNumber: number } = { bytes: Buffer.alloc(0), start: 0, end: 0, lineNumber: 0 };
  const fail = (problem: string): never => {
    throw lineError(path, current.lineNumber, problem, format.description, current.bytes, current.start, current.end);
  };

  // Parse each line into one row.
  const file = await readLines(path, datasetId, (bytes, start, end, lineNumber) => {
    if (headerPending) {
      headerPending = false;
      return;
    }
    current.bytes = bytes;
    current.start = start;
    current.end = end;
    current.lineNumber = lineNumber;
    const found = splitBySeparator(bytes, start, end, separator, fieldStarts, fieldEnds);
    if (found !== fieldCount) {
      const other = found === 1 ? otherSeparator(bytes, start, end, format.separator) : null;
      fail(other === null ? wrongFieldCount(fieldCount, found) : wrongSeparator(other, separatorName(format.separator)));
    }
    const timestamp = timestampColumn < 0 ? 0 : parseDecimal(bytes, fieldStarts[timestampColumn], fieldEnds[timestampColumn]);
    if (Number.isNaN(timestamp)) {
      fail(invalidNumber('timestamp', text(bytes, fieldStarts[timestampColumn], fieldEnds[timestampColumn])));
    }
    const rating = ratingColumn < 0 ? 0 : parseDecimal(bytes, fieldStarts[ratingColumn], fieldEnds[ratingColumn]);
    if (Number.isNaN(rating)) {
      fail(invalidNumber('rating', text(bytes, fieldStarts[ratingColumn], fieldEnds[ratingColumn])));
    }
    const label = labelColumn < 0 ? 0 : parseDecimal(bytes, fieldStarts[labelColumn], fieldEnds[labelColumn]);
    if (label !== 0 && label !== 1) {
      fail(invalidLabel(text(bytes, fieldStarts[labelColumn], fieldEnds[labelColumn])));
    }

    // String ids are kept verbatim; integer ids are parsed without building strings.
    if (stringIds) {
      const user = text(bytes, fieldStarts[userColumn], fieldEnds[userColumn]);
      const item = text(bytes, fieldStarts[itemColumn], fieldEnds[itemColumn]);
      if (user.trim() === '') {
        fail(emptyId('user id'));
      }
      if (item.trim() === '') {
        fail(emptyId('item id'));
      }
      builder.addKeyed(user, item, timestamp, rating, label);
      return;
    }
    const user = parseId(bytes, fieldStarts[userColumn], fieldEnds[userColumn]);
    if (user < 0) {
      fail(invalidId('user id', text(bytes, fieldStarts[userColumn], fieldEnds[userColumn])));
    }
    const item = parseId(bytes, fieldStarts[itemColumn], fieldEnds[itemColumn]);
    if (item < 0) {
      fail(invalidId('item id', text(bytes, fieldStarts[itemColumn], fieldEnds[itemColumn])));
    }
    builder.add(user, item, timestamp, rating, label);
  });

  // A file without rows is an error, not an empty dataset.
  if (builder.rowCount === 0) {
    throw new DataFormatError(emptyFile(path, format.description), path, 0, '');
  }
  return { log: builder.finish(), file };
}

/**
 * Parses a sequence file (`user_id item_id item_id ...` per line, oldest item first) into a
 * log with one row per item and no timestamps. Fields are separated by runs of spaces or
 * tabs. A user on several lines gets the lines' items concatenated in file order.
 *
 * @param path - File to read.
 * @param datasetId - Dataset id, named in the error for a missing file.
 * @throws DataFormatError for a line with no item, a non-integer id, a wrong separator or a
 *   file without data rows. The message names the file, line, problem and expected format.
 * @throws DatasetNotFoundError when the file is missing.
 */
export async function parseSequenceFile(path: string, datasetId: string): Promise<ParsedFile> {
  const builder = new InteractionLogBuilder(false, false);

  // Parse each line into one row per item.
  const file = await readLines(path, datasetId, (bytes, start, end, lineNumber) => {
    const fail = (problem: string): never => {
      throw lineError(path, lineNumber, problem, SEQUENCE_FORMAT_DESCRIPTION, bytes, start, end);
    };
    let fieldIndex = 0;
    let user = -1;
    let position = start;
    for (;;) {
      // Next field between runs of whitespace.
      while (position < end && isWhitespace(bytes[position])) {
        position++;
      }
      if (position >= end) {
        break;
      }
      const fieldStart = position;
      while (position < end && !isWhitespace(bytes[position])) {
        position++;
      }
      const id = parseId(bytes, fieldStart, position);
      if (id < 0) {
        const other = otherSeparator(bytes, fieldStart, position, ' ');
        if (other !== null) {
          fail(wrongSeparator(other, 'spaces'));
        }
        const column = fieldIndex === 0 ? 'user id' : 'item id';
        fail(invalidId(column, text(bytes, fieldStart, position)));
      }
      if (fieldIndex === 0) {
        user = id;
      } else {
        builder.add(user, id);
      }
      fieldIndex++;
    }
    if (fieldIndex < 2) {
      fail(tooFewFields(2, fieldIndex));
    }
  });

  // A file without rows is an error, not an empty dataset.
  if (builder.rowCount === 0) {
    throw new DataFormatError(emptyFile(path, SEQUENCE_FORMAT_DESCRIPTION), path, 0, '');
  }
  return { log: builder.finish(), file };
}

/**
 * Splits `bytes[start, end)` at each occurrence of `separator`, storing up to
 * `fieldStarts.length` field ranges. Returns the number of fields found (it may exceed the
 * storage).
 */
function splitBySeparator(bytes: Buffer, start: number, end: number, separator: Uint8Array, fieldStarts: Int32Array, fieldEnds: Int32Array): number {
  const first = separator[0];
  const width = separator.length;
  let count = 0;
  let fieldStart = start;
  for (let i = start; i <= end - width; i++) {
    if (bytes[i] !== first || !matchesAt(bytes, i, separator)) {
      continue;
    }
    if (count < fieldStarts.length) {
      fieldStarts[count] = fieldStart;
      fieldEnds[count] = i;
    }
    count++;
    fieldStart = i + width;
    i += width - 1;
  }
  if (count < fieldStarts.length) {
    fieldStarts[count] = fieldStart;
    fieldEnds[count] = end;
  }
  return count + 1;
}

function matchesAt(bytes: Buffer, position: number, separator: Uint8Array): boolean {
  for (let k = 1; k < separator.length; k++) {
    if (bytes[position + k] !== separator[k]) {
      return false;
    }
  }
  return true;
}

/** Name of the first known separator other than `expected` that occurs in the range, or null. */
export function otherSeparator(bytes: Buffer, start: number, end: number, expected: string): string | null {
  const line = text(bytes, start, end);
  for (const [separator, name] of KNOWN_SEPARATORS) {
    if (separator !== expected && !expected.includes(separator) && line.includes(separator)) {
      return name;
    }
  }
  return null;
}

/** Name of a separator in messages, such as `commas` or `'::'`. */
export function separatorName(separator: string): string {
  const known = KNOWN_SEPARATORS.find(([candidate]) => candidate === separator);
  return known === undefined ? JSON.stringify(separator) : known[1];
}

function text(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('utf8', start, end);
}

function lineError(path: string, line: number, problem: string, expected: string, bytes: Buffer, start: number, end: number): DataFormatError {
  const lineText = text(bytes, start, end);
  return new DataFormatError(malformedLine(path, line, problem, expected, lineText), path, line, lineText);
}

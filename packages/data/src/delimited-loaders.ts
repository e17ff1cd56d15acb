import { open } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DataFormatError, DatasetNotFoundError } from './errors';
import { amazonRatingsFormat, detectAmazonEdition, type AmazonEdition } from './amazon-edition';
import type { ColumnKind, DelimitedFormat } from './formats';
import { loadWithFormat, type FileLoadOptions } from './loaders';
import {
  emptyFile,
  fileNotFound,
  invalidArgument,
  missingHeaderColumn,
  recBoleIdNotToken,
  recBoleInvalidHeader,
} from './messages';
import { resolvePreprocessOptions } from './options';
import type { SequenceDataset } from './types';

/** Column reference: a 0-based index, or a header name when the file has a header. */
export type ColumnRef = number | string;

/** Columns of {@link loadDelimited}; `user` and `item` are required. */
export interface ColumnMapping {
  /** Column of the user id. */
  user: ColumnRef;
  /** Column of the item id. */
  item: ColumnRef;
  /** Column of the time in seconds. Default value: none (file order is the chronological order). */
  timestamp?: ColumnRef;
  /** Column of the rating. Default value: none. */
  rating?: ColumnRef;
  /** Column of a 0/1 label of click-through logs, kept in `dataset.labels`. Default value: none. */
  label?: ColumnRef;
}

/** Options of {@link loadDelimited}: the layout of the file plus the load options. */
export interface DelimitedLoadOptions extends FileLoadOptions {
  /** Column separator, one or more characters (`','`, `'\t'`, `'::'`). */
  separator: string;
  /** Whether the first non-blank line is a header. Column names need one. */
  header: boolean;
  /** Positions or header names of the columns used; other columns are ignored. */
  columns: ColumnMapping;
  /**
   * `'integer'` for non-negative integer ids of at most 15 digits, `'string'` for any text
   * kept verbatim. Default value: `'integer'`.
   */
  idType?: 'integer' | 'string';
}

/** Field names of a RecBole `.inter` file, mapped to the columns of a dataset. */
export interface RecBoleFieldNames {
  /** Default value: `'user_id'`. */
  user?: string;
  /** Default value: `'item_id'`. */
  item?: string;
  /** Used when present. Default value: `'timestamp'`. */
  timestamp?: string;
  /** Used when present. Default value: `'rating'`. */
  rating?: string;
  /** Used when present. Default value: `'label'`. */
  label?: string;
}

/** Options of {@link loadRecBoleInter}. */
export interface RecBoleLoadOptions extends FileLoadOptions {
  /** Field names to read, when they differ from RecBole's defaults. */
  fields?: RecBoleFieldNames;
}

/** Options of {@link loadAmazonRatings}. */
export interface AmazonRatingsOptions extends FileLoadOptions {
  /**
   * Edition of the file: 2014 (`user,item,rating,timestamp`), 2018 (`item,user,rating,timestamp`),
   * or `'auto'` to detect it from the first lines, which fails unless every one of them has
   * the same order. Default value: 2014.
   */
  edition?: AmazonEdition | 'auto';
}

/** Bytes read to find the header or first line of a file. */
const FIRST_LINE_BYTES = 1 << 16;

const COLUMN_KEYS = ['user', 'item', 'timestamp', 'rating', 'label'] as const;

/**
 * Loads any delimited interaction file from a column mapping, as chronological sequences.
 *
 * The number of columns comes from the header, or from the first line when there is none,
 * and every line must have that many. Columns not in the mapping are ignored.
 *
 * @param path - File to read.
 * @param options - Separator, header flag, column mapping, id type and preprocessing options.
 * @throws RangeError for an invalid option. The mapping may not name a missing column, use a
 *   header name without a header, or map two meanings to one column.
 * @throws DatasetNotFoundError when the file is missing.
 * @throws DataFormatError when a line is malformed or the file has no data rows.
 * @example
 * ```ts
 * const clicks = await loadDelimited('/data/clicks.csv', {
 *   separator: ',',
 *   header: true,
 *   columns: { user: 'uid', item: 'iid', timestamp: 'ts', label: 'clicked' },
 * });
 * ```
 */
export async function loadDelimited(path: string, options: DelimitedLoadOptions): Promise<SequenceDataset> {
  return loadDelimitedAs('loadDelimited', path, options, null);
}

/**
 * Loads a delimited file like {@link loadDelimited}. `where` names the public function in
 * messages, and `named` replaces the generic format name and description for a known source.
 */
export async function loadDelimitedAs(
  where: string,
  path: string,
  options: DelimitedLoadOptions,
  named: { name: string; description: string } | null,
): Promise<SequenceDataset> {
  // Validate the options before reading.
  const resolved = resolvePreprocessOptions(where, options);
  if (typeof options.separator !== 'string' || options.separator.length === 0) {
    throw new RangeError(invalidArgument(where, 'separator', 'a non-empty string', options.separator));
  }
  const idType = options.idType ?? 'integer';
  if (idType !== 'integer' && idType !== 'string') {
    throw new RangeError(invalidArgument(where, 'idType', "'integer' or 'string'", idType));
  }
  const absolute = resolve(path);
  const name = options.name ?? basename(path);

  // Column layout from the header or the first line.
  const firstLine = await readFirstLine(absolute, name);
  const fields = firstLine.split(options.separator);
  const columns: ColumnKind[] = fields.map(() => 'ignore');
  for (const key of COLUMN_KEYS) {
    const ref = options.columns[key];
    if (ref === undefined) {
      continue;
    }
    const index = columnIndex(where, key, ref, options.header ? fields : null);
    if (columns[index] !== 'ignore') {
      throw new RangeError(invalidArgument(where, `columns.${key}`, `a column not already used by '${columns[index]}'`, ref));
    }
    columns[index] = key;
  }
  if (options.columns.user === undefined || options.columns.item === undefined) {
    throw new RangeError(invalidArgument(where, 'columns', 'both a user and an item column', JSON.stringify(options.columns)));
  }

  // Parse with the derived format.
  const format: DelimitedFormat = {
    name: named?.name ?? 'delimited',
    separator: options.separator,
    columns,
    hasHeader: options.header,
    description:
      named?.description ??
      `${columns.length} fields separated by ${JSON.stringify(options.separator)} as [${columns.join(', ')}]${options.header ? ' after a header line' : ', no header'}, ${idType} ids`,
    idType,
  };
  return loadWithFormat(where, absolute, format, name, resolved, { separator: options.separator, columns: format.columns, header: options.header, idType });
}

/**
 * Loads a RecBole atomic `.inter` file: tab-separated, with a header of `name:type` fields such
 * as `user_id:token item_id:token rating:float timestamp:float`.
 *
 * User and item fields must have type `token`, and their values are kept as strings. When
 * every id is a canonical integer, ids are numbered in numeric order, like the MovieLens
 * loaders. The timestamp, rating and label fields are read when present, and every other
 * field is ignored.
 *
 * @see Wayne Xin Zhao et al., "RecBole: Towards a Unified, Comprehensive and Efficient
 *   Framework for Recommendation Algorithms", CIKM 2021, arXiv:2011.01731 (atomic files).
 * @param path - The `.inter` file.
 * @param options - Field names, when they are not RecBole's defaults, and preprocessing options.
 * @throws RangeError when the header lacks the user or item field, a user or item field is
 *   not a token, or an option is invalid.
 * @throws DataFormatError when the header is not `name:type` fields or a line is malformed.
 * @throws DatasetNotFoundError when the file is missing.
 * @example
 * ```ts
 * const ml1m = await loadRecBoleInter('/data/ml-1m/ml-1m.inter', { name: 'ml-1m' });
 * ```
 */
export async function loadRecBoleInter(path: string, options: RecBoleLoadOptions = {}): Promise<SequenceDataset> {
  // Field names and types from the header.
  const where = 'loadRecBoleInter';
  const absolute = resolve(path);
  const name = options.name ?? basename(path);
  const header = await readFirstLine(absolute, name);
  const fields = header.split('\t').map((field) => {
    const colon = field.lastIndexOf(':');
    if (colon <= 0) {
      throw new DataFormatError(recBoleInvalidHeader(absolute, field, header), absolute, 1, header);
    }
    return { name: field.slice(0, colon), type: field.slice(colon + 1) };
  });
  const names = fields.map((field) => field.name);
  const requested = {
    user: options.fields?.user ?? 'user_id',
    item: options.fields?.item ?? 'item_id',
    timestamp: options.fields?.timestamp ?? 'timestamp',
    rating: options.fields?.rating ?? 'rating',
    label: options.fields?.label ?? 'label',
  };

  // Ids must be tokens; optional fields are used when present.
  for (const key of ['user', 'item'] as const) {
    const index = names.indexOf(requested[key]);
    if (index < 0) {
      throw new RangeError(missingHeaderColumn(where, `fields.${key}`, requested[key], names));
    }
    if (fields[index].type !== 'token') {
      throw new RangeError(recBoleIdNotToken(where, requested[key], fields[index].type));
    }
  }
  const columns: ColumnMapping = { user: requested.user, item: requested.item };
  for (const key of ['timestamp', 'rating', 'label'] as const) {
    if (names.includes(requested[key])) {
      columns[key] = requested[key];
    }
  }
  const renamed = fields.map((field) => `${field.name}:${field.type}`);
  const byName = (ref: ColumnRef | undefined): ColumnRef | undefined => (ref === undefined ? undefined : renamed[names.indexOf(String(ref))]);

  // The generic reader does the rest, with header names of the form name:type.
  const dataset = await loadDelimited(absolute, {
    ...options,
    name,
    separator: '\t',
    header: true,
    idType: 'string',
    columns: {
      user: byName(columns.user) as string,
      item: byName(columns.item) as string,
      timestamp: byName(columns.timestamp),
      rating: byName(columns.rating),
      label: byName(columns.label),
    },
  });
  dataset.source.format = 'recbole-inter';
  return dataset;
}

/**
 * Loads an Amazon review ratings-only file with string user ids and ASINs: the 2014 edition
 * (`ratings_<Category>.csv`, lines `user,item,rating,timestamp`) or the 2018 edition
 * (`<Category>.csv`, lines `item,user,rating,timestamp`), both without a header.
 *
 * With `edition: 'auto'` the edition comes from the first lines: reviewer ids start with `A`,
 * and ASINs are ISBN-10s or start with `B`, so the order of the first two fields shows the
 * edition. `source.params.edition` records the edition used. ASINs keep their leading zeros. Users and items are numbered in UTF-16 code unit order of
 * their ids, because these ids are not integers.
 *
 * @see Julian McAuley et al., "Image-based Recommendations on Styles and Substitutes",
 *   SIGIR 2015, arXiv:1506.04757 (the Amazon review data).
 * @param path - The ratings CSV file.
 * @param options - Preprocessing options and the dataset name.
 * @throws DatasetNotFoundError when the file is missing.
 * @throws DataFormatError when a line is malformed, the file has no data rows, or `'auto'`
 *   cannot detect the edition.
 * @throws RangeError for an invalid option.
 * @example
 * ```ts
 * const electronics = await loadAmazonRatings('/data/Electronics.csv', { edition: 'auto' }); // 2018 order
 * const beauty = await loadAmazonRatings('/data/ratings_Beauty.csv', { name: 'amazon-beauty', minUserInteractions: 5 });
 * ```
 */
export async function loadAmazonRatings(path: string, options: AmazonRatingsOptions = {}): Promise<SequenceDataset> {
  const where = 'loadAmazonRatings';
  const resolved = resolvePreprocessOptions(where, options);
  const requested = options.edition ?? 2014;
  if (requested !== 2014 && requested !== 2018 && requested !== 'auto') {
    throw new RangeError(invalidArgument(where, 'edition', "2014, 2018 or 'auto'", requested));
  }
  const absolute = resolve(path);
  const name = options.name ?? basename(path);
  const edition = requested === 'auto' ? await detectAmazonEdition(absolute, name) : requested;
  return loadWithFormat(where, absolute, amazonRatingsFormat(edition), name, resolved, { edition, editionDetected: requested === 'auto' });
}

/** Resolves a column reference to a 0-based index. */
function columnIndex(where: string, key: string, ref: ColumnRef, headerFields: readonly string[] | null): number {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 0 || ref >= (headerFields?.length ?? Number.POSITIVE_INFINITY)) {
      throw new RangeError(invalidArgument(where, `columns.${key}`, `a column index from 0 to ${(headerFields?.length ?? 1) - 1}`, ref));
    }
    return ref;
  }
  if (headerFields === null) {
    throw new RangeError(invalidArgument(where, `columns.${key}`, 'a column index, because names need header: true', ref));
  }
  const index = headerFields.indexOf(ref);
  if (index < 0) {
    throw new RangeError(missingHeaderColumn(where, `columns.${key}`, ref, headerFields));
  }
  return index;
}

/**
 * Returns the first non-blank line of a file, without its line break or a UTF-8 byte order
 * mark. Reads at most 64 KiB.
 */
export async function readFirstLine(path: string, datasetId: string): Promise<string> {
  // Read the start of the file.
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new DatasetNotFoundError(fileNotFound(datasetId, path), datasetId, [path]);
    }
    throw error;
  });
  const buffer = Buffer.alloc(FIRST_LINE_BYTES);
  let length = 0;
  try {
    length = (await handle.read(buffer, 0, FIRST_LINE_BYTES, 0)).bytesRead;
  } finally {
    await handle.close();
  }

  // First line that contains more than whitespace.
  const text = buffer.toString('utf8', 0, length).replace(/^\uFEFF/, '');
  const line = text.split('\n').find((candidate) => candidate.trim() !== '');
  if (line === undefined) {
    throw new DataFormatError(emptyFile(path, 'a header or data line within the first 64 KiB'), path, 0, '');
  }
  return line.replace(/\r$/, '');
}

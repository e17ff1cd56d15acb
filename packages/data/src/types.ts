import type { Logger } from './logger';

/**
 * Counts of every preprocessing step, so that nothing is dropped silently.
 *
 * The steps run in this order: rating threshold, chronological sort, de-duplication,
 * k-core filtering, id remapping.
 */
export interface PreprocessReport {
  /** Data rows parsed from the file(s); for the sequence format, one row per item. */
  rowsRead: number;
  /** Repeated (user, item) pairs removed by de-duplication; 0 when `dedupe` is `'keep-all'`. */
  duplicatesRemoved: number;
  /** Rows removed because their rating is below `ratingThreshold`; 0 when no threshold is set. */
  belowRatingThreshold: number;
  /** Interactions removed by k-core filtering, iterated until no user or item is below its minimum. */
  kCoreRemoved: number;
  /** Users present in the rows read but absent from the dataset, whichever step removed them. */
  usersRemoved: number;
  /** Items present in the rows read but absent from the dataset, whichever step removed them. */
  itemsRemoved: number;
  /** Human-readable lines, one per step, with counts. */
  steps: string[];
}

/** Provenance of a dataset: files, format and processing parameters, recorded in results verbatim. */
export interface DatasetSource {
  /** Absolute paths of the files read; empty for generated data. */
  files: string[];
  /** Name of the input format, for example `'movielens-100k-udata'`. */
  format: string;
  /** Every parameter that shaped the dataset: options, file sizes and SHA-256 digests. */
  params: Record<string, unknown>;
}

/**
 * Chronological per-user item sequences in CSR (compressed sparse row) layout.
 *
 * User `u` (0-based) owns `items[offsets[u] .. offsets[u + 1])`, oldest first. Internal item
 * ids run from 1 to `itemCount`; 0 is padding and never an item. Internal ids follow the
 * ascending numeric order of the raw ids, and so do user indices.
 */
export interface SequenceDataset {
  /** Dataset id, for example `'ml-1m'`, `'ml-100k'` or `'synthetic'`. */
  name: string;
  /** Number of users, each with at least one interaction. */
  userCount: number;
  /** Number of distinct items; the padding id 0 is not counted. */
  itemCount: number;
  /** CSR offsets into `items`, `[userCount + 1]`, with `offsets[0] = 0`. */
  offsets: Int32Array;
  /** Internal item ids, `[interactions]`, chronological per user (ties keep file order). */
  items: Int32Array;
  /** Interaction times in seconds, `[interactions]`; `null` when the source has none. */
  timestamps: Float64Array | null;
  /** Ratings, `[interactions]`; `null` when the source has none. */
  ratings: Float32Array | null;
  /**
   * Binary label (0 or 1) of each interaction, `[interactions]`, for click-through logs with a
   * label column; `null` or absent when the source has none. Labels never filter rows.
   */
  labels?: Uint8Array | null;
  /** Raw id of each internal user index, `[userCount]`. */
  rawUserIds: string[];
  /** Raw id of each internal item id, `[itemCount + 1]`; entry 0 is `''` (padding). */
  rawItemIds: string[];
  /** Files, format and parameters, recorded in results. */
  source: DatasetSource;
  /** Counts of every preprocessing step. */
  report: PreprocessReport;
}

/** Policy for repeated (user, item) pairs. */
export type DedupePolicy = 'keep-all' | 'keep-first' | 'keep-last';

/** Preprocessing options shared by every loader. */
export interface PreprocessOptions {
  /**
   * Minimum number of interactions an item must keep (k-core on items).
   * Default value: 0 (off).
   * @minimum 0
   */
  minItemInteractions?: number;
  /**
   * Minimum number of interactions a user must keep (k-core on users).
   * Default value: 0 (off).
   * @minimum 0
   */
  minUserInteractions?: number;
  /**
   * Keeps only rows with `rating >= ratingThreshold` (implicit feedback). Only valid for
   * sources with ratings. Default value: off.
   */
  ratingThreshold?: number;
  /**
   * Repeated (user, item) pairs: keep all, keep the chronologically first, or keep the last.
   * Default value: `'keep-all'`.
   */
  dedupe?: DedupePolicy;
  /** Receives one info line per step and a warning when filtering leaves nothing. Default value: `silentLogger`. */
  logger?: Logger;
}

/** Options of {@link loadDataset} and the file loaders. */
export interface LoadOptions extends PreprocessOptions {
  /** Directory that contains `ml-100k/`, `ml-1m/` and so on. Default value: `process.env.MALLOC_DATA_DIR`. */
  dataDir?: string;
}

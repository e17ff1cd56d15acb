import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { DatasetNotFoundError } from './errors';
import {
  MOVIELENS_100K_FORMAT,
  MOVIELENS_1M_RATINGS_FORMAT,
  SEQUENCE_FORMAT_NAME,
  parseDelimitedFile,
  parseSequenceFile,
  type DelimitedFormat,
  type ParsedFile,
} from './formats';
import { dataDirNotFound, dataDirNotSet, datasetFilesNotFound, stepBlankLines, stepRead, unknownDataset } from './messages';
import { resolvePreprocessOptions, type ResolvedPreprocessOptions } from './options';
import { checkRatingThreshold, preprocessLog } from './preprocess';
import { generateSyntheticLog, type SyntheticOptions } from './synthetic';
import type { LoadOptions, SequenceDataset } from './types';

/** Ids accepted by {@link loadDataset}. */
export const DATASET_IDS: readonly string[] = ['ml-100k', 'ml-1m', 'synthetic'];

/** Options of the file loaders: the load options plus the dataset name to record. */
export interface FileLoadOptions extends LoadOptions {
  /** Dataset name recorded in the result. Default value: the file name. */
  name?: string;
}

/**
 * Loads a dataset by id as chronological per-user sequences.
 *
 * - `'ml-100k'` reads `<dataDir>/ml-100k/u.data`.
 * - `'ml-1m'` reads `<dataDir>/ml-1m/ratings.dat` when present, else `<dataDir>/ml-1m/sequences.txt`.
 * - `'synthetic'` generates data from `options.synthetic` and reads no files.
 *
 * Preprocessing options (thresholds, de-duplication, k-core) apply to every id, the generated
 * data included.
 *
 * @param id - One of {@link DATASET_IDS}.
 * @param options - Data directory, preprocessing options, logger and generator settings.
 * @throws RangeError for an unknown id or an invalid option.
 * @throws DatasetNotFoundError when the data directory is unset or missing, or the dataset's
 *   files are missing. The message names the path and how to get the data.
 * @throws DataFormatError when a file is malformed.
 * @example
 * ```ts
 * const ml1m = await loadDataset('ml-1m', { dataDir: '/data', minItemInteractions: 5 });
 * const toy = await loadDataset('synthetic', { synthetic: { users: 100, seed: 3 } });
 * ```
 */
export async function loadDataset(id: string, options: LoadOptions & { synthetic?: SyntheticOptions } = {}): Promise<SequenceDataset> {
  // Validate the id and the options before touching the file system.
  if (!DATASET_IDS.includes(id)) {
    throw new RangeError(unknownDataset(id, DATASET_IDS));
  }
  const resolved = resolvePreprocessOptions('loadDataset', options);

  // Generated data needs no directory.
  if (id === 'synthetic') {
    const generated = generateSyntheticLog('loadDataset', options.synthetic ?? {});
    return preprocessLog('loadDataset', generated.log, generated.description, resolved);
  }

  // MovieLens files under the data directory.
  const dataDir = await findDataDir(id, options.dataDir);
  if (id === 'ml-100k') {
    const path = join(dataDir, 'ml-100k', 'u.data');
    await requireOneOf(id, dataDir, [path]);
    return loadDelimited('loadDataset', path, MOVIELENS_100K_FORMAT, id, resolved, { dataDir });
  }
  const ratingsPath = join(dataDir, 'ml-1m', 'ratings.dat');
  const sequencesPath = join(dataDir, 'ml-1m', 'sequences.txt');
  const path = await requireOneOf(id, dataDir, [ratingsPath, sequencesPath]);
  return path === ratingsPath
    ? loadDelimited('loadDataset', path, MOVIELENS_1M_RATINGS_FORMAT, id, resolved, { dataDir })
    : loadSequences('loadDataset', path, id, resolved, { dataDir });
}

/**
 * Loads a delimited interaction file (one interaction per line) as chronological sequences.
 *
 * @param path - File to read.
 * @param format - Separator and columns, for example {@link MOVIELENS_100K_FORMAT}.
 * @param options - Preprocessing options and the dataset name.
 * @throws DatasetNotFoundError when the file is missing.
 * @throws DataFormatError when a line is malformed or the file has no data rows.
 * @throws RangeError for an invalid option.
 * @example
 * ```ts
 * const ml100k = await loadInteractionFile('/data/ml-100k/u.data', MOVIELENS_100K_FORMAT, { ratingThreshold: 4 });
 * ```
 */
export async function loadInteractionFile(path: string, format: DelimitedFormat, options: FileLoadOptions = {}): Promise<SequenceDataset> {
  const resolved = resolvePreprocessOptions('loadInteractionFile', options);
  return loadDelimited('loadInteractionFile', resolve(path), format, options.name ?? basename(path), resolved, {});
}

/**
 * Loads a sequence file, one user per line as `user_id item_id item_id ...` with items oldest
 * first (the form of `ml-1m/sequences.txt`). The result has no timestamps and no ratings.
 *
 * @param path - File to read.
 * @param options - Preprocessing options and the dataset name; `ratingThreshold` is rejected.
 * @throws DatasetNotFoundError when the file is missing.
 * @throws DataFormatError when a line is malformed or the file has no data rows.
 * @throws RangeError for an invalid option, including any `ratingThreshold`.
 * @example
 * ```ts
 * const ml1m = await loadSequenceFile('/data/ml-1m/sequences.txt', { name: 'ml-1m', minItemInteractions: 5 });
 * ```
 */
export async function loadSequenceFile(path: string, options: FileLoadOptions = {}): Promise<SequenceDataset> {
  const resolved = resolvePreprocessOptions('loadSequenceFile', options);
  return loadSequences('loadSequenceFile', resolve(path), options.name ?? basename(path), resolved, {});
}

async function loadDelimited(
  where: string,
  path: string,
  format: DelimitedFormat,
  name: string,
  options: ResolvedPreprocessOptions,
  params: Record<string, unknown>,
): Promise<SequenceDataset> {
  checkRatingThreshold(where, options, format.columns.includes('rating'), format.name);
  const parsed = await parseDelimitedFile(path, format, name);
  return finishFile(where, parsed, name, format.name, options, params);
}

async function loadSequences(
  where: string,
  path: string,
  name: string,
  options: ResolvedPreprocessOptions,
  params: Record<string, unknown>,
): Promise<SequenceDataset> {
  checkRatingThreshold(where, options, false, SEQUENCE_FORMAT_NAME);
  const parsed = await parseSequenceFile(path, name);
  return finishFile(where, parsed, name, SEQUENCE_FORMAT_NAME, options, params);
}

function finishFile(
  where: string,
  parsed: ParsedFile,
  name: string,
  format: string,
  options: ResolvedPreprocessOptions,
  params: Record<string, unknown>,
): SequenceDataset {
  const { log, file } = parsed;
  const steps = [stepRead(log.rowCount, log.rawUserIds.length, log.rawItemIds.length, [file.path])];
  if (file.blankLines > 0) {
    steps.push(stepBlankLines(file.blankLines));
  }
  const description = {
    name,
    files: [file.path],
    format,
    params: { ...params, fileBytes: file.bytes, sha256: file.sha256 },
    steps,
  };
  return preprocessLog(where, log, description, options);
}

/** Resolves the data directory from the option or `MALLOC_DATA_DIR` and checks that it exists. */
async function findDataDir(datasetId: string, option: string | undefined): Promise<string> {
  const configured = option ?? process.env.MALLOC_DATA_DIR ?? '';
  if (configured === '') {
    throw new DatasetNotFoundError(dataDirNotSet(datasetId), datasetId, []);
  }
  const dataDir = resolve(configured);
  const info = await stat(dataDir).catch(() => null);
  if (info === null || !info.isDirectory()) {
    throw new DatasetNotFoundError(dataDirNotFound(datasetId, dataDir), datasetId, [dataDir]);
  }
  return dataDir;
}

/** Returns the first of `paths` that is a regular file, or throws naming all of them. */
async function requireOneOf(datasetId: string, dataDir: string, paths: readonly string[]): Promise<string> {
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (info !== null && info.isFile()) {
      return path;
    }
  }
  throw new DatasetNotFoundError(datasetFilesNotFound(datasetId, dataDir, paths), datasetId, paths);
}

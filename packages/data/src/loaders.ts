import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileSha256, loadDatasetCache, saveDatasetCache } from './cache';
import { DatasetCacheError, DatasetNotFoundError } from './errors';
import {
  MOVIELENS_100K_FORMAT,
  MOVIELENS_10M_RATINGS_FORMAT,
  MOVIELENS_1M_RATINGS_FORMAT,
  MOVIELENS_CSV_RATINGS_FORMAT,
  SEQUENCE_FORMAT_NAME,
  parseDelimitedFile,
  parseSequenceFile,
  type DelimitedFormat,
  type ParsedFile,
} from './formats';
import {
  cacheRebuilding,
  cacheSourceChanged,
  cacheUsed,
  cacheWritten,
  dataDirNotFound,
  dataDirNotSet,
  BARS_CTR_FOLDERS,
  datasetFilesNotFound,
  invalidArgument,
  stepBlankLines,
  stepRead,
  unknownDataset,
} from './messages';
import { resolvePreprocessOptions, type ResolvedPreprocessOptions } from './options';
import { checkRatingThreshold, preprocessLog } from './preprocess';
import { loadKuaiRandLog } from './kuairand';
import { loadKuaiVideo, loadMicroVideo } from './bars-ctr';
import { loadDinSamples } from './din';
import { generateSyntheticLog, type SyntheticOptions } from './synthetic';
import type { LoadOptions, SequenceDataset } from './types';

/** Ids accepted by {@link loadDataset}. */
export const DATASET_IDS: readonly string[] = [
  'ml-100k',
  'ml-1m',
  'ml-10m',
  'ml-20m',
  'ml-25m',
  'ml-32m',
  'kuairand-1k',
  'kuairand-pure',
  'microvideo1.7m-x1',
  'kuaivideo-x1',
  'amazon-electronics-x1',
  'synthetic',
];

/**
 * KuaiRand dataset ids and the log each reads: the standard log of 2022-04-08 to 2022-04-21
 * inside the folder the archive unpacks to.
 */
const KUAIRAND_LOGS: Readonly<Record<string, readonly string[]>> = {
  'kuairand-1k': ['KuaiRand-1K', 'data', 'log_standard_4_08_to_4_21_1k.csv'],
  'kuairand-pure': ['KuaiRand-Pure', 'data', 'log_standard_4_08_to_4_21_pure.csv'],
};

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
 * - `'ml-10m'` reads `<dataDir>/ml-10m/ratings.dat`, or `<dataDir>/ml-10M100K/ratings.dat`, the
 *   folder name inside the official archive.
 * - `'ml-20m'`, `'ml-25m'` and `'ml-32m'` read `<dataDir>/<id>/ratings.csv`.
 * - `'kuairand-1k'` reads `<dataDir>/KuaiRand-1K/data/log_standard_4_08_to_4_21_1k.csv` and
 *   `'kuairand-pure'` `<dataDir>/KuaiRand-Pure/data/log_standard_4_08_to_4_21_pure.csv`, with
 *   `is_click` as `dataset.labels` (see {@link loadKuaiRandLog}).
 * - `'microvideo1.7m-x1'` reads `<dataDir>/MicroVideo1.7M_x1/train.csv` and `test.csv`,
 *   `'kuaivideo-x1'` `<dataDir>/KuaiVideo_x1/train.csv` and `test.csv`, and
 *   `'amazon-electronics-x1'` `<dataDir>/AmazonElectronics_x1/train.csv` and `test.csv`. These
 *   are the CSV files of the BARS benchmark, with the click labels as `dataset.labels` (see
 *   {@link loadMicroVideo}, {@link loadKuaiVideo} and {@link loadDinSamples}). They are never
 *   downloaded, and the error for missing files states where to get them.
 * - `'synthetic'` generates data from `options.synthetic` and reads no files.
 *
 * Preprocessing options (thresholds, de-duplication, k-core) apply to every id, the generated
 * data included. With `cacheDir`, the processed dataset is read from and written to a binary
 * cache there.
 *
 * @param id - One of {@link DATASET_IDS}.
 * @param options - Data directory, preprocessing options, logger, generator settings and cache folder.
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
export async function loadDataset(id: string, options: DatasetLoadOptions = {}): Promise<SequenceDataset> {
  // Validate the id and the options before touching the file system.
  if (!DATASET_IDS.includes(id)) {
    throw new RangeError(unknownDataset(id, DATASET_IDS));
  }
  const resolved = resolvePreprocessOptions('loadDataset', options);
  if (options.cacheDir !== undefined && (typeof options.cacheDir !== 'string' || options.cacheDir === '')) {
    throw new RangeError(invalidArgument('loadDataset', 'cacheDir', 'a non-empty path', options.cacheDir));
  }

  // Generated data needs no directory.
  if (id === 'synthetic') {
    const generated = generateSyntheticLog('loadDataset', options.synthetic ?? {});
    return preprocessLog('loadDataset', generated.log, generated.description, resolved);
  }

  // MovieLens files under the data directory, read through the cache when one is given.
  const dataDir = await findDataDir(id, options.dataDir);
  const located = await locateDataset(id, dataDir);
  const read = (): Promise<SequenceDataset> => {
    const path = located.paths[0];
    if (located.format === 'kuairand') {
      return loadKuaiRandLog(path, { ...options, name: id });
    }
    if (located.format === 'microvideo') {
      return loadMicroVideo(located.paths, { ...options, name: id });
    }
    if (located.format === 'kuaivideo') {
      return loadKuaiVideo(located.paths, { ...options, name: id });
    }
    if (located.format === 'din') {
      return loadDinSamples(located.paths, { ...options, name: id });
    }
    return located.format === null
      ? loadSequences('loadDataset', path, id, resolved, { dataDir })
      : loadWithFormat('loadDataset', path, located.format, id, resolved, { dataDir });
  };
  if (options.cacheDir === undefined) {
    return read();
  }
  return readThroughCache(id, located.paths, options.cacheDir, resolved, read);
}

/** Options of {@link loadDataset}. */
export interface DatasetLoadOptions extends LoadOptions {
  /** Generator settings for `'synthetic'`; ignored by the other ids. */
  synthetic?: SyntheticOptions;
  /**
   * Folder of binary caches of processed datasets (see {@link saveDatasetCache}). When set, a
   * cache with the same dataset, data file and preprocessing options is read instead of the
   * text file, after checking that the file's size and SHA-256 still match, and a missing,
   * stale or corrupt cache is rebuilt. `'synthetic'` is never cached. Default value: no cache.
   */
  cacheDir?: string;
}

/** Files of a dataset id, read in this order, and their format. */
interface LocatedDataset {
  paths: string[];
  /**
   * The delimited format, `null` for the sequence format, `'kuairand'` for a KuaiRand log, and
   * `'microvideo'`, `'kuaivideo'` or `'din'` for the BARS CSV files.
   */
  format: DelimitedFormat | 'kuairand' | 'microvideo' | 'kuaivideo' | 'din' | null;
}

/** Finds the files of a dataset id and their format. */
async function locateDataset(id: string, dataDir: string): Promise<LocatedDataset> {
  const kuairandLog = KUAIRAND_LOGS[id];
  if (kuairandLog !== undefined) {
    const path = await requireOneOf(id, dataDir, [join(dataDir, ...kuairandLog)]);
    return { paths: [path], format: 'kuairand' };
  }
  const barsFolder = BARS_CTR_FOLDERS[id];
  if (barsFolder !== undefined) {
    const paths = await requireAll(id, dataDir, [join(dataDir, barsFolder.folder, 'train.csv'), join(dataDir, barsFolder.folder, 'test.csv')]);
    const formats: Record<string, LocatedDataset['format']> = { 'microvideo1.7m-x1': 'microvideo', 'kuaivideo-x1': 'kuaivideo', 'amazon-electronics-x1': 'din' };
    return { paths, format: formats[id] };
  }
  if (id === 'ml-100k') {
    const path = await requireOneOf(id, dataDir, [join(dataDir, 'ml-100k', 'u.data')]);
    return { paths: [path], format: MOVIELENS_100K_FORMAT };
  }
  if (id === 'ml-10m') {
    const path = await requireOneOf(id, dataDir, [join(dataDir, 'ml-10m', 'ratings.dat'), join(dataDir, 'ml-10M100K', 'ratings.dat')]);
    return { paths: [path], format: MOVIELENS_10M_RATINGS_FORMAT };
  }
  if (id !== 'ml-1m') {
    const path = await requireOneOf(id, dataDir, [join(dataDir, id, 'ratings.csv')]);
    return { paths: [path], format: MOVIELENS_CSV_RATINGS_FORMAT };
  }
  const ratingsPath = join(dataDir, 'ml-1m', 'ratings.dat');
  const sequencesPath = join(dataDir, 'ml-1m', 'sequences.txt');
  const path = await requireOneOf(id, dataDir, [ratingsPath, sequencesPath]);
  return { paths: [path], format: path === ratingsPath ? MOVIELENS_1M_RATINGS_FORMAT : null };
}

/**
 * Returns the cached dataset when the cache is valid and its source file is unchanged;
 * otherwise runs `read` and writes its result to the cache.
 */
async function readThroughCache(
  id: string,
  sourcePaths: readonly string[],
  cacheDir: string,
  options: ResolvedPreprocessOptions,
  read: () => Promise<SequenceDataset>,
): Promise<SequenceDataset> {
  // One cache file per dataset, source files and preprocessing options. A single file keeps
  // the key of earlier versions, so their caches stay valid.
  const key = JSON.stringify({
    id,
    sourcePath: sourcePaths.length === 1 ? sourcePaths[0] : sourcePaths,
    minItemInteractions: options.minItemInteractions,
    minUserInteractions: options.minUserInteractions,
    ratingThreshold: options.ratingThreshold,
    dedupe: options.dedupe,
  });
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const cachePath = join(resolve(cacheDir), `${id}-${digest}.mallocds`);

  // Use the cache when it is intact and its source is unchanged.
  try {
    const cached = await loadDatasetCache(cachePath);
    await checkSourceUnchanged(cachePath, sourcePaths, cached);
    options.logger.info(`${id}: ${cacheUsed(cachePath)}`);
    return cached;
  } catch (error) {
    if (!(error instanceof DatasetCacheError)) {
      throw error;
    }
    if (error.reason !== 'missing') {
      options.logger.warn(cacheRebuilding(error.message));
    }
  }

  // Rebuild and store.
  const dataset = await read();
  await saveDatasetCache(dataset, cachePath);
  options.logger.info(`${id}: ${cacheWritten(cachePath)}`);
  return dataset;
}

/**
 * Checks the source files against the cache. `source.params.fileBytes` and `sha256` are single
 * values for one file and arrays in file order for several files.
 *
 * @throws DatasetCacheError (`'stale'`) when a source file's path, size or SHA-256 differ from the cached ones.
 */
async function checkSourceUnchanged(cachePath: string, sourcePaths: readonly string[], cached: SequenceDataset): Promise<void> {
  const files = cached.source.files;
  if (files.length !== sourcePaths.length || files.some((file, index) => file !== sourcePaths[index])) {
    throw new DatasetCacheError(cacheSourceChanged(cachePath, sourcePaths.join(', '), `the cache was built from ${files.join(', ')}`), cachePath, 'stale');
  }
  const cachedBytes = cached.source.params.fileBytes;
  const cachedSha256 = cached.source.params.sha256;
  for (const [index, sourcePath] of sourcePaths.entries()) {
    const expectedBytes: unknown = Array.isArray(cachedBytes) ? cachedBytes[index] : cachedBytes;
    const size = (await stat(sourcePath)).size;
    if (size !== expectedBytes) {
      throw new DatasetCacheError(cacheSourceChanged(cachePath, sourcePath, `${size} bytes, cached ${String(expectedBytes)}`), cachePath, 'stale');
    }
    const expectedSha256: unknown = Array.isArray(cachedSha256) ? cachedSha256[index] : cachedSha256;
    const sha256 = await fileSha256(sourcePath);
    if (sha256 !== expectedSha256) {
      throw new DatasetCacheError(cacheSourceChanged(cachePath, sourcePath, `SHA-256 ${sha256}, cached ${String(expectedSha256)}`), cachePath, 'stale');
    }
  }
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
  return loadWithFormat('loadInteractionFile', resolve(path), format, options.name ?? basename(path), resolved, {});
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

/** Loads a file of a known format; `where` names the public function in error messages. */
export async function loadWithFormat(
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
export async function findDataDir(datasetId: string, option: string | undefined): Promise<string> {
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

/** Returns `paths` when every one is a regular file, or throws naming the missing ones. */
async function requireAll(datasetId: string, dataDir: string, paths: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (info === null || !info.isFile()) {
      missing.push(path);
    }
  }
  if (missing.length > 0) {
    throw new DatasetNotFoundError(datasetFilesNotFound(datasetId, dataDir, missing, 'all'), datasetId, missing);
  }
  return [...paths];
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

import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DatasetDownloadError } from './errors';
import { silentLogger, type Logger } from './logger';
import {
  downloadChecksumMismatch,
  downloadFailed,
  downloadHttpStatus,
  downloadSizeMismatch,
  downloadSkipped,
  downloadUnpacked,
  downloadUnpackFailed,
  downloadVerified,
  BARS_CTR_FOLDERS,
  invalidArgument,
  manualDownloadOnly,
  unknownDownload,
} from './messages';
import { extractZip } from './zip';

/** A download of a MovieLens archive: URL, published checksum and what it unpacks to. */
export interface DatasetArchive {
  /** Official GroupLens URL. */
  url: string;
  /** MD5 of the archive, hexadecimal; `null` when no published value could be confirmed. */
  md5: string | null;
  /** Size of the archive in bytes; `null` when unknown. */
  bytes: number | null;
  /** Folder that the archive unpacks to, relative to the data directory. */
  folder: string;
  /** File that {@link loadDataset} reads, relative to the data directory. */
  ratingsFile: string;
}

// NOTE: these MD5 values come from third-party download scripts that agree with each other,
// for example eli-osherovich/papers_with_code, datasets/movielens/dl_config.py. They were not
// compared with GroupLens' own `<name>.zip.md5` files, because this machine has no network.
// No MD5 of ml-32m.zip was found, so that archive is checked only by the CRC-32 of each entry.
/** Archives that {@link downloadDataset} can fetch, by dataset id. */
export const DATASET_ARCHIVES: Readonly<Record<string, Readonly<DatasetArchive>>> = Object.freeze({
  'ml-100k': archive('ml-100k', '0e33842e24a9c977be4e0107933c0723', null, 'ml-100k', 'ml-100k/u.data'),
  'ml-1m': archive('ml-1m', 'c4d9eecfca2ab87c1945afe126590906', null, 'ml-1m', 'ml-1m/ratings.dat'),
  'ml-10m': archive('ml-10m', 'ce571fd55effeba0271552578f2648bd', null, 'ml-10M100K', 'ml-10M100K/ratings.dat'),
  'ml-20m': archive('ml-20m', 'cd245b17a1ae2cc31bb14903e1204af3', 198_702_078, 'ml-20m', 'ml-20m/ratings.csv'),
  'ml-25m': archive('ml-25m', '6b51fb2759a8657d3bfcbfc42b592ada', null, 'ml-25m', 'ml-25m/ratings.csv'),
  'ml-32m': archive('ml-32m', null, null, 'ml-32m', 'ml-32m/ratings.csv'),
});

function archive(name: string, md5: string | null, bytes: number | null, folder: string, ratingsFile: string): Readonly<DatasetArchive> {
  return Object.freeze({ url: `https://files.grouplens.org/datasets/movielens/${name}.zip`, md5, bytes, folder, ratingsFile });
}

/** The part of the Fetch API that {@link downloadDataset} uses; the global `fetch` fits it. */
export type FetchFunction = (url: string) => Promise<{
  ok: boolean;
  status: number;
  statusText: string;
  body: WebReadableStream<Uint8Array> | ReadableStream<Uint8Array> | null;
}>;

/** Options of {@link downloadDataset}. */
export interface DownloadOptions {
  /** Directory that receives the unpacked folder (for example `<dataDir>/ml-20m/`). */
  dataDir: string;
  /** Fetch implementation. Default value: the global `fetch`. */
  fetch?: FetchFunction;
  /** Receives progress lines. Default value: `silentLogger`. */
  logger?: Logger;
  /** Downloads again when the dataset's ratings file already exists. Default value: `false`. */
  force?: boolean;
  /**
   * Replaces the URL, checksum and layout of the archive, for a mirror or a local copy.
   * Default value: `DATASET_ARCHIVES[id]`.
   */
  archive?: DatasetArchive;
}

/** Outcome of {@link downloadDataset}. */
export interface DownloadResult {
  /** Dataset id. */
  id: string;
  /** Absolute path of the file that {@link loadDataset} reads. */
  ratingsFile: string;
  /** `true` when the file already existed and nothing was downloaded. */
  skipped: boolean;
  /** Absolute paths of the unpacked files; empty when skipped. */
  files: string[];
  /** Size of the archive in bytes; 0 when skipped. */
  archiveBytes: number;
  /** MD5 and SHA-256 of the archive, hexadecimal; empty when skipped. */
  md5: string;
  sha256: string;
}

/**
 * Downloads a MovieLens archive from GroupLens, verifies it and unpacks it into `dataDir`.
 *
 * The archive is streamed to a temporary file in `dataDir`, and its size and MD5 are compared
 * with the published values. It is then unpacked into a temporary folder by a zip reader
 * that checks every entry's CRC-32 and rejects entries whose path would land outside that
 * folder. Only then are the unpacked files renamed into place; files of an existing folder
 * that the archive lacks, such as a `sequences.txt`, are kept. On any failure the temporary
 * file and folder are removed, so no partial file remains. An existing ratings file is kept
 * unless `force` is set.
 *
 * @param id - One of the keys of {@link DATASET_ARCHIVES}.
 * @param options - Data directory, fetch implementation, logger and `force`.
 * @throws RangeError for an unknown id, an id that is only placed by hand (the BARS CSV sets,
 *   whose message states where to get them), or a missing `dataDir`.
 * @throws DatasetDownloadError when the download fails or the archive does not verify. The
 *   message gives the URL to download by hand and the folder to unpack it into.
 * @example
 * ```ts
 * await downloadDataset('ml-20m', { dataDir: '/data', logger });
 * const ml20m = await loadDataset('ml-20m', { dataDir: '/data' });
 * ```
 */
export async function downloadDataset(id: string, options: DownloadOptions): Promise<DownloadResult> {
  // Validate.
  const where = 'downloadDataset';
  if (Object.hasOwn(BARS_CTR_FOLDERS, id)) {
    throw new RangeError(manualDownloadOnly(id));
  }
  if (!Object.hasOwn(DATASET_ARCHIVES, id)) {
    throw new RangeError(unknownDownload(id, Object.keys(DATASET_ARCHIVES)));
  }
  const known = options?.archive ?? DATASET_ARCHIVES[id];
  if (typeof options?.dataDir !== 'string' || options.dataDir === '') {
    throw new RangeError(invalidArgument(where, 'dataDir', 'a non-empty path', options?.dataDir));
  }
  const logger = options.logger ?? silentLogger;
  const fetchFunction = options.fetch ?? (globalThis.fetch as FetchFunction);
  const dataDir = resolve(options.dataDir);
  const ratingsFile = join(dataDir, known.ratingsFile);

  // An existing dataset is kept.
  if (!options.force && (await isFile(ratingsFile))) {
    logger.info(downloadSkipped(id, ratingsFile));
    return { id, ratingsFile, skipped: true, files: [], archiveBytes: 0, md5: '', sha256: '' };
  }

  // Download to a temporary file, then verify and unpack it into a temporary folder.
  await mkdir(dataDir, { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const archivePath = join(dataDir, `.${id}.zip.${suffix}.part`);
  const stagingDir = join(dataDir, `.${id}.unpack-${suffix}`);
  try {
    const digest = await fetchToFile(id, known, fetchFunction, archivePath, dataDir);
    verifyArchive(id, known, digest, dataDir);
    logger.info(downloadVerified(id, digest.bytes, digest.md5));
    const unpacked = await extractZip(archivePath, stagingDir).catch((error: Error) => {
      throw new DatasetDownloadError(downloadUnpackFailed(id, known.url, error.message, dataDir), id, known.url);
    });

    // Move the unpacked files into place, keeping other files of existing folders.
    await moveInto(stagingDir, dataDir);
    const files = unpacked.map((file) => join(dataDir, file.slice(stagingDir.length + 1)));
    logger.info(downloadUnpacked(id, files.length, dataDir));
    return { id, ratingsFile, skipped: false, files, archiveBytes: digest.bytes, md5: digest.md5, sha256: digest.sha256 };
  } finally {
    await rm(archivePath, { force: true });
    await rm(stagingDir, { recursive: true, force: true });
  }
}

interface ArchiveDigest {
  bytes: number;
  md5: string;
  sha256: string;
}

/** Streams the response body to `path`, hashing it on the way. */
async function fetchToFile(id: string, known: DatasetArchive, fetchFunction: FetchFunction, path: string, dataDir: string): Promise<ArchiveDigest> {
  // Request.
  let response: Awaited<ReturnType<FetchFunction>>;
  try {
    response = await fetchFunction(known.url);
  } catch (error) {
    throw new DatasetDownloadError(downloadFailed(id, known.url, describeError(error), dataDir), id, known.url);
  }
  if (!response.ok || response.body === null) {
    throw new DatasetDownloadError(downloadHttpStatus(id, known.url, response.status, response.statusText, dataDir), id, known.url);
  }

  // Stream and hash.
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let bytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      sha256.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), hashing, createWriteStream(path));
  } catch (error) {
    throw new DatasetDownloadError(downloadFailed(id, known.url, describeError(error), dataDir), id, known.url);
  }
  return { bytes, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/** @throws DatasetDownloadError when the size or MD5 differs from the published value. */
function verifyArchive(id: string, known: DatasetArchive, digest: ArchiveDigest, dataDir: string): void {
  if (known.bytes !== null && digest.bytes !== known.bytes) {
    throw new DatasetDownloadError(downloadSizeMismatch(id, known.url, known.bytes, digest.bytes, dataDir), id, known.url);
  }
  if (known.md5 !== null && digest.md5 !== known.md5) {
    throw new DatasetDownloadError(downloadChecksumMismatch(id, known.url, known.md5, digest.md5, dataDir), id, known.url);
  }
}

/**
 * Moves every file under `source` to the same relative path under `target`, replacing files
 * of the same name, and merges folders, so files that the archive lacks stay where they are.
 */
async function moveInto(source: string, target: string): Promise<void> {
  for (const entry of await readdir(source, { withFileTypes: true })) {
    const from = join(source, entry.name);
    const to = join(target, entry.name);
    const existing = await stat(to).catch(() => null);
    if (entry.isDirectory() && existing !== null && existing.isDirectory()) {
      await moveInto(from, to);
      continue;
    }
    await rm(to, { recursive: true, force: true });
    await rename(from, to);
  }
}

async function isFile(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  return info !== null && info.isFile();
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

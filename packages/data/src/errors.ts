/** A data file that does not match its format; the message names the file, line and expected format. */
export class DataFormatError extends Error {
  override readonly name = 'DataFormatError';

  /**
   * @param message - The full message, built by `malformedLine` or `emptyFile` in `messages.ts`.
   * @param file - Path of the file.
   * @param line - 1-based line number, or 0 when the error concerns the whole file.
   * @param text - The offending line, untruncated; `''` for whole-file errors.
   */
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    readonly text: string,
  ) {
    super(message);
  }
}

/** Missing data: a data directory, a dataset file or a file passed to a loader. */
export class DatasetNotFoundError extends Error {
  override readonly name = 'DatasetNotFoundError';

  /**
   * @param message - The full message, with the path and how to get the data.
   * @param datasetId - Id of the dataset being loaded.
   * @param paths - Every path that was tried.
   */
  constructor(
    message: string,
    readonly datasetId: string,
    readonly paths: readonly string[],
  ) {
    super(message);
  }
}

/**
 * A dataset cache that cannot be used: `'missing'`, `'corrupt'` (not a cache, truncated or a
 * failed checksum) or `'stale'` (another format version, or source files that changed).
 */
export class DatasetCacheError extends Error {
  override readonly name = 'DatasetCacheError';

  /**
   * @param message - The full message, with the file and what to do.
   * @param path - Path of the cache file.
   * @param reason - Why the cache was rejected.
   */
  constructor(
    message: string,
    readonly path: string,
    readonly reason: 'missing' | 'corrupt' | 'stale',
  ) {
    super(message);
  }
}

/** A failed or unverifiable download; the message gives the URL and the folder to unpack into. */
export class DatasetDownloadError extends Error {
  override readonly name = 'DatasetDownloadError';

  /**
   * @param message - The full message, with the manual download instructions.
   * @param datasetId - Id of the dataset being downloaded.
   * @param url - URL of the archive.
   */
  constructor(
    message: string,
    readonly datasetId: string,
    readonly url: string,
  ) {
    super(message);
  }
}

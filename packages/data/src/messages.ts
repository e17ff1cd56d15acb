// Builders of every error, warning and report line of @malloc/data. Tests assert against these
// same functions, so each message is worded in one place.

import { join } from 'node:path';

/** Maximum length of the excerpt of an offending line that an error quotes, in characters. */
export const MAX_QUOTED_CHARS = 80;

/** Home page of the KuaiRand dataset, with the download terms and field descriptions. */
export const KUAIRAND_URL = 'https://github.com/chongminggao/KuaiRand';

/**
 * Folder and download page of each dataset id read from the BARS/FuxiCTR CSV files. The
 * archives are also listed in the BARS repository (https://github.com/reczoo/BARS, folder
 * `datasets/`).
 */
export const BARS_CTR_FOLDERS: Readonly<Record<string, { folder: string; url: string }>> = {
  'microvideo1.7m-x1': { folder: 'MicroVideo1.7M_x1', url: 'https://huggingface.co/datasets/reczoo/MicroVideo1.7M_x1' },
  'kuaivideo-x1': { folder: 'KuaiVideo_x1', url: 'https://huggingface.co/datasets/reczoo/KuaiVideo_x1' },
  'amazon-electronics-x1': { folder: 'AmazonElectronics_x1', url: 'https://huggingface.co/datasets/reczoo/AmazonElectronics_x1' },
};

/** Download page of the MovieLens archives. */
export const MOVIELENS_URL = 'https://grouplens.org/datasets/movielens/';

/** Quotes text as a JSON string (tabs show as `\t`), cut to {@link MAX_QUOTED_CHARS} characters. */
export function quoteText(text: string): string {
  const cut = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return JSON.stringify(cut);
}

function list(values: readonly string[]): string {
  return values.map((value) => `'${value}'`).join(', ');
}

// Validation of arguments.

export function invalidArgument(where: string, argument: string, expected: string, received: unknown): string {
  return `${where}: invalid ${argument}: expected ${expected}, received ${describeValue(received)}.`;
}

/** Formats a received value for an error message: strings quoted, arrays as `[a, b]`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(describeValue).join(', ')}]`;
  }
  return String(value);
}

export function missingHeaderColumn(where: string, argument: string, name: string, header: readonly string[]): string {
  return `${where}: invalid ${argument}: expected one of the header columns ${list(header)}, received ${JSON.stringify(name)}.`;
}

export function recBoleIdNotToken(where: string, field: string, type: string): string {
  return `${where}: invalid field '${field}': expected type 'token' for a user or item id, received '${type}'.`;
}

export function recBoleInvalidHeader(file: string, field: string, header: string): string {
  return `Invalid data in ${file} at line 1: invalid header field ${quoteText(field)}. Expected tab-separated name:type fields such as user_id:token item_id:token timestamp:float. Line text: ${quoteText(header)}.`;
}

export function noTimestamps(where: string, name: string): string {
  return `${where}: invalid dataset '${name}': expected timestamps, received a dataset without them. A time cut needs a source with timestamps.`;
}

export function ratingThresholdWithoutRatings(where: string, format: string): string {
  return `${where}: invalid ratingThreshold: the ${format} format has no ratings, so no threshold can apply. Remove ratingThreshold or use a source with ratings.`;
}

export function mixedIdKinds(existing: string, requested: string): string {
  return `InteractionLogBuilder: invalid row: the builder holds ${existing} ids, so a row with ${requested} ids cannot be added. Use add() for integer ids or addKeyed() for string ids, not both.`;
}

// Malformed input.

/**
 * Error for one malformed line: the file, the 1-based line number, what is wrong, the
 * expected format and the offending text (truncated).
 */
export function malformedLine(file: string, line: number, problem: string, expected: string, text: string): string {
  return `Invalid data in ${file} at line ${line}: ${problem}. Expected ${expected}. Line text: ${quoteText(text)}.`;
}

/** Problem part of a `malformedLine` error when the Amazon ratings edition cannot be detected. */
export function amazonEditionUndetected(found: string): string {
  return `the Amazon ratings edition cannot be detected because ${found}; pass edition 2014 or 2018`;
}

/** Expected-format part of a `malformedLine` error about Amazon ratings edition detection. */
export const AMAZON_EDITION_EXPECTED =
  'every line to start with a reviewer id and an ASIN (2014: A2SUAM1J3GNN3B,0000013714,...) or with an ASIN and a reviewer id (2018: 0000013714,A2SUAM1J3GNN3B,...)';

export function missingColumns(names: readonly string[]): string {
  return `the header lacks the column(s) ${list(names)}`;
}

/** Error for one malformed row of a columnar (Parquet) file, with the 1-based row number. */
export function malformedRow(file: string, row: number, problem: string, expected: string, text: string): string {
  return `Invalid data in ${file} at row ${row}: ${problem}. Expected ${expected}. Row: ${quoteText(text)}.`;
}

export function invalidParquet(file: string, reason: string, expected: string): string {
  return `Invalid data in ${file}: not a readable Parquet file (${reason}). Expected ${expected}.`;
}

/** `longestFile` names the file of the longest history when it is not the file of the error. */
export function historyNotPrefix(user: string, longestLine: number, longestFile?: string): string {
  return `the history of user ${JSON.stringify(user)} is not a prefix of the user's longest history, on line ${longestLine}${longestFile === undefined ? '' : ` of ${longestFile}`}`;
}

export function historyLengthMismatch(items: number, categories: number): string {
  return `the history has ${items} items but ${categories} categories`;
}

/** `longestFile` names the file of the longest history when it is not the file of the error. */
export function clickNotInHistory(user: string, longestLine: number, longestFile?: string): string {
  return `this clicked item differs from the item at the same position of the longest history of user ${JSON.stringify(user)}, on line ${longestLine}${longestFile === undefined ? '' : ` of ${longestFile}`}`;
}

export function emptyFile(file: string, expected: string): string {
  return `Invalid data in ${file}: the file contains no data rows. Expected ${expected}.`;
}

export function wrongFieldCount(expectedFields: number, foundFields: number): string {
  return `found ${foundFields} field${foundFields === 1 ? '' : 's'}, expected ${expectedFields}`;
}

export function tooFewFields(minimumFields: number, foundFields: number): string {
  return `found ${foundFields} field${foundFields === 1 ? '' : 's'}, expected at least ${minimumFields}`;
}

export function wrongSeparator(found: string, expected: string): string {
  return `the line is separated by ${found}, but the format uses ${expected}`;
}

export function invalidId(column: string, text: string): string {
  return `invalid ${column} ${quoteText(text)}: ids must be non-negative integers of at most 15 digits`;
}

export function invalidLabel(text: string): string {
  return `invalid label ${quoteText(text)}: expected 0 or 1`;
}

export function emptyId(column: string): string {
  return `empty ${column}: string ids must contain at least one character other than spaces`;
}

export function invalidNumber(column: string, text: string): string {
  return `invalid ${column} ${quoteText(text)}: expected a non-negative decimal number`;
}

export function invalidTimestamp(text: string): string {
  return `invalid timestamp ${quoteText(text)}: expected a decimal number`;
}

/** Problem part of a `malformedLine` error about one entry of a history column. */
export function invalidHistoryEntry(column: string, entry: string, separator: string): string {
  return `invalid entry ${quoteText(entry)} in the history column ${column}: expected non-empty ids joined by ${JSON.stringify(separator)}`;
}

/** Problem part of a `malformedLine` error when a history field contains the separator that the file does not use. */
export function historySeparatorMismatch(found: string, expected: string): string {
  return `this history contains ${found}, but the histories of this file are joined by ${expected}`;
}

// Missing data.

/** Explains how to obtain the files of a dataset, for errors about missing data. */
export function howToGetData(datasetId: string, dataDir: string | null): string {
  const barsFolder = BARS_CTR_FOLDERS[datasetId];
  if (barsFolder !== undefined) {
    const target = dataDir === null ? `<dataDir>/${barsFolder.folder}/` : `${join(dataDir, barsFolder.folder)}/`;
    return `This dataset is not downloaded automatically. Download ${barsFolder.folder}.zip from ${barsFolder.url} and unpack it so that ${target} contains train.csv and test.csv, or set MALLOC_DATA_DIR (or --data-dir) to the directory that contains ${barsFolder.folder}/.`;
  }
  if (datasetId.startsWith('kuairand-')) {
    const folder = datasetId === 'kuairand-1k' ? 'KuaiRand-1K' : 'KuaiRand-Pure';
    const target = dataDir === null ? `<dataDir>/${folder}/` : `${join(dataDir, folder)}/`;
    return `Get the KuaiRand archive as described at ${KUAIRAND_URL} and unpack it so that ${target}data/ contains its log_*.csv files, or set MALLOC_DATA_DIR (or --data-dir) to the directory that contains ${folder}/.`;
  }
  const target = dataDir === null ? `<dataDir>/${datasetId}/` : `${join(dataDir, datasetId)}/`;
  return `Download MovieLens from ${MOVIELENS_URL} and unpack it into ${target}, or set MALLOC_DATA_DIR (or --data-dir) to a directory that contains ${datasetId}/.`;
}

export function dataDirNotSet(datasetId: string): string {
  return `Dataset '${datasetId}' is read from a data directory, but none is set: MALLOC_DATA_DIR is unset and no dataDir (--data-dir) was given. ${howToGetData(datasetId, null)}`;
}

export function dataDirNotFound(datasetId: string, dataDir: string): string {
  return `Data directory not found: ${dataDir} (needed by dataset '${datasetId}'). ${howToGetData(datasetId, dataDir)}`;
}

/** `needed` is `'any'` when one of `paths` would do, and `'all'` when each of them is required. */
export function datasetFilesNotFound(datasetId: string, dataDir: string, paths: readonly string[], needed: 'any' | 'all' = 'any'): string {
  let tried = paths.length === 1 ? paths[0] : `any of ${paths.join(', ')}`;
  if (paths.length > 1 && needed === 'all') {
    tried = paths.join(' and ');
  }
  return `Dataset '${datasetId}' not found: missing ${tried}. ${howToGetData(datasetId, dataDir)}`;
}

export function fileNotFound(datasetId: string, path: string): string {
  return `File not found: ${path} (dataset '${datasetId}'). Check the path, or download the data and point the loader at the unpacked file.`;
}

export function notAFile(datasetId: string, path: string): string {
  return `Not a regular file: ${path} (dataset '${datasetId}'). Pass the path of the data file itself.`;
}

export function unknownDataset(datasetId: string, accepted: readonly string[]): string {
  return `Unknown dataset '${datasetId}'. Accepted datasets: ${list(accepted)}.`;
}

export function emptyDataset(name: string, rowsRead: number): string {
  return `${name}: preprocessing removed all ${rowsRead} rows read, so the dataset is empty. Lower minItemInteractions, minUserInteractions or ratingThreshold.`;
}

// Report lines, one per preprocessing step.

export function stepRead(rows: number, users: number, items: number, files: readonly string[]): string {
  return `read ${rows} rows (${users} users, ${items} items) from ${files.join(', ')}`;
}

export function stepGenerated(rows: number, users: number, items: number, seed: number): string {
  return `generated ${rows} interactions (${users} users, ${items} items) with seed ${seed}`;
}

export function stepReadFiltered(rowsInFile: number, keptRows: number, users: number, items: number, files: readonly string[]): string {
  return `read ${rowsInFile} rows from ${files.join(', ')}; ${keptRows} rows (${users} users, ${items} items) passed the filters below`;
}

export function stepRowFilter(filter: string, removedRows: number, keptRows: number): string {
  return `${filter}: removed ${removedRows} rows, kept ${keptRows}`;
}

export function stepReadFiles(rowsByFile: readonly number[], files: readonly string[]): string {
  return `rows per file: ${files.map((file, index) => `${rowsByFile[index]} in ${file}`).join(', ')}`;
}

export function stepLabels(clicked: number, notClicked: number): string {
  return `labels: ${clicked} clicked and ${notClicked} not clicked impressions, all kept`;
}

/** Name of a history separator in messages: `U+0002` for the control character, else the quoted text. */
export function historySeparatorName(separator: string): string {
  return separator === '\u0002' ? 'U+0002' : JSON.stringify(separator);
}

/** `origin`: found in the file, given as an option, or the format's default because no history has two entries. */
export function stepHistorySeparator(separator: string, origin: 'detected' | 'option' | 'default'): string {
  const explanation = { detected: 'detected in the file', option: 'set by the historySeparator option', default: 'the default of the format, because no history has two entries' }[origin];
  return `history separator ${historySeparatorName(separator)}: ${explanation}`;
}

export function stepBlankLines(count: number): string {
  return `skipped ${count} blank line${count === 1 ? '' : 's'}`;
}

export function stepRatingThreshold(threshold: number, removed: number, kept: number): string {
  return `rating >= ${threshold}: removed ${removed} rows, kept ${kept}`;
}

export function stepSort(hasTimestamps: boolean): string {
  return hasTimestamps
    ? 'sorted each user by timestamp; equal timestamps keep file order'
    : 'kept file order as the chronological order (no timestamps)';
}

export function stepDedupe(policy: string, removed: number): string {
  return `dedupe ${policy}: removed ${removed} repeated (user, item) rows`;
}

export function stepKCore(minUser: number, minItem: number, removed: number, passes: number): string {
  return `k-core (users >= ${minUser}, items >= ${minItem}): removed ${removed} interactions in ${passes} pass${passes === 1 ? '' : 'es'}`;
}

export function stepRemap(users: number, items: number, interactions: number, usersRemoved: number, itemsRemoved: number): string {
  return `remapped ids in ascending raw order: ${users} users, ${items} items (ids 1..${items}, 0 is padding), ${interactions} interactions; ${usersRemoved} users and ${itemsRemoved} items removed in total`;
}

export function stepSample(count: number, from: number, seed: number): string {
  return `sampled ${count} of ${from} users with seed ${seed}; item ids unchanged`;
}

// Dataset cache.

const REBUILD = 'Delete the file, or load the dataset without the cache, so that it is rebuilt.';

export function cacheNotFound(path: string): string {
  return `Dataset cache not found: ${path}.`;
}

export function cacheUnknownFile(path: string): string {
  return `Invalid dataset cache ${path}: the file does not start with MALLOCDS, so it is not a dataset cache. ${REBUILD}`;
}

export function cacheVersionMismatch(path: string, found: number, expected: number): string {
  return `Stale dataset cache ${path}: it has format version ${found}, but this reader expects version ${expected}. ${REBUILD}`;
}

export function cacheTruncated(path: string): string {
  return `Corrupt dataset cache ${path}: the file is shorter than its header says, so it was truncated. ${REBUILD}`;
}

export function cacheChecksumMismatch(path: string): string {
  return `Corrupt dataset cache ${path}: the SHA-256 checksum of the content does not match the one stored at the end of the file. ${REBUILD}`;
}

export function cacheSourceChanged(path: string, file: string, detail: string): string {
  return `Stale dataset cache ${path}: the source file ${file} changed since the cache was written (${detail}). ${REBUILD}`;
}

export function cacheRebuilding(problem: string): string {
  return `${problem} Rebuilding it from the source files.`;
}

export function cacheUsed(path: string): string {
  return `read the processed dataset from the cache ${path}`;
}

export function cacheWritten(path: string): string {
  return `wrote the processed dataset to the cache ${path}`;
}

// Zip archives.

export function zipInvalid(path: string, problem: string): string {
  return `Invalid zip archive ${path}: ${problem}.`;
}

export function zipUnsupported(path: string, feature: string): string {
  return `Unsupported zip archive ${path}: this reader does not support ${feature}. Unpack the archive with another tool.`;
}

export function zipUnsafePath(path: string, entry: string, targetDir: string): string {
  return `Rejected zip archive ${path}: the entry ${JSON.stringify(entry)} would be written outside ${targetDir}. Nothing was extracted.`;
}

export function zipCrcMismatch(path: string, entry: string, expectedCrc: number, foundCrc: number, expectedBytes: number, foundBytes: number): string {
  const hex = (value: number): string => value.toString(16).padStart(8, '0');
  return `Corrupt zip archive ${path}: the entry '${entry}' decompressed to ${foundBytes} bytes with CRC-32 ${hex(foundCrc)}, expected ${expectedBytes} bytes with CRC-32 ${hex(expectedCrc)}.`;
}

// Downloads.

/** Tells how to download and place an archive by hand. */
export function manualDownload(url: string, dataDir: string): string {
  return `Download ${url} by hand and unpack it into ${dataDir}/ (the archive contains the dataset folder).`;
}

export function manualDownloadOnly(datasetId: string): string {
  return `downloadDataset: dataset '${datasetId}' cannot be downloaded automatically. ${howToGetData(datasetId, null)}`;
}

export function unknownDownload(datasetId: string, accepted: readonly string[]): string {
  return `downloadDataset: unknown dataset '${datasetId}'. Datasets that can be downloaded: ${list(accepted)}.`;
}

export function downloadFailed(datasetId: string, url: string, reason: string, dataDir: string): string {
  return `Download of '${datasetId}' from ${url} failed: ${reason}. ${manualDownload(url, dataDir)}`;
}

export function downloadHttpStatus(datasetId: string, url: string, status: number, statusText: string, dataDir: string): string {
  return `Download of '${datasetId}' from ${url} failed with HTTP status ${status}${statusText === '' ? '' : ` ${statusText}`}. ${manualDownload(url, dataDir)}`;
}

export function downloadSizeMismatch(datasetId: string, url: string, expected: number, received: number, dataDir: string): string {
  return `Download of '${datasetId}' from ${url} is invalid: expected ${expected} bytes, received ${received}. The file was deleted. ${manualDownload(url, dataDir)}`;
}

export function downloadChecksumMismatch(datasetId: string, url: string, expected: string, received: string, dataDir: string): string {
  return `Download of '${datasetId}' from ${url} is invalid: expected MD5 ${expected}, received ${received}. The file was deleted. ${manualDownload(url, dataDir)}`;
}

export function downloadUnpackFailed(datasetId: string, url: string, reason: string, dataDir: string): string {
  return `Unpacking '${datasetId}' failed: ${reason} Nothing was kept. ${manualDownload(url, dataDir)}`;
}

export function downloadSkipped(datasetId: string, path: string): string {
  return `${datasetId}: ${path} already exists, so nothing was downloaded; pass force: true to download again`;
}

export function downloadVerified(datasetId: string, bytes: number, md5: string): string {
  return `${datasetId}: downloaded ${bytes} bytes, MD5 ${md5}`;
}

export function downloadUnpacked(datasetId: string, files: number, dataDir: string): string {
  return `${datasetId}: unpacked ${files} files into ${dataDir}`;
}

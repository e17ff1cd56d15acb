// Builders of every error, warning and report line of @malloc/data. Tests assert against these
// same functions, so each message is worded in one place.

import { join } from 'node:path';

/** Maximum length of the excerpt of an offending line that an error quotes, in characters. */
export const MAX_QUOTED_CHARS = 80;

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

export function ratingThresholdWithoutRatings(where: string, format: string): string {
  return `${where}: invalid ratingThreshold: the ${format} format has no ratings, so no threshold can apply. Remove ratingThreshold or use a source with ratings.`;
}

// Malformed input.

/**
 * Error for one malformed line: the file, the 1-based line number, what is wrong, the
 * expected format and the offending text (truncated).
 */
export function malformedLine(file: string, line: number, problem: string, expected: string, text: string): string {
  return `Invalid data in ${file} at line ${line}: ${problem}. Expected ${expected}. Line text: ${quoteText(text)}.`;
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

export function invalidNumber(column: string, text: string): string {
  return `invalid ${column} ${quoteText(text)}: expected a non-negative decimal number`;
}

// Missing data.

/** Explains how to obtain the files of a dataset, for errors about missing data. */
export function howToGetData(datasetId: string, dataDir: string | null): string {
  const target = dataDir === null ? `<dataDir>/${datasetId}/` : `${join(dataDir, datasetId)}/`;
  return `Download MovieLens from ${MOVIELENS_URL} and unpack it into ${target}, or set MALLOC_DATA_DIR (or --data-dir) to a directory that contains ${datasetId}/.`;
}

export function dataDirNotSet(datasetId: string): string {
  return `Dataset '${datasetId}' is read from a data directory, but none is set: MALLOC_DATA_DIR is unset and no dataDir (--data-dir) was given. ${howToGetData(datasetId, null)}`;
}

export function dataDirNotFound(datasetId: string, dataDir: string): string {
  return `Data directory not found: ${dataDir} (needed by dataset '${datasetId}'). ${howToGetData(datasetId, dataDir)}`;
}

export function datasetFilesNotFound(datasetId: string, dataDir: string, paths: readonly string[]): string {
  const tried = paths.length === 1 ? paths[0] : `any of ${paths.join(', ')}`;
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

import { DataFormatError } from './errors';
import { AMAZON_2018_RATINGS_FORMAT, AMAZON_RATINGS_FORMAT, type DelimitedFormat } from './formats';
import { AMAZON_EDITION_EXPECTED, amazonEditionUndetected, emptyFile, malformedLine } from './messages';
import { readLines } from './text-reader';

/** Edition of an Amazon ratings-only CSV: 2014 (`user,item,...`) or 2018 (`item,user,...`). */
export type AmazonEdition = 2014 | 2018;

/** Number of data lines that {@link detectAmazonEdition} inspects. */
export const AMAZON_DETECTION_LINES = 100;

/**
 * ASIN: an ISBN-10 (9 digits, then a digit or X) or `B` and 9 upper-case letters or digits.
 * Reviewer ids start with `A`, so no text matches both patterns.
 */
const ASIN = /^(?:\d{9}[\dX]|B[\dA-Z]{9})$/;
/** Reviewer id: `A` and at least 9 upper-case letters or digits, such as `A2SUAM1J3GNN3B`. */
const REVIEWER_ID = /^A[\dA-Z]{9,}$/;

/** Stops `readLines` once enough lines were inspected. */
class DetectionDone extends Error {}

/**
 * Detects the edition of an Amazon ratings-only CSV from its first
 * {@link AMAZON_DETECTION_LINES} data lines. The 2014 files start each line with a reviewer
 * id and an ASIN, the 2018 files with an ASIN and a reviewer id. Detection succeeds only when
 * every inspected line has the same one of those two orders.
 *
 * @param path - The ratings CSV file.
 * @param datasetId - Dataset id, named in the error for a missing file.
 * @returns 2014 or 2018.
 * @throws DataFormatError naming the first line whose first two fields are not a reviewer id
 *   and an ASIN in either order, or whose order differs from the lines before it. Also
 *   thrown when the file has no data lines.
 * @throws DatasetNotFoundError when the file is missing.
 * @example
 * ```ts
 * const edition = await detectAmazonEdition('/data/Electronics.csv', 'amazon-electronics'); // 2018
 * ```
 */
export async function detectAmazonEdition(path: string, datasetId: string): Promise<AmazonEdition> {
  let edition: AmazonEdition | null = null;
  let inspected = 0;
  try {
    await readLines(path, datasetId, (bytes, start, end, lineNumber) => {
      // The first two comma-separated fields of the line.
      const line = bytes.toString('utf8', start, end);
      const fields = line.split(',', 3);
      const lineEdition = editionOfFields(fields[0] ?? '', fields[1] ?? '');
      if (lineEdition === null) {
        throw new DataFormatError(malformedLine(path, lineNumber, amazonEditionUndetected('the first two fields are not a reviewer id and an ASIN in either order'), AMAZON_EDITION_EXPECTED, line), path, lineNumber, line);
      }

      // Every inspected line must agree with the first one.
      if (edition !== null && lineEdition !== edition) {
        throw new DataFormatError(malformedLine(path, lineNumber, amazonEditionUndetected(`this line has the ${lineEdition} order but earlier lines have the ${edition} order`), AMAZON_EDITION_EXPECTED, line), path, lineNumber, line);
      }
      edition = lineEdition;
      inspected++;
      if (inspected >= AMAZON_DETECTION_LINES) {
        throw new DetectionDone();
      }
    });
  } catch (error) {
    if (!(error instanceof DetectionDone)) {
      throw error;
    }
  }
  if (edition === null) {
    throw new DataFormatError(emptyFile(path, AMAZON_EDITION_EXPECTED), path, 0, '');
  }
  return edition;
}

/** Returns the ratings format of an edition. */
export function amazonRatingsFormat(edition: AmazonEdition): DelimitedFormat {
  return edition === 2014 ? AMAZON_RATINGS_FORMAT : AMAZON_2018_RATINGS_FORMAT;
}

function editionOfFields(first: string, second: string): AmazonEdition | null {
  if (REVIEWER_ID.test(first) && ASIN.test(second)) {
    return 2014;
  }
  if (ASIN.test(first) && REVIEWER_ID.test(second)) {
    return 2018;
  }
  return null;
}

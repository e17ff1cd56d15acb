import { basename, resolve } from 'node:path';
import { loadDelimitedAs, readFirstLine } from './delimited-loaders';
import { DataFormatError } from './errors';
import { KUAIRAND_LOG_FORMAT } from './formats';
import type { FileLoadOptions } from './loaders';
import { malformedLine, missingColumns } from './messages';
import type { SequenceDataset } from './types';

/**
 * Loads a KuaiRand interaction log (`log_standard_4_08_to_4_21_1k.csv`, `log_random_*.csv`
 * and the other `log_*.csv` files of KuaiRand-27K, -1K and -Pure) as chronological sequences
 * with click labels.
 *
 * Columns are found by header name: `user_id`, `video_id` (the item), `time_ms` and
 * `is_click`, which becomes `dataset.labels`. Every other column is ignored. Timestamps are
 * converted from milliseconds to seconds. Labels never filter rows, so the sequences hold
 * every logged impression, clicked or not.
 *
 * @see Chongming Gao et al., "KuaiRand: An Unbiased Sequential Recommendation Dataset with
 *   Randomly Exposed Videos", CIKM 2022, arXiv:2208.08696. Data and field descriptions:
 *   https://github.com/chongminggao/KuaiRand (licence CC BY-SA 4.0).
 * @param path - A KuaiRand `log_*.csv` file.
 * @param options - Preprocessing options and the dataset name.
 * @throws DataFormatError when the header lacks one of the four columns, a line has another
 *   field count, an id or time is not a non-negative integer, `is_click` is not 0 or 1, or the
 *   file has no data rows. The message names the file, line and expected format.
 * @throws DatasetNotFoundError when the file is missing.
 * @throws RangeError for an invalid option.
 * @example
 * ```ts
 * const kuairand = await loadKuaiRandLog('/data/KuaiRand-1K/data/log_standard_4_08_to_4_21_1k.csv', { name: 'kuairand-1k' });
 * const clicked = kuairand.labels; // Uint8Array, 1 where is_click was 1
 * ```
 */
export async function loadKuaiRandLog(path: string, options: FileLoadOptions = {}): Promise<SequenceDataset> {
  // The header must name the four columns.
  const where = 'loadKuaiRandLog';
  const absolute = resolve(path);
  const name = options.name ?? basename(path);
  const header = await readFirstLine(absolute, name);
  const names = header.split(KUAIRAND_LOG_FORMAT.separator);
  const missing = Object.values(KUAIRAND_LOG_FORMAT.columns).filter((column) => !names.includes(column));
  if (missing.length > 0) {
    throw new DataFormatError(malformedLine(absolute, 1, missingColumns(missing), KUAIRAND_LOG_FORMAT.description, header), absolute, 1, header);
  }

  // The generic reader, then milliseconds to seconds.
  const dataset = await loadDelimitedAs(
    where,
    absolute,
    { ...options, name, separator: KUAIRAND_LOG_FORMAT.separator, header: true, idType: 'integer', columns: { ...KUAIRAND_LOG_FORMAT.columns } },
    { name: KUAIRAND_LOG_FORMAT.name, description: KUAIRAND_LOG_FORMAT.description },
  );
  const timestamps = dataset.timestamps as Float64Array; // [interactions]
  for (let k = 0; k < timestamps.length; k++) {
    timestamps[k] /= KUAIRAND_LOG_FORMAT.timestampUnitsPerSecond;
  }
  dataset.source.params.timestampDivisor = KUAIRAND_LOG_FORMAT.timestampUnitsPerSecond;
  return dataset;
}

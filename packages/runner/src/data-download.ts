import { parseArgs } from 'node:util';
import { DATASET_ARCHIVES, downloadDataset } from '@malloc/data';
import type { Logger } from './logger';
import { invalidOption } from './messages';

/**
 * Runs `malloc data download ID --data-dir DIR`: fetches the dataset from its official source,
 * verifies its checksum and unpacks it. Offline, the error names the URL and the folder to
 * unpack into by hand.
 */
export async function dataDownloadCommand(args: string[], stdout: (text: string) => void, logger: Logger): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { 'data-dir': { type: 'string' }, force: { type: 'boolean' } } });
  const ids = Object.keys(DATASET_ARCHIVES);
  if (positionals.length !== 1) {
    throw new RangeError(invalidOption('data download', positionals.join(' '), `one dataset id: ${ids.join(', ')}`));
  }
  const dataDir = values['data-dir'] ?? process.env.MALLOC_DATA_DIR;
  if (dataDir === undefined || dataDir === '') {
    throw new RangeError(invalidOption('--data-dir', '', 'the folder to unpack into (or set MALLOC_DATA_DIR)'));
  }
  const result = await downloadDataset(positionals[0], { dataDir, logger, force: values.force === true });
  stdout(result.skipped ? `${result.id} is already present: ${result.ratingsFile}\n` : `Downloaded ${result.id} (${result.archiveBytes} bytes): ${result.ratingsFile}\n`);
  return 0;
}

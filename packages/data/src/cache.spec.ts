import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawSequenceOf, rejectionOf, TempDir } from './__fixtures__/temp-files';
import { DATASET_CACHE_VERSION, loadDatasetCache, saveDatasetCache } from './cache';
import { loadDelimited } from './delimited-loaders';
import { DatasetCacheError } from './errors';
import { loadDataset } from './loaders';
import type { Logger } from './logger';
import { cacheChecksumMismatch, cacheNotFound, cacheUnknownFile, cacheVersionMismatch } from './messages';

let temp: TempDir;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

/** Creates a logger that records every line. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (message) => lines.push(`warn ${message}`),
    info: (message) => lines.push(`info ${message}`),
    debug: () => undefined,
  };
}

async function labelledDataset() {
  const path = temp.write('clicks.tsv', 'u\ti\tt\tr\tl\n1\t10\t5\t4.5\t1\n1\t11\t3\t2\t0\n2\t10\t9\t5\t1\n');
  return loadDelimited(path, { separator: '\t', header: true, columns: { user: 'u', item: 'i', timestamp: 't', rating: 'r', label: 'l' } });
}

describe('saveDatasetCache and loadDatasetCache', () => {
  it('round-trips every array and field', async () => {
    const dataset = await labelledDataset();
    const path = join(temp.path, 'round', 'clicks.mallocds');

    await saveDatasetCache(dataset, path);
    const loaded = await loadDatasetCache(path);

    expect(loaded).toEqual(dataset);
    expect(loaded.labels).toEqual(new Uint8Array([0, 1, 1]));
    expect(loaded.timestamps).toEqual(new Float64Array([3, 5, 9]));
  });

  it('leaves no temporary file behind', async () => {
    const dataset = await labelledDataset();
    const dir = join(temp.path, 'atomic');

    await saveDatasetCache(dataset, join(dir, 'a.mallocds'));
    await saveDatasetCache(dataset, join(dir, 'a.mallocds'));

    expect(readdirSync(dir)).toEqual(['a.mallocds']);
  });

  it('rejects a flipped byte by its checksum', async () => {
    const path = join(temp.path, 'flip.mallocds');
    await saveDatasetCache(await labelledDataset(), path);
    const bytes = readFileSync(path);
    bytes[bytes.length - 40] ^= 0xff;
    writeFileSync(path, bytes);

    const error = await rejectionOf(loadDatasetCache(path));

    expect(error).toBeInstanceOf(DatasetCacheError);
    expect(error.message).toBe(cacheChecksumMismatch(path));
    expect((error as DatasetCacheError).reason).toBe('corrupt');
  });

  it('rejects a truncated file', async () => {
    const path = join(temp.path, 'cut.mallocds');
    await saveDatasetCache(await labelledDataset(), path);
    writeFileSync(path, readFileSync(path).subarray(0, 100));

    const error = await rejectionOf(loadDatasetCache(path));

    expect((error as DatasetCacheError).reason).toBe('corrupt');
  });

  it('rejects another format version as stale', async () => {
    const path = join(temp.path, 'old.mallocds');
    await saveDatasetCache(await labelledDataset(), path);
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(DATASET_CACHE_VERSION + 1, 8);
    writeFileSync(path, bytes);

    const error = await rejectionOf(loadDatasetCache(path));

    expect(error.message).toBe(cacheVersionMismatch(path, DATASET_CACHE_VERSION + 1, DATASET_CACHE_VERSION));
    expect((error as DatasetCacheError).reason).toBe('stale');
  });

  it('rejects a file that is not a cache', async () => {
    const path = temp.write('text.mallocds', 'user,item\n1,2\n');

    const error = await rejectionOf(loadDatasetCache(path));

    expect(error.message).toBe(cacheUnknownFile(path));
  });

  it('reports a missing cache', async () => {
    const path = join(temp.path, 'absent.mallocds');

    const error = await rejectionOf(loadDatasetCache(path));

    expect(error.message).toBe(cacheNotFound(path));
    expect((error as DatasetCacheError).reason).toBe('missing');
  });
});

describe('loadDataset with cacheDir', () => {
  it('reads the cache on the second load', async () => {
    const dataDir = join(temp.path, 'data-a');
    const cacheDir = join(temp.path, 'cache-a');
    temp.write('data-a/ml-100k/u.data', '1\t5\t3\t20\n1\t6\t4\t10\n');
    const logger = recordingLogger();

    const first = await loadDataset('ml-100k', { dataDir, cacheDir, logger });
    const second = await loadDataset('ml-100k', { dataDir, cacheDir, logger });

    expect(second).toEqual(first);
    expect(logger.lines.filter((line) => line.includes('wrote the processed dataset'))).toHaveLength(1);
    expect(logger.lines.filter((line) => line.includes('read the processed dataset'))).toHaveLength(1);
    expect(readdirSync(cacheDir)).toHaveLength(1);
  });

  it('keeps one cache per option set', async () => {
    const dataDir = join(temp.path, 'data-b');
    const cacheDir = join(temp.path, 'cache-b');
    temp.write('data-b/ml-100k/u.data', '1\t5\t3\t20\n1\t6\t4\t10\n');

    const all = await loadDataset('ml-100k', { dataDir, cacheDir });
    const liked = await loadDataset('ml-100k', { dataDir, cacheDir, ratingThreshold: 4 });

    expect(all.items.length).toBe(2);
    expect(liked.items.length).toBe(1);
    expect(readdirSync(cacheDir)).toHaveLength(2);
  });

  it('rebuilds when the source file changed', async () => {
    const dataDir = join(temp.path, 'data-c');
    const cacheDir = join(temp.path, 'cache-c');
    temp.write('data-c/ml-100k/u.data', '1\t5\t3\t20\n1\t6\t4\t10\n');
    await loadDataset('ml-100k', { dataDir, cacheDir });
    // Same size, different content: only the SHA-256 differs.
    temp.write('data-c/ml-100k/u.data', '1\t5\t3\t20\n1\t7\t4\t10\n');
    const logger = recordingLogger();

    const reloaded = await loadDataset('ml-100k', { dataDir, cacheDir, logger });

    expect(rawSequenceOf(reloaded, 0)).toEqual(['7', '5']);
    expect(logger.lines.some((line) => line.startsWith('warn Stale dataset cache') && line.includes('SHA-256'))).toBe(true);
  });

  it('rebuilds a corrupt cache with a warning', async () => {
    const dataDir = join(temp.path, 'data-d');
    const cacheDir = join(temp.path, 'cache-d');
    temp.write('data-d/ml-100k/u.data', '1\t5\t3\t20\n');
    await loadDataset('ml-100k', { dataDir, cacheDir });
    const cacheFile = join(cacheDir, readdirSync(cacheDir)[0]);
    writeFileSync(cacheFile, 'garbage');
    const logger = recordingLogger();

    const reloaded = await loadDataset('ml-100k', { dataDir, cacheDir, logger });

    expect(reloaded.items.length).toBe(1);
    expect(logger.lines).toContain(`warn ${cacheUnknownFile(cacheFile)} Rebuilding it from the source files.`);
    expect((await loadDatasetCache(cacheFile)).items.length).toBe(1);
  });
});

import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawSequenceOf, rejectionOf, TempDir } from './__fixtures__/temp-files';
import { loadKuaiVideo, loadMicroVideo } from './bars-ctr';
import { DataFormatError, DatasetNotFoundError } from './errors';
import { KUAIVIDEO_X1_FORMAT, MICROVIDEO_X1_FORMAT } from './formats';
import { DATASET_IDS, loadDataset } from './loaders';
import {
  cacheUsed,
  datasetFilesNotFound,
  emptyFile,
  invalidArgument,
  invalidHistoryEntry,
  invalidId,
  invalidLabel,
  invalidTimestamp,
  malformedLine,
  missingColumns,
  wrongFieldCount,
  wrongSeparator,
} from './messages';
import type { Logger } from './logger';

/** Hand-written files in the BARS layout, with invented ids. */
const FIXTURES = join(__dirname, '__fixtures__', 'bars-ctr');
const MICRO_TRAIN = join(FIXTURES, 'MicroVideo1.7M_x1', 'train.csv');
const MICRO_TEST = join(FIXTURES, 'MicroVideo1.7M_x1', 'test.csv');
const KUAI_TRAIN = join(FIXTURES, 'KuaiVideo_x1', 'train.csv');
const KUAI_TEST = join(FIXTURES, 'KuaiVideo_x1', 'test.csv');

const MICRO_HEADER = 'user_id,item_id,cate_id,clicked_items,clicked_categories,timestamp,is_click';

let temp: TempDir;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

/** Labels of user `user`, in sequence order. */
function labelsOf(dataset: { offsets: Int32Array; labels?: Uint8Array | null }, user: number): number[] {
  return Array.from((dataset.labels ?? new Uint8Array(0)).subarray(dataset.offsets[user], dataset.offsets[user + 1]));
}

describe('loadMicroVideo', () => {
  it('reads train and test as labelled sequences', async () => {
    const dataset = await loadMicroVideo([MICRO_TRAIN, MICRO_TEST]);

    // Users 7, 12 and 30 in numeric order, rows sorted by timestamp. User 7 has 104 and 105
    // both at 1030, so they keep the file order. User 30's 302 (1490) precedes 301 (1500).
    expect(dataset.rawUserIds).toEqual(['7', '12', '30']);
    expect(rawSequenceOf(dataset, 0)).toEqual(['101', '102', '103', '104', '105', '901', '902']);
    expect(labelsOf(dataset, 0)).toEqual([1, 0, 1, 0, 1, 1, 0]);
    expect(rawSequenceOf(dataset, 1)).toEqual(['201', '202', '203', '204', '902']);
    expect(labelsOf(dataset, 1)).toEqual([0, 1, 1, 0, 0]);
    expect(rawSequenceOf(dataset, 2)).toEqual(['302', '301', '303', '903']);
    expect(labelsOf(dataset, 2)).toEqual([0, 1, 1, 1]);

    // 12 train rows and 4 test rows; clicks 4 + 2 + 3 = 9, non-clicks 16 - 9 = 7. Items:
    // 101-105, 201-204, 301-303 and 901-903, so 5 + 4 + 3 + 3 = 15.
    expect(dataset.report.rowsRead).toBe(16);
    expect(dataset.itemCount).toBe(15);
    expect(dataset.name).toBe('MicroVideo1.7M_x1');
    expect(dataset.source.format).toBe(MICROVIDEO_X1_FORMAT.name);
    expect(dataset.source.files).toEqual([MICRO_TRAIN, MICRO_TEST]);
    expect(dataset.source.params).toMatchObject({ rowsByFile: [12, 4], clickedRows: 9, nonClickedRows: 7, blankLines: 1 });
    expect(Array.from(dataset.timestamps ?? []).slice(0, 3)).toEqual([1000, 1010, 1020]);
  });

  it('finds columns in any order', async () => {
    const path = temp.write('reordered/train.csv', 'is_click,timestamp,item_id,user_id\n0,20,5,1\n1,10,6,1\n');

    const dataset = await loadMicroVideo(path);

    expect(rawSequenceOf(dataset, 0)).toEqual(['6', '5']);
    expect(labelsOf(dataset, 0)).toEqual([1, 0]);
  });

  // Each case: the bad line after one good line, so it is line 3 of the file.
  it.each([
    ['a short line', '7,101,3,,,1000', wrongFieldCount(7, 6)],
    ['a non-numeric user id', 'u7,101,3,,,1000,1', invalidId('user id', 'u7')],
    ['a non-numeric item id', '7,1e2,3,,,1000,1', invalidId('item id', '1e2')],
    ['a label of 2', '7,101,3,,,1000,2', invalidLabel('2')],
    ['a text timestamp', '7,101,3,,,noon,1', invalidTimestamp('noon')],
    ['a tab-separated line', '7\t101\t3\t\t\t1000\t1', wrongSeparator('tabs', 'commas')],
    ['a history joined by |', '7,103,4,101|102,3|3,1020,1', wrongSeparator("'|'", "'^' in clicked_items")],
    ['a history joined by U+0002', '7,103,4,101\u0002102,3\u00023,1020,1', wrongSeparator('U+0002', "'^' in clicked_items")],
    ['an empty history entry', '7,103,4,101^^102,3^3^3,1020,1', invalidHistoryEntry('clicked_items', '', '^')],
    ['a space in a category', '7,103,4,101,3 4,1020,1', wrongSeparator('spaces', "'^' in clicked_categories")],
  ])('rejects %s with file, line and text', async (_case, line, problem) => {
    const path = temp.write(`bad-${_case.replace(/\W+/g, '-')}/train.csv`, `${MICRO_HEADER}\n7,100,3,,,990,1\n${line}\n`);

    const error = await rejectionOf(loadMicroVideo(path));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(path, 3, problem, MICROVIDEO_X1_FORMAT.description, line));
    expect((error as DataFormatError).file).toBe(path);
    expect((error as DataFormatError).line).toBe(3);
    expect((error as DataFormatError).text).toBe(line);
  });

  it('rejects a header without is_click', async () => {
    const header = 'user_id,item_id,timestamp';
    const path = temp.write('no-label/train.csv', `${header}\n1,2,3\n`);

    const error = await rejectionOf(loadMicroVideo(path));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(path, 1, missingColumns(['is_click']), MICROVIDEO_X1_FORMAT.description, header));
  });

  it('rejects a semicolon-separated header', async () => {
    const header = MICRO_HEADER.replace(/,/g, ';');
    const path = temp.write('semicolons/train.csv', `${header}\n`);

    const error = await rejectionOf(loadMicroVideo(path));

    expect(error.message).toBe(malformedLine(path, 1, wrongSeparator('semicolons', 'commas'), MICROVIDEO_X1_FORMAT.description, header));
  });

  it.each([
    ['an empty file', ''],
    ['a header only', `${MICRO_HEADER}\n`],
  ])('rejects %s', async (_case, content) => {
    const path = temp.write(`empty-${content.length}/test.csv`, content);

    const error = await rejectionOf(loadMicroVideo([MICRO_TRAIN, path]));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(emptyFile(path, MICROVIDEO_X1_FORMAT.description));
  });

  it('rejects an empty path list', async () => {
    const error = await rejectionOf(loadMicroVideo([]));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(invalidArgument('loadMicroVideo', 'paths', 'a path or a non-empty array of paths', []));
  });

  it('rejects a rating threshold', async () => {
    const error = await rejectionOf(loadMicroVideo(MICRO_TRAIN, { ratingThreshold: 1 }));

    expect(error).toBeInstanceOf(RangeError);
  });
});

describe('loadKuaiVideo', () => {
  it('reads train and test as labelled sequences', async () => {
    const dataset = await loadKuaiVideo([KUAI_TRAIN, KUAI_TEST], { name: 'kuai' });

    expect(dataset.rawUserIds).toEqual(['1', '2', '3']);
    expect(rawSequenceOf(dataset, 0)).toEqual(['10', '11', '12', '13', '14']);
    expect(labelsOf(dataset, 0)).toEqual([1, 0, 1, 0, 1]);
    expect(rawSequenceOf(dataset, 1)).toEqual(['40', '41', '42', '43']);
    expect(labelsOf(dataset, 1)).toEqual([0, 1, 0, 1]);
    expect(rawSequenceOf(dataset, 2)).toEqual(['50', '51', '52']);
    expect(labelsOf(dataset, 2)).toEqual([1, 0, 1]);

    // 8 + 4 rows; clicks 3 + 2 + 2 = 7, non-clicks 12 - 7 = 5; items 10-14, 40-43, 50-52.
    expect(dataset.report.rowsRead).toBe(12);
    expect(dataset.itemCount).toBe(5 + 4 + 3);
    expect(dataset.name).toBe('kuai');
    expect(dataset.source.format).toBe(KUAIVIDEO_X1_FORMAT.name);
    expect(dataset.source.params).toMatchObject({ rowsByFile: [8, 4], clickedRows: 7, nonClickedRows: 5, blankLines: 0 });
  });

  it('rejects a trailing ^ in neg_items', async () => {
    const header = readFileSync(KUAI_TRAIN, 'utf8').split('\n')[0];
    const line = '30,1,15,1,0,0,10,11^';
    const path = temp.write('kuai-bad/train.csv', `${header}\n${line}\n`);

    const error = await rejectionOf(loadKuaiVideo(path));

    expect(error.message).toBe(malformedLine(path, 2, invalidHistoryEntry('neg_items', '', '^'), KUAIVIDEO_X1_FORMAT.description, line));
  });
});

describe('loadDataset BARS ids', () => {
  /** Copies the fixture folder `folder` into a fresh data directory and returns the directory. */
  function dataDirWith(name: string, folder: string, files: readonly string[]): string {
    const dataDir = join(temp.path, name);
    mkdirSync(join(dataDir, folder), { recursive: true });
    for (const file of files) {
      copyFileSync(join(FIXTURES, folder, file), join(dataDir, folder, file));
    }
    return dataDir;
  }

  it('reads microvideo1.7m-x1 from its folder', async () => {
    const dataDir = dataDirWith('root-micro', 'MicroVideo1.7M_x1', ['train.csv', 'test.csv']);

    const dataset = await loadDataset('microvideo1.7m-x1', { dataDir });

    expect(DATASET_IDS).toContain('microvideo1.7m-x1');
    expect(dataset.name).toBe('microvideo1.7m-x1');
    expect(dataset.report.rowsRead).toBe(16);
  });

  it('reads kuaivideo-x1 through the cache', async () => {
    const dataDir = dataDirWith('root-kuai', 'KuaiVideo_x1', ['train.csv', 'test.csv']);
    const cacheDir = join(temp.path, 'cache-kuai');
    const infos: string[] = [];
    const logger: Logger = { info: (message) => infos.push(message), warn: () => undefined, debug: () => undefined };

    const first = await loadDataset('kuaivideo-x1', { dataDir, cacheDir, logger });
    const second = await loadDataset('kuaivideo-x1', { dataDir, cacheDir, logger });

    // The second load reads the cache, which records both files.
    expect(infos.some((line) => line.startsWith(`kuaivideo-x1: ${cacheUsed('').trim()}`))).toBe(true);
    expect(Array.from(second.items)).toEqual(Array.from(first.items));
    expect(Array.from(second.labels ?? [])).toEqual(Array.from(first.labels ?? []));
    expect(second.source.files).toEqual([join(dataDir, 'KuaiVideo_x1', 'train.csv'), join(dataDir, 'KuaiVideo_x1', 'test.csv')]);
  });

  it('names the missing test.csv and where to get it', async () => {
    const dataDir = dataDirWith('root-half', 'KuaiVideo_x1', ['train.csv']);
    const missing = join(dataDir, 'KuaiVideo_x1', 'test.csv');

    const error = await rejectionOf(loadDataset('kuaivideo-x1', { dataDir }));

    expect(error).toBeInstanceOf(DatasetNotFoundError);
    expect(error.message).toBe(datasetFilesNotFound('kuaivideo-x1', dataDir, [missing], 'all'));
    expect(error.message).toContain('https://huggingface.co/datasets/reczoo/KuaiVideo_x1');
    expect((error as DatasetNotFoundError).paths).toEqual([missing]);
  });
});

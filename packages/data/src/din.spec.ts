import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { rawSequenceOf, rejectionOf, TempDir } from './__fixtures__/temp-files';
import { loadDinSamples } from './din';
import { DataFormatError, DatasetNotFoundError } from './errors';
import { DIN_BARS_CSV_FORMAT, DIN_SAMPLES_FORMAT } from './formats';
import { DATASET_IDS, loadDataset } from './loaders';
import {
  clickNotInHistory,
  datasetFilesNotFound,
  historyLengthMismatch,
  historyNotPrefix,
  historySeparatorMismatch,
  invalidArgument,
  invalidLabel,
  malformedLine,
  stepHistorySeparator,
  wrongFieldCount,
} from './messages';

let temp: TempDir;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

const SEP = '\u0002';

/** Builds a DIN line: label, user, item, category, then the history items and categories. */
function dinLine(label: number, user: string, item: string, history: readonly string[]): string {
  return [String(label), user, item, 'Electronics', history.join(SEP), history.map(() => 'Electronics').join(SEP)].join('\t');
}

describe('loadDinSamples', () => {
  it('interleaves clicks and impressions', async () => {
    // User A clicked i1, i2, i3; i9 was shown and not clicked after i1, i8 after i3.
    // User B has one clicked target and no history.
    const lines = [
      dinLine(1, 'A', 'i2', ['i1']),
      dinLine(0, 'A', 'i9', ['i1']),
      dinLine(1, 'A', 'i3', ['i1', 'i2']),
      dinLine(0, 'A', 'i8', ['i1', 'i2', 'i3']),
      dinLine(1, 'B', 'i5', []),
    ];
    const path = temp.write('local_test_splitByUser', `${lines.join('\n')}\n`);

    const dataset = await loadDinSamples(path);

    expect(rawSequenceOf(dataset, 0)).toEqual(['i1', 'i9', 'i2', 'i3', 'i8']);
    expect(rawSequenceOf(dataset, 1)).toEqual(['i5']);
    expect(Array.from(dataset.labels ?? [])).toEqual([1, 0, 1, 1, 0, 1]);
    expect(dataset.source.format).toBe(DIN_SAMPLES_FORMAT.name);
    // 5 lines. A's longest history has 3 items, so the clicks i2 (position 1) and i3
    // (position 2) are already in it; B's i5 extends an empty history. 2 impressions.
    expect(dataset.source.params).toMatchObject({ lines: 5, clicksInLongerHistory: 2, nonClickedImpressions: 2 });
    expect(dataset.source.params).toMatchObject({ historySeparator: SEP, historySeparatorOrigin: 'detected' });
    expect(dataset.report.steps).toContain(stepHistorySeparator(SEP, 'detected'));
  });

  it('reads the BARS CSV form with ^', async () => {
    // DIN's build_dataset order for one user who clicked 5, 9, 2 and 7. The train samples
    // follow the histories [5] and [5, 9], each with the next click and a sampled non-click
    // (40, 41). The test pair follows [5, 9, 2] with click 7 and non-click 42.
    const lines = [
      DIN_BARS_CSV_FORMAT.header,
      '1,0,9,3,5,1',
      '0,0,40,8,5,1',
      '1,0,2,1,5^9,1^3',
      '0,0,41,2,5^9,1^3',
      '1,0,7,4,5^9^2,1^3^1',
      '0,0,42,6,5^9^2,1^3^1',
    ];
    const path = temp.write('AmazonElectronics_x1.csv', `${lines.join('\n')}\n`);

    const dataset = await loadDinSamples(path);

    // Clicks: the longest history 5, 9, 2, extended by 7. Non-clicks after 1, 2 and 3 clicks.
    expect(rawSequenceOf(dataset, 0)).toEqual(['5', '40', '9', '41', '2', '42', '7']);
    expect(Array.from(dataset.labels ?? [])).toEqual([1, 0, 1, 0, 1, 0, 1]);
    expect(dataset.source.format).toBe(DIN_BARS_CSV_FORMAT.name);
    // 6 data lines (the header is not one). Clicks 9 (position 1) and 2 (position 2) lie
    // inside the longest history of 3; 7 extends it. 3 non-clicks.
    expect(dataset.source.params).toMatchObject({ lines: 6, clicksInLongerHistory: 2, nonClickedImpressions: 3, historySeparator: '^', historySeparatorOrigin: 'detected' });
    expect(dataset.report.steps).toContain(stepHistorySeparator('^', 'detected'));
  });

  it('rejects a second history separator', async () => {
    const mixed = `1\tA\ti3\tc\ti1^i2\tc^c`;
    const path = temp.write('mixed', `${dinLine(1, 'A', 'i2', ['i0', 'i1'])}\n${mixed}\n`);

    const error = await rejectionOf(loadDinSamples(path));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(path, 2, historySeparatorMismatch("\"^\"", 'U+0002'), DIN_SAMPLES_FORMAT.description, mixed));
  });

  it('keeps the default without two-entry histories', async () => {
    const path = temp.write('short', `${dinLine(1, 'A', 'i2', ['i1'])}\n${dinLine(0, 'A', 'i5', [])}\n`);

    const dataset = await loadDinSamples(path);

    expect(rawSequenceOf(dataset, 0)).toEqual(['i5', 'i1', 'i2']);
    expect(dataset.source.params).toMatchObject({ historySeparator: SEP, historySeparatorOrigin: 'default' });
  });

  it('accepts another history separator', async () => {
    const path = temp.write('pipes', `1\tA\ti3\tc\ti1|i2\tc|c\n`);

    const dataset = await loadDinSamples(path, { historySeparator: '|' });

    expect(rawSequenceOf(dataset, 0)).toEqual(['i1', 'i2', 'i3']);
    expect(dataset.source.params).toMatchObject({ historySeparator: '|', historySeparatorOrigin: 'option' });
  });

  it.each([
    ['a short line', '1\tA\ti1\tc', wrongFieldCount(6, 4)],
    ['a label of 2', dinLine(2, 'A', 'i1', []), invalidLabel('2')],
    ['unequal history fields', `1\tA\ti3\tc\ti1${SEP}i2\tc`, historyLengthMismatch(2, 1)],
  ])('rejects %s with its line', async (_case, line, problem) => {
    const path = temp.write(`bad-${line.length}`, `${dinLine(1, 'Z', 'i1', [])}\n${line}\n`);

    const error = await rejectionOf(loadDinSamples(path));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(path, 2, problem, DIN_SAMPLES_FORMAT.description, line));
  });

  it('rejects a history off the longest one', async () => {
    const path = temp.write('branch', `${dinLine(1, 'A', 'i3', ['i1', 'i2'])}\n${dinLine(0, 'A', 'i7', ['i5'])}\n`);

    const error = await rejectionOf(loadDinSamples(path));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(path, 2, historyNotPrefix('A', 1), DIN_SAMPLES_FORMAT.description, dinLine(0, 'A', 'i7', ['i5'])));
  });

  it('rejects a click that contradicts the history', async () => {
    const path = temp.write('contradiction', `${dinLine(1, 'A', 'i3', ['i1', 'i2'])}\n${dinLine(1, 'A', 'i9', ['i1'])}\n`);

    const error = await rejectionOf(loadDinSamples(path));

    expect(error.message).toBe(malformedLine(path, 2, clickNotInHistory('A', 1), DIN_SAMPLES_FORMAT.description, dinLine(1, 'A', 'i9', ['i1'])));
  });

  it('rejects a tab as history separator', async () => {
    const error = await rejectionOf(loadDinSamples('unused', { historySeparator: '\t' }));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(invalidArgument('loadDinSamples', 'historySeparator', 'a non-empty string other than a tab', '\t'));
  });
});

/** BARS AmazonElectronics_x1 files written by hand in DIN's build_dataset order, invented ids. */
const BARS_TRAIN = join(__dirname, '__fixtures__', 'bars-ctr', 'AmazonElectronics_x1', 'train.csv');
const BARS_TEST = join(__dirname, '__fixtures__', 'bars-ctr', 'AmazonElectronics_x1', 'test.csv');

/** Labels of user `user`, in sequence order. */
function labelsOf(dataset: { offsets: Int32Array; labels?: Uint8Array | null }, user: number): number[] {
  return Array.from((dataset.labels ?? new Uint8Array(0)).subarray(dataset.offsets[user], dataset.offsets[user + 1]));
}

describe('loadDinSamples with several files', () => {
  it('joins train and test per user', async () => {
    const dataset = await loadDinSamples([BARS_TRAIN, BARS_TEST]);

    // User 3 clicked 5, 9, 2, 7 (non-clicks 40, 41, 42 after 1, 2, 3 clicks). User 8 clicked
    // 11, 12, 13 (non-clicks 50, 51 after 1 and 2 clicks). The last click of each is in test.csv.
    expect(dataset.rawUserIds).toEqual(['3', '8']);
    expect(rawSequenceOf(dataset, 0)).toEqual(['5', '40', '9', '41', '2', '42', '7']);
    expect(labelsOf(dataset, 0)).toEqual([1, 0, 1, 0, 1, 0, 1]);
    expect(rawSequenceOf(dataset, 1)).toEqual(['11', '50', '12', '51', '13']);
    expect(labelsOf(dataset, 1)).toEqual([1, 0, 1, 0, 1]);
    expect(dataset.source.files).toEqual([BARS_TRAIN, BARS_TEST]);
    // 6 + 4 lines. Clicks inside a longer history: 9 and 2 of user 3, 12 of user 8, so 3.
    // Non-clicks: 3 + 2 = 5.
    expect(dataset.source.params).toMatchObject({ lines: 10, clicksInLongerHistory: 3, nonClickedImpressions: 5, historySeparator: '^' });
    expect(dataset.source.params.fileBytes).toHaveLength(2);
  });

  it('reads train.csv alone', async () => {
    const dataset = await loadDinSamples(BARS_TRAIN);

    // Without test.csv, user 3's clicks end at 2, which extends the longest history [5, 9].
    expect(rawSequenceOf(dataset, 0)).toEqual(['5', '40', '9', '41', '2']);
    expect(typeof dataset.source.params.fileBytes).toBe('number');
  });

  it('names both files for a cross-file conflict', async () => {
    const header = DIN_BARS_CSV_FORMAT.header;
    const trainLine = '1,3,9,3,5,1';
    const train = temp.write('conflict/train.csv', `${header}\n${trainLine}\n`);
    const test = temp.write('conflict/test.csv', `${header}\n1,3,7,4,6^9^2,1^3^1\n`);

    const error = await rejectionOf(loadDinSamples([train, test]));

    // The longest history is on line 2 of test.csv, and train.csv line 2 starts with 5, not 6.
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(train, 2, historyNotPrefix('3', 2, test), DIN_BARS_CSV_FORMAT.description, trainLine));
  });

  it('rejects an empty path list', async () => {
    const error = await rejectionOf(loadDinSamples([]));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(invalidArgument('loadDinSamples', 'path', 'a path or a non-empty array of paths', []));
  });
});

describe('loadDataset amazon-electronics-x1', () => {
  it('reads both BARS files', async () => {
    const dataDir = join(temp.path, 'root-amazon');
    mkdirSync(join(dataDir, 'AmazonElectronics_x1'), { recursive: true });
    copyFileSync(BARS_TRAIN, join(dataDir, 'AmazonElectronics_x1', 'train.csv'));
    copyFileSync(BARS_TEST, join(dataDir, 'AmazonElectronics_x1', 'test.csv'));

    const dataset = await loadDataset('amazon-electronics-x1', { dataDir });

    expect(DATASET_IDS).toContain('amazon-electronics-x1');
    expect(dataset.name).toBe('amazon-electronics-x1');
    expect(dataset.source.format).toBe(DIN_BARS_CSV_FORMAT.name);
    expect(rawSequenceOf(dataset, 1)).toEqual(['11', '50', '12', '51', '13']);
  });

  it('names the missing files', async () => {
    const dataDir = join(temp.path, 'root-empty');
    mkdirSync(dataDir, { recursive: true });
    const missing = [join(dataDir, 'AmazonElectronics_x1', 'train.csv'), join(dataDir, 'AmazonElectronics_x1', 'test.csv')];

    const error = await rejectionOf(loadDataset('amazon-electronics-x1', { dataDir }));

    expect(error).toBeInstanceOf(DatasetNotFoundError);
    expect(error.message).toBe(datasetFilesNotFound('amazon-electronics-x1', dataDir, missing, 'all'));
    expect(error.message).toContain(`${missing[0]} and ${missing[1]}`);
    expect(error.message).toContain('https://huggingface.co/datasets/reczoo/AmazonElectronics_x1');
  });
});

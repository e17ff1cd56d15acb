import { rawSequenceOf, rejectionOf, TempDir } from './__fixtures__/temp-files';
import { loadDinSamples } from './din';
import { DataFormatError } from './errors';
import { DIN_SAMPLES_FORMAT } from './formats';
import { clickNotInHistory, historyLengthMismatch, historyNotPrefix, invalidArgument, invalidLabel, malformedLine, wrongFieldCount } from './messages';

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
  });

  it('accepts another history separator', async () => {
    const path = temp.write('pipes', `1\tA\ti3\tc\ti1|i2\tc|c\n`);

    const dataset = await loadDinSamples(path, { historySeparator: '|' });

    expect(rawSequenceOf(dataset, 0)).toEqual(['i1', 'i2', 'i3']);
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

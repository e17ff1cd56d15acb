import { datasetFromSequences, sequenceOf } from './__fixtures__/temp-files';
import { leaveOneOut } from './split';

describe('leaveOneOut', () => {
  // One user with raw items [11, 12, 13, 14, 15]; internal ids 1..5 in the same order.
  const dataset = datasetFromSequences([[11, 12, 13, 14, 15]]);
  const split = leaveOneOut(dataset);
  const start = dataset.offsets[0];
  const raw = (ids: Iterable<number>): string[] => Array.from(ids, (id) => dataset.rawItemIds[id]);

  it('stops training targets at the third-last item', () => {
    // trainEnd = n − 2 = 3: training inputs [11, 12], targets up to 13.
    expect(Array.from(split.trainEnd)).toEqual([3]);
    expect(raw(dataset.items.subarray(start, start + split.trainEnd[0]))).toEqual(['11', '12', '13']);
  });

  it('validates on the second-last item', () => {
    expect(Array.from(split.validation.users)).toEqual([0]);
    expect(raw(dataset.items.subarray(start, start + split.validation.inputEnd[0]))).toEqual(['11', '12', '13']);
    expect(raw(split.validation.targets)).toEqual(['14']);
  });

  it('tests on the last item', () => {
    expect(raw(dataset.items.subarray(start, start + split.test.inputEnd[0]))).toEqual(['11', '12', '13', '14']);
    expect(raw(split.test.targets)).toEqual(['15']);
  });

  it('never puts the test item in an input', () => {
    const testItem = split.test.targets[0];
    const inputs = [
      dataset.items.subarray(start, start + split.trainEnd[0]),
      dataset.items.subarray(start, start + split.validation.inputEnd[0]),
      dataset.items.subarray(start, start + split.test.inputEnd[0]),
    ];

    for (const input of inputs) {
      expect(Array.from(input)).not.toContain(testItem);
    }
  });

  it('skips and counts users with fewer than 3 items', () => {
    const mixed = datasetFromSequences([[1], [1, 2], [1, 2, 3], [4, 5, 6, 7]]);
    const result = leaveOneOut(mixed);

    expect(result.usersTooShort).toBe(2);
    expect(Array.from(result.trainEnd)).toEqual([0, 0, 1, 2]);
    expect(Array.from(result.test.users)).toEqual([2, 3]);
    expect(Array.from(result.test.inputEnd)).toEqual([2, 3]);
    expect(Array.from(result.validation.inputEnd)).toEqual([1, 2]);
    expect(Array.from(result.test.targets)).toEqual([sequenceOf(mixed, 2)[2], sequenceOf(mixed, 3)[3]]);
    expect(Array.from(result.validation.targets)).toEqual([sequenceOf(mixed, 2)[1], sequenceOf(mixed, 3)[2]]);
  });
});

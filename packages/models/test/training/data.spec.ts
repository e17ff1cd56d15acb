import { buildTrainingBatch, planEpoch, trainableUsers, validateTrainingData, type TrainingData } from '../../src/training/data';
import { fingerprintTrainingData } from '../../src/training/fingerprint';
import { SeededRandom } from '../../src/random';

/** Three users: [11..15] with trainEnd 3, [1, 2] with trainEnd 2, [7] with trainEnd 1 (skipped). */
function smallData(): TrainingData {
  return {
    itemCount: 20,
    offsets: new Int32Array([0, 5, 7, 8]),
    items: new Int32Array([11, 12, 13, 14, 15, 1, 2, 7]),
    trainEnd: new Int32Array([3, 2, 1]),
  };
}

describe('training batches', () => {
  it('targets of a leave-one-out user stop before the validation item', () => {
    // Sequence [11, 12, 13, 14, 15] with trainEnd 3: inputs [11, 12] predict [12, 13].
    const batch = buildTrainingBatch(smallData(), new Int32Array([0]), 10);
    expect(Array.from(batch.encoder.items)).toEqual([11, 12]);
    expect(Array.from(batch.targets)).toEqual([12, 13]);
    expect(Array.from(batch.encoder.positions)).toEqual([0, 1]);
    expect(Array.from(batch.rows)).toEqual([0, 1]);
  });

  it('right-pads users to the longest input and lists target rows', () => {
    const batch = buildTrainingBatch(smallData(), new Int32Array([1, 0]), 10);
    // User 1 has one input (1 -> 2); user 0 has two. Width 2, user 1 padded on the right.
    expect(batch.encoder.len).toBe(2);
    expect(Array.from(batch.encoder.items)).toEqual([1, 0, 11, 12]);
    expect(Array.from(batch.targets)).toEqual([2, 0, 12, 13]);
    expect(Array.from(batch.rows)).toEqual([0, 2, 3]);
  });

  it('keeps the newest maxLength inputs at positions from 0', () => {
    const data: TrainingData = { itemCount: 20, offsets: new Int32Array([0, 6]), items: new Int32Array([1, 2, 3, 4, 5, 6]), trainEnd: new Int32Array([6]) };
    // Inputs 1..5 predict 2..6; with maxLength 3 only inputs 3, 4, 5 remain.
    const batch = buildTrainingBatch(data, new Int32Array([0]), 3);
    expect(Array.from(batch.encoder.items)).toEqual([3, 4, 5]);
    expect(Array.from(batch.targets)).toEqual([4, 5, 6]);
    expect(Array.from(batch.encoder.positions)).toEqual([0, 1, 2]);
  });

  it('skips users with fewer than two training items', () => {
    expect(Array.from(trainableUsers(smallData()))).toEqual([0, 1]);
  });

  it('plans every user exactly once per epoch, deterministically', () => {
    const data: TrainingData = {
      itemCount: 20,
      offsets: Int32Array.from({ length: 51 }, (_, u) => u * 6),
      items: Int32Array.from({ length: 300 }, (_, i) => (i % 20) + 1),
      trainEnd: Int32Array.from({ length: 50 }, (_, u) => 2 + (u % 5)),
    };
    const users = trainableUsers(data);
    const plan = planEpoch(data, users, 10, 8, 2, new SeededRandom(4));
    const again = planEpoch(data, users, 10, 8, 2, new SeededRandom(4));
    expect(plan.map((batch) => Array.from(batch))).toEqual(again.map((batch) => Array.from(batch)));
    expect(plan.flatMap((batch) => Array.from(batch)).sort((a, b) => a - b)).toEqual(Array.from(users));
    expect(plan.every((batch) => batch.length <= 8)).toBe(true);
  });

  it('rejects ids outside the catalogue with the user and index', () => {
    const data = smallData();
    data.items[1] = 21;
    expect(() => validateTrainingData('trainModel', data, 20)).toThrow('21 for user 0 at index 1');
  });

  it('fingerprint changes with any item or split', () => {
    const base = fingerprintTrainingData(smallData());
    const otherItem = smallData();
    otherItem.items[4] = 16;
    const otherSplit = smallData();
    otherSplit.trainEnd[0] = 4;
    expect(fingerprintTrainingData(smallData())).toBe(base);
    expect(fingerprintTrainingData(otherItem)).not.toBe(base);
    expect(fingerprintTrainingData(otherSplit)).not.toBe(base);
  });
});

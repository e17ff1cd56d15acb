import { datasetFromRows, sequenceOf, TempDir, thrownBy } from './__fixtures__/temp-files';
import { invalidArgument, noTimestamps } from './messages';
import { loadSequenceFile } from './loaders';
import { sampleUsers, temporalSplit } from './temporal-split';
import { generateSynthetic } from './synthetic';

// User 1: items 11@10, 12@20, 13@30; user 2: 21@25, 22@40; user 3: 31@50.
const rows: ReadonlyArray<readonly [number, number, number]> = [
  [1, 11, 10],
  [1, 12, 20],
  [1, 13, 30],
  [2, 21, 25],
  [2, 22, 40],
  [3, 31, 50],
];

describe('temporalSplit', () => {
  const dataset = datasetFromRows(rows);
  const raw = (ids: Int32Array): string[] => Array.from(ids, (id) => dataset.rawItemIds[id]);

  it('splits at a given timestamp', () => {
    const split = temporalSplit(dataset, { cutTimestamp: 30 });

    // Before 30: user 1 has 11, 12; user 2 has 21; user 3 has nothing.
    expect(Array.from(split.trainEnd)).toEqual([2, 1, 0]);
    // Test: 13 (user 1, input 2), 22 (user 2, input 1); 31 has no history.
    expect(Array.from(split.test.users)).toEqual([0, 1]);
    expect(Array.from(split.test.inputEnd)).toEqual([2, 1]);
    expect(raw(split.test.targets)).toEqual(['13', '22']);
    expect(split.trainInteractions).toBe(3);
    expect(split.testInteractions).toBe(3);
    expect(split.testWithoutHistory).toBe(1);
  });

  it('derives the cut from a test fraction', () => {
    // Sorted times 10, 20, 25, 30, 40, 50; rank floor(6 * (1 - 0.5)) = 3 is 30.
    const split = temporalSplit(dataset, { testFraction: 0.5 });

    expect(split.cutTimestamp).toBe(30);
  });

  it('puts every later interaction of a user in the test', () => {
    const split = temporalSplit(dataset, { cutTimestamp: 15 });

    // User 1 keeps 11; targets 12 (input 1) and 13 (input 2).
    expect(Array.from(split.test.users)).toEqual([0, 0, 1]);
    expect(Array.from(split.test.inputEnd)).toEqual([1, 2, 1]);
    // User 2 starts after the cut: 21 has no history, 22 is predicted from [21].
    expect(raw(split.test.targets)).toEqual(['12', '13', '22']);
  });

  it('rejects a fraction outside (0, 1)', () => {
    const error = thrownBy(() => temporalSplit(dataset, { testFraction: 1 }));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(invalidArgument('temporalSplit', 'testFraction', 'a number with 0 < testFraction < 1', 1));
  });

  it('rejects a dataset without timestamps', async () => {
    const temp = new TempDir();
    const untimed = await loadSequenceFile(temp.write('s.txt', '1 5 6\n'));
    temp.remove();

    const error = thrownBy(() => temporalSplit(untimed, { cutTimestamp: 1 }));

    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(noTimestamps('temporalSplit', 's.txt'));
  });
});

describe('sampleUsers', () => {
  const dataset = generateSynthetic({ users: 50, items: 40, meanLength: 8, maxLength: 20, seed: 3 });

  it('returns the same sample for the same seed', () => {
    const first = sampleUsers(dataset, 10, 42);
    const second = sampleUsers(dataset, 10, 42);

    expect(Array.from(first.users)).toEqual(Array.from(second.users));
    expect(first.seed).toBe(42);
    expect(first.dataset.source.params.sample).toEqual({ count: 10, seed: 42, fromUsers: 50 });
  });

  it('draws distinct users with their sequences', () => {
    const { dataset: sample, users } = sampleUsers(dataset, 10, 42);

    expect(new Set(users).size).toBe(10);
    expect(Array.from(users)).toEqual(Array.from(users).sort((a, b) => a - b));
    users.forEach((user, k) => {
      expect(sequenceOf(sample, k)).toEqual(sequenceOf(dataset, user));
      expect(sample.rawUserIds[k]).toBe(dataset.rawUserIds[user]);
    });
    expect(sample.itemCount).toBe(dataset.itemCount);
    expect(sample.offsets[10]).toBe(users.reduce((sum, user) => sum + dataset.offsets[user + 1] - dataset.offsets[user], 0));
  });

  it('gives different samples for different seeds', () => {
    const a = Array.from(sampleUsers(dataset, 10, 1).users);
    const b = Array.from(sampleUsers(dataset, 10, 2).users);

    expect(a).not.toEqual(b);
  });

  it('draws every user exactly once at full count', () => {
    const { users } = sampleUsers(dataset, 50, 9);

    expect(Array.from(users)).toEqual(Array.from({ length: 50 }, (_, user) => user));
  });

  it('rejects a count above the user count', () => {
    const error = thrownBy(() => sampleUsers(dataset, 51, 1));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(invalidArgument('sampleUsers', 'count', 'an integer from 0 to 50', 51));
  });

  it('samples uniformly over many seeds', () => {
    // 2,000 draws of 1 user from 4: each user expected 500 times, binomial sd = sqrt(2000 * 0.25 * 0.75) ≈ 19.4.
    const small = datasetFromRows([
      [1, 1, 0],
      [2, 1, 0],
      [3, 1, 0],
      [4, 1, 0],
    ]);
    const counts = [0, 0, 0, 0];
    for (let seed = 0; seed < 2000; seed++) {
      counts[sampleUsers(small, 1, seed).users[0]]++;
    }

    for (const count of counts) {
      expect(Math.abs(count - 500)).toBeLessThan(5 * 19.4);
    }
  });
});

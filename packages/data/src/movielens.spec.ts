// Checks against the real MovieLens files in MALLOC_DATA_DIR. Without the variable every test
// here is skipped, and the reason is printed once.
import { loadDataset } from './loaders';
import { leaveOneOut } from './split';
import { datasetStats } from './stats';

const dataDir = process.env.MALLOC_DATA_DIR ?? '';
const describeWithData = dataDir === '' ? describe.skip : describe;

if (dataDir === '') {
  process.stdout.write('MovieLens tests skipped: MALLOC_DATA_DIR is unset (point it at a folder with ml-100k/ and ml-1m/).\n');
}

describeWithData('MovieLens-1M', () => {
  it('has the published counts', async () => {
    const dataset = await loadDataset('ml-1m', { dataDir });
    const stats = datasetStats(dataset);

    expect(stats.users).toBe(6040);
    expect(stats.items).toBe(3706);
    expect(stats.interactions).toBe(1_000_209);
    expect(stats.length.mean).toBeCloseTo(165.6, 1);
    expect(stats.length.min).toBe(20);
    expect(stats.length.median).toBe(96);
    expect(stats.length.max).toBe(2314);
    expect(dataset.rawItemIds.length).toBe(3707);
    expect(dataset.report.usersRemoved).toBe(0);
  });

  it('has the published counts after a 5-core item filter', async () => {
    const dataset = await loadDataset('ml-1m', { dataDir, minItemInteractions: 5 });

    // 3,706 − 290 items and 1,000,209 − 598 interactions.
    expect(dataset.itemCount).toBe(3416);
    expect(dataset.items.length).toBe(999_611);
    expect(dataset.report.itemsRemoved).toBe(3706 - 3416);
    expect(dataset.report.kCoreRemoved).toBe(1_000_209 - 999_611);
    expect(dataset.userCount).toBe(6040);
  });

  it('evaluates every user with leave-one-out', async () => {
    const dataset = await loadDataset('ml-1m', { dataDir });
    const split = leaveOneOut(dataset);

    expect(split.usersTooShort).toBe(0);
    expect(split.test.users.length).toBe(6040);
  });
});

describeWithData('MovieLens-100K', () => {
  it('has the published counts', async () => {
    const dataset = await loadDataset('ml-100k', { dataDir });
    const stats = datasetStats(dataset);

    expect(stats.users).toBe(943);
    expect(stats.items).toBe(1682);
    expect(stats.interactions).toBe(100_000);
    expect(stats.length.min).toBe(20);
    expect(stats.length.median).toBe(65);
    expect(stats.length.max).toBe(737);
    expect(stats.length.mean).toBeCloseTo(106.04, 2);
  });

  it('orders each user by time and keeps ratings', async () => {
    const dataset = await loadDataset('ml-100k', { dataDir });
    const timestamps = dataset.timestamps as Float64Array;
    let sorted = true;
    for (let user = 0; user < dataset.userCount; user++) {
      for (let k = dataset.offsets[user] + 1; k < dataset.offsets[user + 1]; k++) {
        sorted &&= timestamps[k] >= timestamps[k - 1];
      }
    }

    expect(sorted).toBe(true);
    expect(timestamps[0]).toBeGreaterThanOrEqual(874724710);
    expect(Math.max(...timestamps)).toBe(893286638);
    expect(dataset.ratings?.length).toBe(100_000);
  });

  it('keeps rating 4 and above as clicks', async () => {
    const all = await loadDataset('ml-100k', { dataDir });
    const clicks = await loadDataset('ml-100k', { dataDir, ratingThreshold: 4 });
    let atLeastFour = 0;
    for (const rating of all.ratings ?? []) {
      atLeastFour += rating >= 4 ? 1 : 0;
    }

    expect(clicks.items.length).toBe(atLeastFour);
    expect(clicks.report.belowRatingThreshold).toBe(100_000 - atLeastFour);
  });
});

import { datasetFromRows, rawSequenceOf, sequenceOf, thrownBy } from './__fixtures__/temp-files';
import { InteractionLogBuilder } from './interaction-log';
import { emptyDataset, invalidArgument, ratingThresholdWithoutRatings, stepDedupe, stepKCore, stepRatingThreshold } from './messages';
import { buildSequenceDataset } from './preprocess';
import { leaveOneOut } from './split';
import { datasetStats } from './stats';

const inline = { name: 'fixture', files: [], format: 'inline' };

describe('buildSequenceDataset', () => {
  describe('id remapping', () => {
    it('maps raw item 0 above padding', () => {
      // Raw items {0, 17, 42}; the user consumed 42, then 0, then 17.
      const dataset = datasetFromRows([
        [5, 42, 1],
        [5, 0, 2],
        [5, 17, 3],
      ]);

      // Ascending raw order: 0 → 1, 17 → 2, 42 → 3.
      expect(dataset.rawItemIds).toEqual(['', '0', '17', '42']);
      expect(sequenceOf(dataset, 0)).toEqual([3, 1, 2]);
      expect(dataset.itemCount).toBe(3);
      expect(datasetStats(dataset).items).toBe(3);
      expect(Array.from(dataset.items)).not.toContain(0);
    });

    it('never uses the padding id in splits', () => {
      const dataset = datasetFromRows([
        [5, 42, 1],
        [5, 0, 2],
        [5, 17, 3],
        [5, 0, 4],
      ]);
      const split = leaveOneOut(dataset);

      expect(Array.from(split.validation.targets)).toEqual([2]);
      expect(Array.from(split.test.targets)).toEqual([1]);
      expect(Array.from(split.test.targets)).not.toContain(0);
    });

    it('numbers users in ascending raw order', () => {
      const dataset = datasetFromRows([
        [30, 1, 0],
        [7, 2, 0],
        [12, 3, 0],
      ]);

      expect(dataset.rawUserIds).toEqual(['7', '12', '30']);
      expect(Array.from(dataset.offsets)).toEqual([0, 1, 2, 3]);
      expect(rawSequenceOf(dataset, 0)).toEqual(['2']);
    });
  });

  describe('chronological order', () => {
    it('keeps file order for tied timestamps', () => {
      // File order: 30 at t=200, then 10, 20, 40 all at t=100.
      const dataset = datasetFromRows([
        [1, 30, 200],
        [1, 10, 100],
        [1, 20, 100],
        [1, 40, 100],
      ]);

      expect(rawSequenceOf(dataset, 0)).toEqual(['10', '20', '40', '30']);
      expect(Array.from(dataset.timestamps ?? [])).toEqual([100, 100, 100, 200]);
    });

    it('keeps ties with interleaved users', () => {
      const dataset = datasetFromRows([
        [2, 5, 10],
        [1, 9, 10],
        [2, 3, 10],
        [1, 8, 5],
        [2, 4, 10],
      ]);

      expect(rawSequenceOf(dataset, 0)).toEqual(['8', '9']);
      expect(rawSequenceOf(dataset, 1)).toEqual(['5', '3', '4']);
    });

    it('keeps file order without timestamps', () => {
      const builder = new InteractionLogBuilder(false, false);
      for (const item of [9, 3, 7]) {
        builder.add(1, item);
      }
      const dataset = buildSequenceDataset(builder.finish(), inline);

      expect(rawSequenceOf(dataset, 0)).toEqual(['9', '3', '7']);
      expect(dataset.timestamps).toBeNull();
    });
  });

  describe('de-duplication', () => {
    // One user: a(t1) b(t2) a(t3) c(t4) a(t5) with a = 1, b = 2, c = 3.
    const rows = [
      [1, 1, 1],
      [1, 2, 2],
      [1, 1, 3],
      [1, 3, 4],
      [1, 1, 5],
    ] as const;

    it('keeps every row by default', () => {
      const dataset = datasetFromRows(rows);

      expect(rawSequenceOf(dataset, 0)).toEqual(['1', '2', '1', '3', '1']);
      expect(dataset.report.duplicatesRemoved).toBe(0);
    });

    it('keeps the first occurrence with keep-first', () => {
      const dataset = datasetFromRows(rows, { dedupe: 'keep-first' });

      expect(rawSequenceOf(dataset, 0)).toEqual(['1', '2', '3']);
      expect(Array.from(dataset.timestamps ?? [])).toEqual([1, 2, 4]);
      expect(dataset.report.duplicatesRemoved).toBe(2);
      expect(dataset.report.steps).toContain(stepDedupe('keep-first', 2));
    });

    it('keeps the last occurrence with keep-last', () => {
      const dataset = datasetFromRows(rows, { dedupe: 'keep-last' });

      expect(rawSequenceOf(dataset, 0)).toEqual(['2', '3', '1']);
      expect(Array.from(dataset.timestamps ?? [])).toEqual([2, 4, 5]);
      expect(dataset.report.duplicatesRemoved).toBe(2);
    });

    it('compares pairs within a user only', () => {
      const dataset = datasetFromRows(
        [
          [1, 1, 1],
          [2, 1, 1],
        ],
        { dedupe: 'keep-first' },
      );

      expect(dataset.items.length).toBe(2);
      expect(dataset.report.duplicatesRemoved).toBe(0);
    });
  });

  describe('k-core filtering', () => {
    // u1: a b c, u2: a b, u3: c d, u4: d (a..d = 1..4), both minimums 2.
    // u4 has 1 interaction → (u4, d) goes → d has 1 → (u3, d) goes → u3 has 1 → (u3, c)
    // goes → c has 1 → (u1, c) goes. Left: u1 a b, u2 a b; every count is 2.
    const rows = [
      [1, 1, 1],
      [1, 2, 2],
      [1, 3, 3],
      [2, 1, 1],
      [2, 2, 2],
      [3, 3, 1],
      [3, 4, 2],
      [4, 4, 1],
    ] as const;

    it('iterates to a fixed point', () => {
      const dataset = datasetFromRows(rows, { minUserInteractions: 2, minItemInteractions: 2 });

      expect(dataset.rawUserIds).toEqual(['1', '2']);
      expect(rawSequenceOf(dataset, 0)).toEqual(['1', '2']);
      expect(rawSequenceOf(dataset, 1)).toEqual(['1', '2']);
      expect(dataset.report.kCoreRemoved).toBe(4);
      expect(dataset.report.usersRemoved).toBe(2);
      expect(dataset.report.itemsRemoved).toBe(2);
    });

    it('reports the passes that removed rows', () => {
      // Pass 1 removes (u4, d), pass 2 (u3, d), pass 3 (u3, c), pass 4 (u1, c).
      const dataset = datasetFromRows(rows, { minUserInteractions: 2, minItemInteractions: 2 });

      expect(dataset.report.steps).toContain(stepKCore(2, 2, 4, 4));
    });

    it('warns when filtering empties everything', () => {
      // Every item has 2 interactions, below an item minimum of 3.
      const warnings: string[] = [];
      const logger = { info: () => undefined, warn: (line: string) => warnings.push(line), debug: () => undefined };
      const dataset = datasetFromRows(rows, { minItemInteractions: 3, logger });

      expect(dataset.userCount).toBe(0);
      expect(dataset.itemCount).toBe(0);
      expect(Array.from(dataset.offsets)).toEqual([0]);
      expect(dataset.report.kCoreRemoved).toBe(8);
      expect(warnings).toEqual([emptyDataset('fixture', 8)]);
    });

    it('leaves the data alone when off', () => {
      const dataset = datasetFromRows(rows);

      expect(dataset.items.length).toBe(8);
      expect(dataset.report.kCoreRemoved).toBe(0);
    });
  });

  describe('rating threshold', () => {
    function ratedLog(): ReturnType<InteractionLogBuilder['finish']> {
      const builder = new InteractionLogBuilder(true, true);
      builder.add(1, 10, 1, 2); // item 10 rated 2
      builder.add(1, 10, 2, 5); // item 10 again, rated 5
      builder.add(1, 11, 3, 4);
      builder.add(2, 12, 1, 3.5);
      return builder.finish();
    }

    it('keeps rows at or above the threshold', () => {
      const dataset = buildSequenceDataset(ratedLog(), inline, { ratingThreshold: 4 });

      expect(rawSequenceOf(dataset, 0)).toEqual(['10', '11']);
      expect(Array.from(dataset.ratings ?? [])).toEqual([5, 4]);
      expect(dataset.userCount).toBe(1);
      expect(dataset.report.belowRatingThreshold).toBe(2);
      expect(dataset.report.usersRemoved).toBe(1);
      expect(dataset.report.itemsRemoved).toBe(1);
      expect(dataset.report.steps).toContain(stepRatingThreshold(4, 2, 2));
    });

    it('applies before de-duplication', () => {
      // keep-first after the threshold keeps the rating-5 row of item 10, not the rating-2 one.
      const dataset = buildSequenceDataset(ratedLog(), inline, { ratingThreshold: 4, dedupe: 'keep-first' });

      expect(Array.from(dataset.timestamps ?? [])).toEqual([2, 3]);
      expect(dataset.report.duplicatesRemoved).toBe(0);
    });

    it('rejects a threshold for data without ratings', () => {
      const builder = new InteractionLogBuilder(true, false);
      builder.add(1, 1, 1);

      const error = thrownBy(() => buildSequenceDataset(builder.finish(), inline, { ratingThreshold: 4 }));

      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe(ratingThresholdWithoutRatings('buildSequenceDataset', 'inline'));
    });
  });

  describe('report', () => {
    it('counts rows read and records options', () => {
      const dataset = datasetFromRows(
        [
          [1, 1, 1],
          [1, 1, 2],
          [2, 2, 1],
        ],
        { dedupe: 'keep-last' },
      );

      expect(dataset.report.rowsRead).toBe(3);
      expect(dataset.report.duplicatesRemoved).toBe(1);
      expect(dataset.source.params).toMatchObject({ dedupe: 'keep-last', minItemInteractions: 0, minUserInteractions: 0, ratingThreshold: null });
    });

    it('sends each step to the logger', () => {
      const lines: string[] = [];
      const logger = { info: (line: string) => lines.push(line), warn: () => undefined, debug: () => undefined };
      const dataset = datasetFromRows([[1, 1, 1]], { logger });

      expect(lines).toEqual(dataset.report.steps.map((step) => `fixture: ${step}`));
    });
  });

  describe('option validation', () => {
    const log = new InteractionLogBuilder(true, false).finish();

    it.each([
      ['minItemInteractions', { minItemInteractions: -1 }, 'an integer >= 0', -1],
      ['minUserInteractions', { minUserInteractions: 1.5 }, 'an integer >= 0', 1.5],
      ['ratingThreshold', { ratingThreshold: Number.NaN }, 'a finite number', Number.NaN],
      ['dedupe', { dedupe: 'first' as never }, "one of 'keep-all', 'keep-first', 'keep-last'", 'first'],
    ])('rejects an invalid %s', (argument, options, expected, received) => {
      const error = thrownBy(() => buildSequenceDataset(log, inline, options));

      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe(invalidArgument('buildSequenceDataset', argument, expected, received));
    });

    it('names the argument in the message', () => {
      expect(() => buildSequenceDataset(log, inline, { minItemInteractions: -1 })).toThrow(
        'buildSequenceDataset: invalid minItemInteractions: expected an integer >= 0, received -1.',
      );
    });
  });
});

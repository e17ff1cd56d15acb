import { failedRow, metricsWith, okRow, toJsonl } from './__fixtures__/rows';
import { bestPerBudget, summarizeSettings } from './overview';
import { parseResultsText } from './results';

function rowsOf(values: Record<string, unknown>[]) {
  return parseResultsText(toJsonl(values), '/results/run-1/results.jsonl').rows;
}

describe('summarizeSettings', () => {
  it('averages the seeds of one setting', () => {
    const rows = rowsOf([
      okRow({ seed: 1, metrics: metricsWith(0.1), bytesPerUser: 100 }),
      okRow({ seed: 2, metrics: metricsWith(0.2), bytesPerUser: 300 }),
      failedRow({ seed: 3 }),
    ]);

    const [summary] = summarizeSettings(rows);

    // (0.1 + 0.2) / 2 = 0.15; (100 + 300) / 2 = 200; the failed row is left out.
    expect(summary.accuracy).toBeCloseTo(0.15, 12);
    expect(summary.bytesPerUser).toBe(200);
    expect(summary.seeds).toBe(2);
  });

  it('weighs a rerun seed once', () => {
    const rows = rowsOf([
      okRow({ seed: 1, metrics: metricsWith(0.1), bytesPerUser: 100 }),
      okRow({ seed: 1, metrics: metricsWith(0.3), bytesPerUser: 100 }),
      okRow({ seed: 2, metrics: metricsWith(0.4), bytesPerUser: 400 }),
    ]);

    const [summary] = summarizeSettings(rows);

    // Seed 1: (0.1 + 0.3) / 2 = 0.2, seed 2: 0.4, so (0.2 + 0.4) / 2 = 0.3; bytes (100 + 400) / 2 = 250.
    expect(summary.accuracy).toBeCloseTo(0.3, 12);
    expect(summary.bytesPerUser).toBe(250);
    expect(summary.seeds).toBe(2);
  });

  it('counts each row without a seed as a seed', () => {
    const rows = rowsOf([okRow({ seed: null, metrics: metricsWith(0.1) }), okRow({ seed: null, metrics: metricsWith(0.3) })]);

    const [summary] = summarizeSettings(rows);

    expect(summary.accuracy).toBeCloseTo(0.2, 12);
    expect(summary.seeds).toBe(2);
  });

  it('leaves out rows without a cache', () => {
    expect(summarizeSettings(rowsOf([okRow({ protocol: 'none', strategy: 'recompute' })]))).toEqual([]);
  });
});

describe('bestPerBudget', () => {
  // Full cache 1000 bytes per user. Budgets: 1000, 500, 250 bytes.
  const rows = rowsOf([
    okRow({ strategy: 'full', setting: '', bytesPerUser: 1000, fullBytesPerUser: 1000, metrics: metricsWith(0.2) }),
    okRow({ strategy: 'snapkv', setting: 'r=0.5', bytesPerUser: 500, fullBytesPerUser: 1000, metrics: metricsWith(0.19) }),
    okRow({ strategy: 'window', setting: 'r=0.5', bytesPerUser: 480, fullBytesPerUser: 1000, metrics: metricsWith(0.19) }),
    okRow({ strategy: 'snapkv', setting: 'r=0.75', bytesPerUser: 260, fullBytesPerUser: 1000, metrics: metricsWith(0.18) }),
    okRow({ model: 'hstu', strategy: 'int8', setting: '', bytesPerUser: 300, fullBytesPerUser: 1000, metrics: metricsWith(0.3) }),
  ]);

  it('picks the most accurate setting that fits each budget', () => {
    const groups = bestPerBudget(rows, [1, 0.5, 0.25]);

    expect(groups.map((group) => [group.dataset, group.model, group.task])).toEqual([
      ['ml-1m', 'hstu', 'retrieval'],
      ['ml-1m', 'sasrec', 'retrieval'],
    ]);
    // hstu: int8 uses 300 <= 1000 and 300 <= 500 bytes, but 300 > 250.
    expect(groups[0].winners.map((winner) => winner.best?.strategy ?? null)).toEqual(['int8', 'int8', null]);
    // sasrec at 1000: full (0.2). At 500: snapkv and window tie at 0.19, and window uses fewer bytes (480 < 500).
    // At 250: snapkv r=0.75 uses 260 > 250, so nothing fits.
    expect(groups[1].winners.map((winner) => winner.best?.strategy ?? null)).toEqual(['full', 'window', null]);
  });

  it('uses GAUC for CTR groups', () => {
    const groups = bestPerBudget(rowsOf([okRow({ task: 'ctr', metrics: { gauc: 0.61, auc: 0.7 }, bytesPerUser: 10, fullBytesPerUser: 40 })]), [0.25]);

    // 10 <= 0.25 * 40 = 10: the row fits its budget exactly.
    expect(groups[0].metric).toBe('gauc');
    expect(groups[0].winners[0].best?.accuracy).toBe(0.61);
  });
});

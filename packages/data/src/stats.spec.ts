import { datasetFromSequences } from './__fixtures__/temp-files';
import { datasetStats, formatStats, quantile } from './stats';

describe('datasetStats', () => {
  // Lengths 1, 2, 3, 6 (12 interactions); item counts: 1 → 6, 2 → 3, 3 → 2, 4 → 1.
  const dataset = datasetFromSequences([[1], [1, 2], [1, 2, 3], [1, 1, 1, 2, 3, 4]]);
  const stats = datasetStats(dataset);

  it('counts users, items and interactions', () => {
    expect(stats.users).toBe(4);
    expect(stats.items).toBe(4);
    expect(stats.interactions).toBe(12);
  });

  it('describes sequence lengths', () => {
    // Sorted [1, 2, 3, 6]. Median: h = 3·0.5 = 1.5 → 2 + 0.5·(3 − 2) = 2.5.
    // p90: h = 3·0.9 = 2.7 → 3 + 0.7·(6 − 3) = 5.1. Mean 12 / 4 = 3.
    expect(stats.length.min).toBe(1);
    expect(stats.length.max).toBe(6);
    expect(stats.length.mean).toBe(3);
    expect(stats.length.median).toBeCloseTo(2.5, 12);
    expect(stats.length.p90).toBeCloseTo(5.1, 12);
  });

  it('computes the Gini coefficient of item popularity', () => {
    // Mean absolute difference route: Σ over ordered pairs |ci − cj| = 2·(1+2+5+1+4+3) = 32,
    // G = 32 / (2 · 4² · mean 3) = 1/3.
    expect(stats.giniItemPopularity).toBeCloseTo(1 / 3, 12);
  });

  it('computes the share of the top 1 % of items', () => {
    // ⌈0.01 · 4⌉ = 1 item: the most popular has 6 of 12 interactions.
    expect(stats.top1PercentShare).toBe(0.5);
  });

  it('gives 0 for equal popularity', () => {
    const even = datasetStats(datasetFromSequences([[1, 2], [3, 4]]));

    expect(even.giniItemPopularity).toBeCloseTo(0, 12);
    expect(even.top1PercentShare).toBe(0.25);
  });

  it('takes the median of an odd count from the middle', () => {
    expect(quantile(Float64Array.of(1, 5, 9), 0.5)).toBe(5);
    expect(quantile(new Float64Array(0), 0.5)).toBe(0);
  });
});

describe('formatStats', () => {
  it('prints one aligned line per quantity', () => {
    const text = formatStats({
      name: 'demo',
      users: 6040,
      items: 3706,
      interactions: 1000209,
      length: { min: 20, mean: 165.5975, median: 96, p90: 400.5, max: 2314 },
      giniItemPopularity: 0.63357,
      top1PercentShare: 0.0891,
    });

    expect(text.split('\n')).toEqual([
      'dataset demo',
      '  users                     6,040',
      '  items                     3,706',
      '  interactions          1,000,209',
      '  length min                   20',
      '  length mean               165.6',
      '  length median                96',
      '  length p90                400.5',
      '  length max                2,314',
      '  item popularity Gini     0.6336',
      '  top 1% items share        8.91%',
    ]);
  });
});

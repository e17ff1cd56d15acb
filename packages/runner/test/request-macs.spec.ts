import { generateSynthetic, leaveOneOut } from '@malloc/data';
import { requestMacs, type ModelDimensions } from '@malloc/metrics';
import { createHstu, createSasRec, initBackend } from '@malloc/models';
import { planCells } from '../src/cells';
import { DEFAULT_CONFIG } from '../src/config';
import { evaluateCells } from '../src/evaluate';
import { seededSample } from '../src/sampling';

describe('macsPerRequest of evaluated cells', () => {
  jest.setTimeout(60_000);
  const maxLength = 8;
  const dataset = generateSynthetic({ users: 12, items: 30, meanLength: 10, maxLength: 20, seed: 3 });
  const split = leaveOneOut(dataset);
  const userIndices = seededSample(split.test.users.length, null, 0);
  const cells = planCells(['full', 'recompute', 'window'], [0.5]);

  // History lengths of the evaluated users: the capped input minus the one request item.
  const histories = Array.from(userIndices, (j) => Math.min(split.test.inputEnd[j], maxLength) - 1).filter((length) => length > 0);

  beforeAll(async () => {
    await initBackend('cpu');
  });

  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

  it.each([
    ['sasrec', () => createSasRec({ itemCount: dataset.itemCount, maxLength, hiddenSize: 8, heads: 2, kvHeads: 1 }, 1), { layers: 2, hiddenSize: 8, heads: 2, kvHeads: 1, itemCount: dataset.itemCount }],
    ['hstu', () => createHstu({ itemCount: dataset.itemCount, maxLength, hiddenSize: 8, heads: 2, queryKeySize: 4, valueSize: 6 }, 1), { layers: 2, hiddenSize: 8, heads: 2, dqk: 4, dv: 6, itemCount: dataset.itemCount }],
  ] as const)('of %s equal the mean of requestMacs over users at their cached lengths', (architecture, create, config) => {
    const model = create();
    const result = evaluateCells({ model, dataset, split: split.test, userIndices, cells, settings: DEFAULT_CONFIG.evaluation, recordStats: false });
    model.dispose();
    const dimensions: ModelDimensions = { architecture, config };
    expect(histories.length).toBeGreaterThan(5);

    // full caches the whole history, window 0.5 keeps max(1, ⌊h · 0.5⌋), and recompute runs h + 1 tokens.
    const expected: Record<string, number> = {
      full: mean(histories.map((h) => requestMacs(dimensions, { requestLength: 1 }, h, h).withCache)),
      recompute: mean(histories.map((h) => requestMacs(dimensions, { requestLength: 1 }, h, h).withoutCache)),
      window: mean(histories.map((h) => requestMacs(dimensions, { requestLength: 1 }, h, Math.max(1, Math.floor(h * 0.5))).withCache)),
    };
    for (const measurement of result.measurements) {
      expect(measurement.users).toBe(histories.length);
      expect((measurement.macsTotal ?? Number.NaN) / measurement.users).toBeCloseTo(expected[measurement.cell.strategy], 6);
    }
    expect(expected.recompute).toBeGreaterThan(expected.full);
    expect(expected.full).toBeGreaterThan(expected.window);
  });

  it('are absent for MLA models', () => {
    const model = createSasRec({ itemCount: dataset.itemCount, maxLength, hiddenSize: 8, heads: 2, kvLatentSize: 4 }, 1);
    const result = evaluateCells({ model, dataset, split: split.test, userIndices, cells: planCells(['full'], []), settings: DEFAULT_CONFIG.evaluation, recordStats: false });
    model.dispose();
    expect(result.measurements[0].users).toBeGreaterThan(0);
    expect(result.measurements[0].macsTotal).toBeUndefined();
  });
});

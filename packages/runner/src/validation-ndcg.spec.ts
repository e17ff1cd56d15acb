import { generateSynthetic, leaveOneOut } from '@malloc/data';
import { createGru4Rec, createHstu, createSasRec, initBackend, type SequentialModel } from '@malloc/models';
import { rankOfTarget } from '@malloc/metrics';
import { heldOutRanks } from './held-out-ranks';
import { validationNdcg } from './training';
import { perUserValidationNdcg } from './validation-reference';

describe('validationNdcg', () => {
  // Histories of 3 to 30 items against a maximum length of 8, so most inputs are capped.
  const dataset = generateSynthetic({ users: 40, items: 30, meanLength: 14, maxLength: 30, seed: 5 });
  const split = leaveOneOut(dataset);
  const everyone = Int32Array.from(split.validation.users, (_, j) => j);
  const config = { itemCount: dataset.itemCount, maxLength: 8, hiddenSize: 8, layers: 2, heads: 2, dropout: 0 };
  const models: [string, () => SequentialModel][] = [
    ['sasrec', () => createSasRec(config, 3)],
    ['hstu', () => createHstu({ ...config, queryKeySize: 4, valueSize: 4, queryTime: 'next' }, 3)],
    ['gru4rec', () => createGru4Rec({ ...config, heads: 1 }, 3)],
  ];

  beforeAll(async () => {
    await initBackend('cpu');

    // HSTU reads the request time only when the data has timestamps.
    expect(dataset.timestamps).not.toBeNull();
  });

  it.each(models)('batched %s equals per-user', (_name, create) => {
    const model = create();
    const expected = perUserValidationNdcg(model, dataset, split, everyone);

    expect(expected).toBeGreaterThan(0);
    expect(validationNdcg(model, dataset, split, everyone)).toBeCloseTo(expected, 6);
    expect(validationNdcg(model, dataset, split, everyone, 3)).toBeCloseTo(expected, 6);
    model.dispose();
  });

  it('ranks test targets like forwardLast', () => {
    const model = createSasRec(config, 5);
    const users = Int32Array.from([0, 7, 21]);
    const ranks = heldOutRanks(model, dataset, split.test, users, 2);

    users.forEach((j, row) => {
      const start = dataset.offsets[split.test.users[j]];
      const input = dataset.items.subarray(start, start + split.test.inputEnd[j]);
      const hidden = model.forwardLast(input.subarray(Math.max(0, input.length - config.maxLength)));
      expect(ranks[row]).toBe(rankOfTarget(model.scoreAll(hidden), split.test.targets[j], { exclude: input }));
    });
    model.dispose();
  });

  it('scores only the sampled users', () => {
    const model = createSasRec(config, 4);
    const sample = Int32Array.from([1, 4, 9, 17]);

    expect(validationNdcg(model, dataset, split, sample)).toBeCloseTo(perUserValidationNdcg(model, dataset, split, sample), 6);
    expect(validationNdcg(model, dataset, split, new Int32Array(0))).toBe(0);
    model.dispose();
  });
});

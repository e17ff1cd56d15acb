import { generateSynthetic, leaveOneOut } from '@malloc/data';
import { createHstu, createSasRec, initBackend, type PrefillBatchOptions, type PrefillResult, type SequentialModel } from '@malloc/models';
import { needsAttentionStats, planCells } from '../src/cells';
import { DEFAULT_CONFIG } from '../src/config';
import { evaluateCells, type EvaluationResult } from '../src/evaluate';
import { invalidPrefillWindow } from '../src/messages';
import { seededSample } from '../src/sampling';

/**
 * Wraps a model so that `prefillBatch` runs one `prefill` per history, which is how the
 * runner prefilled before it batched histories.
 */
function prefillingOneByOne(model: SequentialModel): SequentialModel {
  const prefillBatch = (histories: readonly Int32Array[], options: PrefillBatchOptions = {}): PrefillResult[] =>
    histories.map((history, index) => model.prefill(history, { timestamps: options.timestamps?.[index], recordStats: options.recordStats, statsWindow: options.statsWindow }));
  return Object.assign(Object.create(model) as SequentialModel, { prefillBatch });
}

function ranksOf(result: EvaluationResult): Record<string, number[]> {
  return Object.fromEntries(result.measurements.map((measurement) => [`${measurement.cell.strategy} ${measurement.cell.setting}`, Array.from(measurement.ranking.rankValues())]));
}

describe('evaluateCells prefillWindow validation', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('rejects a window that is not a positive integer', () => {
    const dataset = generateSynthetic({ users: 10, items: 20, seed: 1 });
    const split = leaveOneOut(dataset);
    const model = createSasRec({ itemCount: dataset.itemCount, maxLength: 8, hiddenSize: 8 }, 1);
    for (const prefillWindow of [0, 1.5, Number.NaN]) {
      expect(() => evaluateCells({ model, dataset, split: split.test, userIndices: new Int32Array([0]), cells: planCells(['full'], []), settings: DEFAULT_CONFIG.evaluation, recordStats: false, prefillWindow })).toThrow(
        new RangeError(invalidPrefillWindow(prefillWindow)),
      );
    }
    model.dispose();
  });
});

describe.each(['wasm', 'cpu'] as const)('evaluateCells prefill window on %s', (backend) => {
  jest.setTimeout(120_000);
  // Lengths up to 80 against a max length of 24 put capped and short histories in one prefill window.
  const dataset = generateSynthetic({ users: 120, items: 60, meanLength: 20, maxLength: 80, seed: 5 });
  const split = leaveOneOut(dataset);
  const userIndices = seededSample(split.test.users.length, null, 0);
  const cells = planCells(['full', 'recompute', 'streaming-llm', 'snapkv'], [0.5]);

  beforeAll(async () => {
    await initBackend(backend);
  });

  // HSTU runs on wasm only: the same evaluation took over 100 s on the cpu backend.
  const models: [string, () => SequentialModel][] = [['SasRec', () => createSasRec({ itemCount: dataset.itemCount, maxLength: 24, hiddenSize: 16, heads: 2 }, 4)]];
  if (backend === 'wasm') {
    models.push(['Hstu', () => createHstu({ itemCount: dataset.itemCount, maxLength: 24, hiddenSize: 16, heads: 2 }, 4)]);
  }

  it.each(models)('of 64 users leaves %s ranks unchanged', (_, create) => {
    const model = create();
    const run = (evaluated: SequentialModel, prefillWindow: number): EvaluationResult =>
      evaluateCells({ model: evaluated, dataset, split: split.test, userIndices, cells, settings: DEFAULT_CONFIG.evaluation, recordStats: needsAttentionStats(cells), prefillWindow });
    const batched = run(model, 64);
    const oneByOne = run(prefillingOneByOne(model), 1);

    expect(batched.usersEvaluated).toBe(oneByOne.usersEvaluated);
    expect(batched.usersEvaluated).toBeGreaterThan(userIndices.length / 2);
    expect(ranksOf(batched)).toEqual(ranksOf(oneByOne));
    batched.measurements.forEach((measurement, index) => {
      expect(measurement.storedBytes).toBe(oneByOne.measurements[index].storedBytes);
      expect(measurement.samples.prefill).toHaveLength(measurement.cell.kind === 'cache' ? batched.usersEvaluated : 0);
    });
    model.dispose();
  });
});

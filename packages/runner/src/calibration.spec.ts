import { createStrategy, type CompressionStrategy } from '@malloc/compression';
import type { SequenceDataset } from '@malloc/data';
import { createHstu, createSasRec, initBackend } from '@malloc/models';
import { calibrateStrategies, calibrationHistories } from './calibration';
import { allMethods, planCells } from './cells';
import { createMemoryLogger } from './logger';
import { formatMethodsTable } from './methods-table';
import { noCalibrationUsers } from './messages';

/** Builds a dataset of three users: [1 … 6], [7, 8] and [9 … 13], with timestamps 100 + index. */
function tinyDataset(): SequenceDataset {
  const items = Int32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
  return {
    name: 'tiny',
    userCount: 3,
    itemCount: 13,
    offsets: Int32Array.of(0, 6, 8, 13),
    items,
    timestamps: Float64Array.from(items, (_, i) => 100 + i),
  } as unknown as SequenceDataset;
}

describe('calibrationHistories', () => {
  // Leave-one-out training parts: n − 2 items, or 0 below 3 items.
  const trainEnd = Int32Array.of(4, 0, 3);

  it('takes only the training part of users that have one', () => {
    const sample = calibrationHistories(tinyDataset(), trainEnd, 10, 0, 50);
    expect(Array.from(sample.users)).toEqual([0, 2]);
    // User 0: [1, 2, 3, 4] (5 and 6 are the validation and test targets); user 2: [9, 10, 11].
    expect(sample.histories.map((history) => Array.from(history))).toEqual([
      [1, 2, 3, 4],
      [9, 10, 11],
    ]);
    expect(sample.timestamps?.map((times) => Array.from(times))).toEqual([
      [100, 101, 102, 103],
      [108, 109, 110],
    ]);
  });

  it('keeps the newest items up to the maximum length', () => {
    const sample = calibrationHistories(tinyDataset(), trainEnd, 10, 0, 2);
    expect(sample.histories.map((history) => Array.from(history))).toEqual([
      [3, 4],
      [10, 11],
    ]);
  });

  it('samples the same users for the same seed', () => {
    const first = calibrationHistories(tinyDataset(), trainEnd, 1, 7, 50);
    const again = calibrationHistories(tinyDataset(), trainEnd, 1, 7, 50);
    expect(first.users).toHaveLength(1);
    expect(Array.from(again.users)).toEqual(Array.from(first.users));
  });
});

describe('calibrateStrategies', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('calibrates the shared basis and leaves other strategies alone', () => {
    // SASRec d = 8, 2 layers, 1 head: dHead = 8; ratio 0.75 gives rank max(1, round(8 · 0.25)) = 2.
    // The basis takes 2 layers · (K + V) · [2, 8] float32 = 2 · 2 · 2 · 8 · 4 B = 256 B.
    const model = createSasRec({ itemCount: 13, maxLength: 10, hiddenSize: 8, layers: 2, heads: 1 }, 1);
    const cells = planCells(['full', 'shared-basis'], [0.75]);
    const strategies = cells.map((cell) => createStrategy(cell.strategy, cell.params));
    const logger = createMemoryLogger();
    const results = calibrateStrategies(strategies, cells, { model, dataset: tinyDataset(), trainEnd: Int32Array.of(4, 0, 3), calibrationUsers: 256, sampleSeed: 0, logger });
    model.dispose();
    expect(results).toEqual([null, { users: 2, sharedBytes: 256 }]);
    expect(logger.lines.some((line) => line.startsWith('info: Calibrated shared-basis'))).toBe(true);
  });

  it("calibrates HSTU with queryTime 'next' from the last training item's time", () => {
    // The validation item's timestamp is held out, so the prefill's request time is the last training item's.
    const model = createHstu({ itemCount: 13, maxLength: 10, hiddenSize: 8, layers: 2, heads: 1, queryKeySize: 8, valueSize: 8, queryTime: 'next' }, 1);
    const cells = planCells(['shared-basis'], [0.75]);
    const strategies = cells.map((cell) => createStrategy(cell.strategy, cell.params));

    const results = calibrateStrategies(strategies, cells, { model, dataset: tinyDataset(), trainEnd: Int32Array.of(4, 0, 3), calibrationUsers: 256, sampleSeed: 0, logger: createMemoryLogger() });

    model.dispose();
    expect(results).toEqual([{ users: 2, sharedBytes: 256 }]);
  });

  it('returns the error of a cell that cannot be calibrated', () => {
    const model = createSasRec({ itemCount: 13, maxLength: 10, hiddenSize: 8, layers: 2, heads: 1 }, 1);
    const cells = planCells(['shared-basis'], [0.5]);
    const strategies: CompressionStrategy[] = [createStrategy('shared-basis', { compressionRatio: 0.5 })];
    const results = calibrateStrategies(strategies, cells, { model, dataset: tinyDataset(), trainEnd: Int32Array.of(0, 0, 0), calibrationUsers: 256, sampleSeed: 0, logger: createMemoryLogger() });
    model.dispose();
    expect(results).toEqual([new RangeError(noCalibrationUsers('shared-basis'))]);
  });
});

describe('formatMethodsTable', () => {
  it('marks calibrated methods', () => {
    const table = formatMethodsTable(allMethods());
    expect(table).toMatch(/^shared-basis\s+low-rank\s+low-rank\s+calibration\s/m);
    expect(table).toMatch(/^svd\s+low-rank\s+low-rank\s+no\s/m);
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaveOneOut, loadDataset, type SequenceDataset } from '@malloc/data';
import { fingerprintTrainingData } from '@malloc/models';
import { runBench } from './bench';
import { resolveConfig, validateConfigInput, type RunConfig } from './config';
import { createMemoryLogger } from './logger';
import { trainOnValidationWithCtr, trainOnValidationWithPatience } from './messages';
import { readResults } from './results-store';
import { checkTrainOnValidation, trainingEnd } from './train-on-validation';
import { canonicalTraining, runConfigHash } from './trained-settings';
import { trainedModelKey } from './training';

/** Users [11, 12, 13, 14, 15], [1, 2] (too short to evaluate) and [3, 4, 5]. */
function caseData(): SequenceDataset {
  return {
    name: 'case-b8',
    userCount: 3,
    itemCount: 20,
    offsets: new Int32Array([0, 5, 7, 10]),
    items: new Int32Array([11, 12, 13, 14, 15, 1, 2, 3, 4, 5]),
    timestamps: null,
    ratings: null,
    rawUserIds: ['a', 'b', 'c'],
    rawItemIds: Array.from({ length: 21 }, (_, i) => (i === 0 ? '' : String(i))),
    source: { format: 'fixture', files: [], parameters: {} },
  } as unknown as SequenceDataset;
}

describe('training on the validation items', () => {
  it('training end includes validation, not test', () => {
    const split = leaveOneOut(caseData());

    // Targets stop at 13 by default and at 14 with the setting, and 15 stays the test target.
    expect(Array.from(trainingEnd(split, false))).toEqual([3, 0, 1]);
    expect(Array.from(trainingEnd(split, true))).toEqual([4, 0, 2]);
    expect(Array.from(split.test.targets)).toEqual([15, 5]);
    expect(Array.from(split.trainEnd)).toEqual([3, 0, 1]);
  });

  it('returns the split array when off', () => {
    const split = leaveOneOut(caseData());
    expect(trainingEnd(split, false)).toBe(split.trainEnd);
  });

  it('rejects patience and the CTR task', () => {
    const training = resolveConfig(null, { preset: 'smoke' }).training;
    expect(() => checkTrainOnValidation({ ...training, trainOnValidation: true, patience: 10 }, 'retrieval')).toThrow(new RangeError(trainOnValidationWithPatience(10)));
    expect(() => checkTrainOnValidation({ ...training, trainOnValidation: true }, 'ctr')).toThrow(new RangeError(trainOnValidationWithCtr()));
    expect(() => checkTrainOnValidation({ ...training, trainOnValidation: true }, 'retrieval')).not.toThrow();
    expect(() => checkTrainOnValidation({ ...training, patience: 10 }, 'ctr')).not.toThrow();
    expect(trainOnValidationWithPatience(10)).toContain('training.patience is 10');
  });

  it('accepts only a boolean', () => {
    expect(() => validateConfigInput({ training: { trainOnValidation: true } }, 'run.yaml')).not.toThrow();
    expect(() => validateConfigInput({ training: { trainOnValidation: 'yes' } }, 'run.yaml')).toThrow(/trainOnValidation/);
  });

  it('enters keys only when true', () => {
    const base = resolveConfig(null, { preset: 'smoke' });
    const off = { ...base, training: { ...base.training, trainOnValidation: false } };
    const on = { ...base, training: { ...base.training, trainOnValidation: true } };
    const onOtherSample = { ...on, evaluation: { ...on.evaluation, sampleSeed: 5 } };

    expect(canonicalTraining(off.training, 'retrieval')).toEqual(canonicalTraining(base.training, 'retrieval'));
    expect(canonicalTraining(on.training, 'retrieval')).toMatchObject({ trainOnValidation: true });
    expect(trainedModelKey(off, 'sasrec', 'f', 1)).toBe(trainedModelKey(base, 'sasrec', 'f', 1));
    expect(trainedModelKey(on, 'sasrec', 'f', 1)).not.toBe(trainedModelKey(base, 'sasrec', 'f', 1));
    expect(trainedModelKey(onOtherSample, 'sasrec', 'f', 1)).toBe(trainedModelKey(on, 'sasrec', 'f', 1));
  });

  it('ignores validationUsers when true', () => {
    const base = resolveConfig(null, { preset: 'smoke' });
    const on = { ...base, training: { ...base.training, trainOnValidation: true, validationUsers: 60 } };
    const onAll = { ...on, training: { ...on.training, validationUsers: null } };
    const offAll = { ...base, training: { ...base.training, validationUsers: null } };

    expect(trainedModelKey(onAll, 'sasrec', 'f', 1)).toBe(trainedModelKey(on, 'sasrec', 'f', 1));
    expect(runConfigHash(onAll)).toBe(runConfigHash(on));
    expect(trainedModelKey(offAll, 'sasrec', 'f', 1)).not.toBe(trainedModelKey(base, 'sasrec', 'f', 1));
  });

  describe('runBench', () => {
    jest.setTimeout(240_000);
    let out: string;

    beforeAll(() => {
      out = mkdtempSync(join(tmpdir(), 'malloc-bench-refit-'));
    });

    afterAll(() => {
      rmSync(out, { recursive: true, force: true });
    });

    it('trains n − 1 items, keeps last epoch', async () => {
      const base = resolveConfig(null, { preset: 'smoke', out, backend: 'cpu' });
      const config: RunConfig = { ...base, models: ['sasrec'], strategies: ['full'], training: { ...base.training, epochs: 2, trainOnValidation: true } };
      const logger = createMemoryLogger();

      await runBench(config, logger);
      const [row] = readResults(join(out, 'results.jsonl')).rows;
      const folders = readdirSync(join(out, 'checkpoints'));
      const state = JSON.parse(readFileSync(join(out, 'checkpoints', folders[0], 'train', 'training.json'), 'utf8')) as { dataFingerprint: string; state: { epochs: { validation?: number | null }[] } };

      // The training state's data fingerprint is that of the n − 1 training ends.
      const dataset = await loadDataset('synthetic', { synthetic: config.synthetic });
      const split = leaveOneOut(dataset);
      const data = { itemCount: dataset.itemCount, offsets: dataset.offsets, items: dataset.items, ...(dataset.timestamps === null ? {} : { timestamps: dataset.timestamps }) };
      expect(state.dataFingerprint).toBe(fingerprintTrainingData({ ...data, trainEnd: trainingEnd(split, true) }));
      expect(state.dataFingerprint).not.toBe(fingerprintTrainingData({ ...data, trainEnd: split.trainEnd }));

      expect(folders).toHaveLength(1);
      expect(state.state.epochs).toHaveLength(2);
      expect(state.state.epochs.every((epoch) => epoch.validation === undefined || epoch.validation === null)).toBe(true);
      expect(row.status).toBe('ok');
      expect(row.training).toMatchObject({ bestEpoch: 2, bestValidation: null, settings: { training: { trainOnValidation: true } } });
      expect(logger.lines.some((line) => line.includes('2 epochs with the validation items among the targets, keeping the last'))).toBe(true);
    });

    it('continues the training with more epochs', async () => {
      const base = resolveConfig(null, { preset: 'smoke', out, backend: 'cpu' });
      const config: RunConfig = { ...base, models: ['sasrec'], strategies: ['full'], training: { ...base.training, epochs: 3, trainOnValidation: true } };
      const logger = createMemoryLogger();

      await runBench(config, logger);

      expect(logger.lines.some((line) => line.startsWith('info: Continuing from the 2-epoch training state'))).toBe(true);
      expect(logger.lines.filter((line) => /^info: epoch \d+\/3/.test(line))).toEqual([expect.stringMatching(/^info: epoch 3\/3/)]);
      expect(readdirSync(join(out, 'checkpoints'))).toHaveLength(2);
    });
  });
});

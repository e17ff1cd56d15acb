import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaveOneOut, loadDataset, type SequenceDataset } from '@malloc/data';
import { createSasRec, initBackend, trainModel } from '@malloc/models';
import { adoptTrainingState, findBudgetVariant, stoppingEpoch, TRAINING_KEY_FILE, writeTrainingKey, type TrainingKeyInputs } from './budget-variant';
import { resolveConfig, type RunConfig } from './config';
import { createMemoryLogger, silentLogger } from './logger';
import { budgetVariantAdopted } from './messages';
import { datasetFingerprint, obtainTrainedModel } from './training';

describe('stoppingEpoch', () => {
  it('stops after patience epochs without a new best', () => {
    // Best 0.2 at epoch 2; epochs 3 and 4 do not beat it.
    expect(stoppingEpoch([0.1, 0.2, 0.15, 0.18, 0.19], 2)).toBe(4);
    // A tie is no improvement.
    expect(stoppingEpoch([0.3, 0.3], 1)).toBe(2);
    // Epoch 3 improves, so only two misses follow the best.
    expect(stoppingEpoch([0.1, 0.05, 0.2, 0.1, 0.1], 3)).toBeNull();
  });

  it('never stops without patience', () => {
    expect(stoppingEpoch([0.3, 0.2, 0.1], null)).toBeNull();
  });

  it('agrees with the epochs that trainModel runs', async () => {
    // Scripted validation scores: with patience 2, training stops after epoch 6 (epochs 5 and 6 miss 0.35).
    const scores = [0.1, 0.3, 0.2, 0.35, 0.3, 0.34, 0.5];
    const model = createSasRec({ itemCount: 8, maxLength: 4, hiddenSize: 4, layers: 1, heads: 1, dropout: 0 }, 1);
    const data = { itemCount: 8, offsets: new Int32Array([0, 4, 8]), items: new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]), trainEnd: new Int32Array([4, 4]) };
    try {
      const result = await trainModel(model, data, {
        epochs: scores.length,
        batchSize: 2,
        learningRate: 0.001,
        loss: 'sampled-softmax',
        negatives: 2,
        temperature: 1,
        weightDecay: 0,
        seed: 1,
        patience: 2,
        validate: (_model, epoch) => scores[epoch - 1],
      });

      expect(result.epochs).toHaveLength(6);
      expect(stoppingEpoch(scores, 2)).toBe(6);
    } finally {
      model.dispose();
    }
  });
});

describe('findBudgetVariant', () => {
  const inputs = (training: Record<string, unknown>, seed = 1): TrainingKeyInputs => ({ modelId: 'sasrec', model: { hiddenSize: 16 }, training: { batchSize: 32, epochs: 6, patience: null, ...training }, fingerprint: 'data', seed });

  /** Writes a checkpoint folder with key inputs and a training state of the given validation scores. */
  function folder(root: string, name: string, key: TrainingKeyInputs | null, validations: number[]): void {
    const path = join(root, name);
    mkdirSync(join(path, 'train'), { recursive: true });
    if (key !== null) {
      writeTrainingKey(path, key);
    }
    const epochs = validations.map((validation, index) => ({ epoch: index + 1, loss: 1, seconds: 1, tokensPerSecond: 1, validation }));
    writeFileSync(join(path, 'train', 'training.json'), JSON.stringify({ state: { epochs } }));
  }

  it('picks the longest matching state', () => {
    const root = mkdtempSync(join(tmpdir(), 'malloc-budget-'));
    folder(root, 'd__sasrec__a__seed1', inputs({ epochs: 3, patience: 10 }), [0.1, 0.2, 0.3]);
    folder(root, 'd__sasrec__b__seed1', inputs({ epochs: 4 }), [0.1, 0.2, 0.3, 0.4]);
    // Not chosen: another batch size, another seed, more epochs than the budget, no key file, another model.
    folder(root, 'd__sasrec__c__seed1', inputs({ epochs: 5, batchSize: 64 }), [0.1, 0.2, 0.3, 0.4, 0.5]);
    folder(root, 'd__sasrec__d__seed2', inputs({ epochs: 5 }, 2), [0.1, 0.2, 0.3, 0.4, 0.5]);
    folder(root, 'd__sasrec__e__seed1', inputs({ epochs: 8 }), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    folder(root, 'd__sasrec__f__seed1', null, [0.1, 0.2, 0.3, 0.4, 0.5]);
    folder(root, 'd__hstu__g__seed1', { ...inputs({ epochs: 5 }), modelId: 'hstu' }, [0.1, 0.2, 0.3, 0.4, 0.5]);

    expect(findBudgetVariant(root, 'd__sasrec__own__seed1', inputs({}), silentLogger)).toEqual({ folder: join(root, 'd__sasrec__b__seed1'), epochs: 4 });
  });

  it('skips a state that this patience would have stopped before its end', () => {
    const root = mkdtempSync(join(tmpdir(), 'malloc-budget-'));
    // Patience 1 stops after epoch 3 (0.15 < 0.2), so a 4-epoch state lies beyond it.
    folder(root, 'd__sasrec__a__seed1', inputs({}), [0.1, 0.2, 0.15, 0.3]);

    expect(findBudgetVariant(root, 'd__sasrec__own__seed1', inputs({ patience: 1 }), silentLogger)).toBeNull();
    expect(findBudgetVariant(root, 'd__sasrec__own__seed1', inputs({ patience: 2 }), silentLogger)).toEqual({ folder: join(root, 'd__sasrec__a__seed1'), epochs: 4 });
  });

  it('accepts a state that ends on the epoch where this patience stops', () => {
    const root = mkdtempSync(join(tmpdir(), 'malloc-budget-'));
    folder(root, 'd__sasrec__a__seed1', inputs({ patience: null }), [0.2, 0.1]);

    expect(findBudgetVariant(root, 'd__sasrec__own__seed1', inputs({ patience: 1 }), silentLogger)).toEqual({ folder: join(root, 'd__sasrec__a__seed1'), epochs: 2 });
  });

  it('returns null when there is no checkpoints folder', () => {
    expect(findBudgetVariant(join(tmpdir(), 'malloc-budget-missing-folder'), 'd__sasrec__own__seed1', inputs({}), silentLogger)).toBeNull();
  });
});

describe('adoptTrainingState', () => {
  it('copies nothing when the binary fails its checksum', () => {
    const root = mkdtempSync(join(tmpdir(), 'malloc-budget-'));
    const source = join(root, 'source');
    mkdirSync(join(source, 'train'), { recursive: true });
    writeFileSync(join(source, 'train', 'training-0000.bin'), Buffer.from([1, 2, 3, 4]));
    writeFileSync(join(source, 'train', 'training.json'), JSON.stringify({ binary: { file: 'training-0000.bin', sha256: '0'.repeat(64) } }));
    const logger = createMemoryLogger();

    expect(adoptTrainingState({ folder: source, epochs: 1 }, join(root, 'target'), logger)).toBe(false);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain(`does not match the manifest's ${'0'.repeat(64)}`);
    expect(() => readdirSync(join(root, 'target'))).toThrow();
  });
});

describe('adoptTrainingState into a folder that has a state', () => {
  it('keeps the manifest that is already there', () => {
    const root = mkdtempSync(join(tmpdir(), 'malloc-budget-'));
    const source = join(root, 'source');
    const bytes = Buffer.from([1, 2, 3, 4]);
    mkdirSync(join(source, 'train'), { recursive: true });
    writeFileSync(join(source, 'train', 'training-0001.bin'), bytes);
    writeFileSync(join(source, 'train', 'training.json'), JSON.stringify({ binary: { file: 'training-0001.bin', sha256: createHash('sha256').update(bytes).digest('hex') } }));
    mkdirSync(join(root, 'target', 'train'), { recursive: true });
    writeFileSync(join(root, 'target', 'train', 'training.json'), 'its own state');
    const logger = createMemoryLogger();

    expect(adoptTrainingState({ folder: source, epochs: 1 }, join(root, 'target'), logger)).toBe(false);
    expect(readFileSync(join(root, 'target', 'train', 'training.json'), 'utf8')).toBe('its own state');
    expect(readdirSync(join(root, 'target', 'train')).sort()).toEqual(['training-0001.bin', 'training.json']);
    expect(logger.lines).toEqual([]);
  });
});

describe('obtainTrainedModel with a raised epoch budget', () => {
  jest.setTimeout(240_000);
  let dataset: SequenceDataset;

  function smokeConfig(out: string, epochs: number): RunConfig {
    const config = resolveConfig(null, { preset: 'smoke', out, backend: 'cpu' });
    return { ...config, training: { ...config.training, epochs, patience: null } };
  }

  beforeAll(async () => {
    await initBackend('cpu');
    dataset = await loadDataset('synthetic', { synthetic: smokeConfig('unused', 1).synthetic, logger: silentLogger });
  });

  it('continues the shorter run and ends with the weights of an uninterrupted run', async () => {
    const split = leaveOneOut(dataset);
    const fingerprint = datasetFingerprint(dataset);
    const out = mkdtempSync(join(tmpdir(), 'malloc-budget-'));
    const fresh = mkdtempSync(join(tmpdir(), 'malloc-budget-'));

    // Two epochs, then a budget of four in the same folder.
    const short = await obtainTrainedModel(smokeConfig(out, 2), 'sasrec', 1, dataset, split, fingerprint, silentLogger);
    short.model.dispose();
    const logger = createMemoryLogger();
    const continued = await obtainTrainedModel(smokeConfig(out, 4), 'sasrec', 1, dataset, split, fingerprint, logger);
    const uninterrupted = await obtainTrainedModel(smokeConfig(fresh, 4), 'sasrec', 1, dataset, split, fingerprint, silentLogger);

    try {
      const shortFolder = join(short.summary.checkpoint, '..');
      const continuedFolder = join(continued.summary.checkpoint, '..');
      expect(logger.lines).toContain(`info: ${budgetVariantAdopted(shortFolder, 2, continuedFolder)}`);
      expect(continued.summary.epochsRun).toBe(4);
      expect(continued.summary.bestValidation).toBe(uninterrupted.summary.bestValidation);
      // A final checkpoint's binary is named by the SHA-256 of its weights.
      const binaries = (finalDir: string) => readdirSync(finalDir).filter((name) => name.endsWith('.bin'));
      expect(binaries(continued.summary.checkpoint)).toHaveLength(1);
      expect(binaries(continued.summary.checkpoint)).toEqual(binaries(uninterrupted.summary.checkpoint));

      // The two-epoch folder keeps its own state and key.
      const shortState = JSON.parse(readFileSync(join(shortFolder, 'train', 'training.json'), 'utf8')) as { state: { epochs: unknown[] } };
      expect(shortState.state.epochs).toHaveLength(2);
      expect(JSON.parse(readFileSync(join(shortFolder, TRAINING_KEY_FILE), 'utf8')).inputs.training.epochs).toBe(2);
    } finally {
      continued.model.dispose();
      uninterrupted.model.dispose();
    }
  });
});

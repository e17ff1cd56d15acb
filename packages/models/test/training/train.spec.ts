import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHstu, createSasRec, fingerprintTrainingData, initBackend, loadCheckpoint, saveCheckpoint, trainModel, type SequentialModel, type TrainOptions, type TrainingData } from '../../src/index';
import { checkpointMismatch, missingCheckpoint } from '../../src/messages';
import type { SasRec } from '../../src/sasrec/sasrec';

const ITEMS = 20;

/** 48 users whose sequences walk the catalogue: item i is always followed by i % 20 + 1. */
function successorData(): TrainingData {
  const users = 48;
  const length = 10;
  const items = new Int32Array(users * length);
  for (let u = 0; u < users; u++) {
    for (let t = 0; t < length; t++) {
      items[u * length + t] = ((u * 7 + t) % ITEMS) + 1;
    }
  }
  return {
    itemCount: ITEMS,
    offsets: Int32Array.from({ length: users + 1 }, (_, u) => u * length),
    items,
    trainEnd: new Int32Array(users).fill(length),
  };
}

function options(overrides: Partial<TrainOptions> = {}): TrainOptions {
  return { epochs: 6, batchSize: 16, learningRate: 0.01, loss: 'sampled-softmax', negatives: 8, temperature: 0.1, weightDecay: 0, seed: 3, ...overrides };
}

function newModel(seed = 1): SequentialModel {
  return createSasRec({ itemCount: ITEMS, maxLength: 12, hiddenSize: 16, layers: 1, heads: 1, dropout: 0.1 }, seed);
}

function weightsOf(model: SequentialModel): Float32Array[] {
  return (model as SasRec).variables.map((entry) => entry.variable.dataSync() as Float32Array);
}

describe('trainModel', () => {
  let dir: string;

  beforeAll(async () => {
    await initBackend('wasm');
  });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'malloc-models-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['sampled-softmax', 'bce', 'full-ce'] as const)('%s learns the successor task', async (loss) => {
    const model = newModel();
    const result = await trainModel(model, successorData(), options({ loss, epochs: loss === 'bce' ? 24 : 12 }));

    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss * 0.6);
    // After [5, 6, 7] the next item is 8; after [18, 19, 20] it is 1.
    for (const [history, next] of [[[5, 6, 7], 8], [[18, 19, 20], 1], [[2, 3, 4, 5, 6], 7]] as const) {
      const scores = model.scoreAll(model.forwardLast(Int32Array.from(history)));
      const best = scores.indexOf(Math.max(...scores));
      expect(best).toBe(next);
    }
    model.dispose();
  });

  it('HSTU learns the successor task with timestamps', async () => {
    const data = successorData();
    data.timestamps = Float64Array.from(data.items, (_, i) => i * 3600);
    const model = createHstu({ itemCount: ITEMS, maxLength: 12, hiddenSize: 16, layers: 1, queryKeySize: 8, valueSize: 8, dropout: 0.1 }, 2);
    const result = await trainModel(model, data, options({ epochs: 16, learningRate: 0.02 }));

    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss * 0.6);
    const history = new Int32Array([5, 6, 7]);
    const scores = model.scoreAll(model.forwardLast(history, { timestamps: new Float64Array([0, 3600, 7200]) }));
    expect(scores.indexOf(Math.max(...scores))).toBe(8);
    model.dispose();
  });

  it('same seed gives identical weights', async () => {
    const first = newModel();
    const second = newModel();
    await trainModel(first, successorData(), options({ epochs: 2 }));
    await trainModel(second, successorData(), options({ epochs: 2 }));
    expect(weightsOf(first)).toEqual(weightsOf(second));

    const third = newModel();
    await trainModel(third, successorData(), options({ epochs: 2, seed: 4 }));
    expect(weightsOf(third)).not.toEqual(weightsOf(first));
    [first, second, third].forEach((model) => model.dispose());
  });

  it('keeps the best validated epoch and stops after patience', async () => {
    const model = newModel();
    const scores = [0.1, 0.3, 0.2, 0.25, 0.9];
    let bestSnapshot: Float32Array[] = [];
    const result = await trainModel(
      model,
      successorData(),
      options({
        epochs: 5,
        patience: 2,
        validate: (trained, epoch) => {
          if (epoch === 2) {
            bestSnapshot = weightsOf(trained);
          }
          return scores[epoch - 1];
        },
      }),
    );
    expect(result.epochs.map((record) => record.epoch)).toEqual([1, 2, 3, 4]);
    expect(result.bestEpoch).toBe(2);
    expect(result.bestValidation).toBe(0.3);
    expect(weightsOf(model)).toEqual(bestSnapshot);
    model.dispose();
  });

  it('resumed run ends with the weights of an uninterrupted one', async () => {
    const uninterrupted = newModel();
    await trainModel(uninterrupted, successorData(), options({ epochs: 3 }));

    const interrupted = newModel();
    await trainModel(interrupted, successorData(), options({ epochs: 2, checkpointDir: dir }));
    const resumed = newModel();
    const result = await trainModel(resumed, successorData(), options({ epochs: 3, checkpointDir: dir }));

    expect(result.epochs.map((record) => record.epoch)).toEqual([1, 2, 3]);
    expect(weightsOf(resumed)).toEqual(weightsOf(uninterrupted));
    [uninterrupted, interrupted, resumed].forEach((model) => model.dispose());
  });

  it('resume with other options is rejected naming the option', async () => {
    const model = newModel();
    await trainModel(model, successorData(), options({ epochs: 1, checkpointDir: dir }));
    const manifest = path.join(dir, 'training.json');
    await expect(trainModel(model, successorData(), options({ epochs: 2, checkpointDir: dir, learningRate: 0.02 }))).rejects.toThrow(
      checkpointMismatch(manifest, 'options.learningRate', '0.02', '0.01'),
    );
    model.dispose();
  });

  it('rejects resume with other sampling', async () => {
    const model = newModel();
    await trainModel(model, successorData(), options({ epochs: 1, checkpointDir: dir }));
    const manifest = path.join(dir, 'training.json');
    await expect(trainModel(model, successorData(), options({ epochs: 2, checkpointDir: dir, negativeSampling: 'shared' }))).rejects.toThrow(
      checkpointMismatch(manifest, 'options.negativeSampling', '"shared"', '"per-position"'),
    );
    model.dispose();
  });

  it('reads checkpoints without sampling as shared', async () => {
    // A training state saved before the option existed has no negativeSampling among its options.
    const model = newModel();
    await trainModel(model, successorData(), options({ epochs: 1, checkpointDir: dir, negativeSampling: 'shared' }));
    const manifest = path.join(dir, 'training.json');
    const saved = JSON.parse(readFileSync(manifest, 'utf8')) as { options: Record<string, unknown> };
    expect(saved.options.negativeSampling).toBe('shared');
    delete saved.options.negativeSampling;
    writeFileSync(manifest, JSON.stringify(saved));

    const resumed = await trainModel(model, successorData(), options({ epochs: 2, checkpointDir: dir, negativeSampling: 'shared' }));
    expect(resumed.epochs).toHaveLength(2);
    await expect(trainModel(newModel(), successorData(), options({ epochs: 3, checkpointDir: dir }))).rejects.toThrow(
      checkpointMismatch(manifest, 'options.negativeSampling', '"per-position"', '"shared"'),
    );
    model.dispose();
  });

  it('ignores sampling for other losses on resume', async () => {
    const model = newModel();
    await trainModel(model, successorData(), options({ loss: 'bce', epochs: 1, checkpointDir: dir, negativeSampling: 'shared' }));
    const resumed = await trainModel(model, successorData(), options({ loss: 'bce', epochs: 2, checkpointDir: dir }));
    expect(resumed.epochs).toHaveLength(2);
    model.dispose();
  });

  it('shared sampling learns the successor task', async () => {
    const model = newModel();
    const result = await trainModel(model, successorData(), options({ epochs: 12, negativeSampling: 'shared' }));
    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss * 0.6);
    model.dispose();
  });

  it('rejects invalid options', async () => {
    const model = newModel();
    await expect(trainModel(model, successorData(), options({ negativeSampling: 'batch' as 'shared' }))).rejects.toThrow(
      "trainModel: invalid options.negativeSampling: expected 'per-position' or 'shared', received 'batch'.",
    );
    await expect(trainModel(model, successorData(), options({ epochs: 0 }))).rejects.toThrow(RangeError);
    await expect(trainModel(model, successorData(), options({ learningRate: Number.NaN }))).rejects.toThrow('options.learningRate');
    await expect(trainModel(model, { ...successorData(), itemCount: 21 }, options())).rejects.toThrow('data.itemCount');
    model.dispose();
  });
});

describe('checkpoints', () => {
  let dir: string;

  beforeAll(async () => {
    await initBackend('wasm');
  });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'malloc-checkpoint-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('save then load gives identical scores', async () => {
    const model = newModel(9);
    await saveCheckpoint(model, dir, { dataFingerprint: 'abc', note: 'test' });
    const loaded = await loadCheckpoint(dir, { dataFingerprint: 'abc' });

    const history = new Int32Array([3, 4, 5]);
    expect(loaded.config).toEqual(model.config);
    expect(loaded.scoreAll(loaded.forwardLast(history))).toEqual(model.scoreAll(model.forwardLast(history)));
    expect(loaded.numWeights()).toBe(model.numWeights());
    model.dispose();
    loaded.dispose();
  });

  it('HSTU save then load gives identical scores', async () => {
    const model = createHstu({ itemCount: ITEMS, maxLength: 12, hiddenSize: 8, heads: 2, queryKeySize: 4, valueSize: 6 }, 3);
    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    const loaded = await loadCheckpoint(dir);
    const history = new Int32Array([3, 4, 5]);
    const timestamps = new Float64Array([0, 60, 7200]);
    expect(loaded.kind).toBe('hstu');
    expect(loaded.config).toEqual(model.config);
    expect(loaded.scoreAll(loaded.forwardLast(history, { timestamps }))).toEqual(model.scoreAll(model.forwardLast(history, { timestamps })));
    model.dispose();
    loaded.dispose();
  });

  it('rewriting a checkpoint leaves one binary file', async () => {
    const model = newModel(9);
    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    await trainModel(model, successorData(), options({ epochs: 1 }));
    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(['model.json']));
    expect(readdirSync(dir).filter((name) => name.endsWith('.bin'))).toHaveLength(1);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toHaveLength(0);
    model.dispose();
  });

  it('corrupt weights are rejected naming the file', async () => {
    const model = newModel(9);
    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    const binary = readdirSync(dir).find((name) => name.endsWith('.bin')) as string;
    const bytes = readFileSync(path.join(dir, binary));
    bytes[100] ^= 0xff;
    writeFileSync(path.join(dir, binary), bytes);

    await expect(loadCheckpoint(dir)).rejects.toThrow(`Checkpoint ${path.join(dir, binary)} is corrupt: its SHA-256 is`);
    model.dispose();
  });

  it('truncated weights and broken JSON are rejected', async () => {
    const model = newModel(9);
    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    const binary = path.join(dir, readdirSync(dir).find((name) => name.endsWith('.bin')) as string);
    writeFileSync(binary, readFileSync(binary).subarray(0, 64));
    await expect(loadCheckpoint(dir)).rejects.toThrow('has 64 bytes, the manifest says');

    writeFileSync(path.join(dir, 'model.json'), '{"format": ');
    await expect(loadCheckpoint(dir)).rejects.toThrow('is not valid JSON');
    model.dispose();
  });

  it('other data and missing folders are rejected', async () => {
    const model = newModel(9);
    const fingerprint = fingerprintTrainingData(successorData());
    await saveCheckpoint(model, dir, { dataFingerprint: fingerprint });
    await expect(loadCheckpoint(dir, { dataFingerprint: 'other' })).rejects.toThrow(checkpointMismatch(path.join(dir, 'model.json'), 'meta.dataFingerprint', 'other', fingerprint));
    await expect(loadCheckpoint(path.join(dir, 'none'))).rejects.toThrow(missingCheckpoint(path.join(dir, 'none', 'model.json')));
    model.dispose();
  });
});

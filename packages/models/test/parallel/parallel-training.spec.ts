import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { backendUnavailable, checkpointMismatch, invalidArgument, trainingWorkerFailed, workersExceedCores } from '../../src/messages';
import { createHstu, createSasRec, initBackend, trainModel, type TrainOptions, type TrainingData } from '../../src/index';
import type { TrainableModel } from '../../src/model/types';
import { parallelTrainStep } from '../../src/parallel/parallel-step';
import { ReplicaPool } from '../../src/parallel/pool';
import { interleaveUsers, planShards, shardLossAndGradients } from '../../src/parallel/shards';
import { deriveSeed, SeededRandom } from '../../src/random';
import { buildCtrBatch, ctrTrainStep } from '../../src/ctr/training';
import { buildTrainingBatch } from '../../src/training/data';
import { drawPerPositionNegatives, drawPositionNegatives } from '../../src/training/losses';
import { AdamW } from '../../src/training/optimizer';
import { lossAndGradients, trainStep, type StepSettings } from '../../src/training/step';
import { maxAbsDifference } from '../tolerance';

const ITEMS = 20;

/** 12 users of 4 to 10 items whose sequences walk the catalogue: item i is followed by i % 20 + 1. */
function successorData(users = 12): TrainingData {
  const lengths = Array.from({ length: users }, (_, u) => 4 + (u % 7));
  const offsets = new Int32Array(users + 1);
  lengths.forEach((length, u) => (offsets[u + 1] = offsets[u] + length));
  const items = new Int32Array(offsets[users]);
  for (let u = 0; u < users; u++) {
    for (let t = 0; t < lengths[u]; t++) {
      items[offsets[u] + t] = ((u * 7 + t) % ITEMS) + 1;
    }
  }
  return { itemCount: ITEMS, offsets, items, trainEnd: Int32Array.from(lengths) };
}

function newModel(dropout = 0): TrainableModel {
  return createSasRec({ itemCount: ITEMS, maxLength: 8, hiddenSize: 8, layers: 1, heads: 1, dropout }, 5) as unknown as TrainableModel;
}

function weightsOf(model: TrainableModel): Float32Array[] {
  return model.variables.map((entry) => entry.variable.dataSync() as Float32Array);
}

/** Largest |a − b| / max(|b|, 1e-3) over all elements of two lists of arrays. */
function maxRelativeDifference(actual: readonly Float32Array[], expected: readonly Float32Array[]): number {
  let max = 0;
  expected.forEach((values, index) => {
    const scale = Math.max(1e-3, ...Array.from(values, Math.abs));
    max = Math.max(max, maxAbsDifference(actual[index], values) / scale);
  });
  return max;
}

const SETTINGS: Record<'sampled-softmax' | 'sampled-softmax-shared' | 'bce' | 'full-ce', StepSettings> = {
  'sampled-softmax': { loss: 'sampled-softmax', negatives: 6, temperature: 0.1 },
  'sampled-softmax-shared': { loss: 'sampled-softmax', negatives: 6, temperature: 0.1, negativeSampling: 'shared' },
  bce: { loss: 'bce', negatives: 1, temperature: 0.1 },
  'full-ce': { loss: 'full-ce', negatives: 1, temperature: 0.1 },
};

const USERS = Int32Array.from([9, 2, 5, 11, 0, 7, 3]);
const STEP_SEED = deriveSeed(3, 1, 1);

describe('interleaveUsers', () => {
  it('deals rows round-robin', () => {
    expect(interleaveUsers(Int32Array.from([10, 11, 12, 13, 14]), 2).map((group) => Array.from(group))).toEqual([
      [10, 12, 14],
      [11, 13],
    ]);
  });

  it('drops empty shards of a short batch', () => {
    expect(interleaveUsers(Int32Array.from([4, 8]), 3).map((group) => Array.from(group))).toEqual([[4], [8]]);
  });
});

describe('planShards', () => {
  const data = successorData();

  it('weights sum to one by positions', () => {
    const shards = planShards(data, USERS, 8, 2, SETTINGS['sampled-softmax'], STEP_SEED);
    // Input lengths are min(trainEnd − 1, 8). Shard 0 has users 9, 5, 0, 3 with 5, 8, 3, 6 inputs.
    // Shard 1 has users 2, 11, 7 with 5, 7, 3 inputs.
    expect(shards.map((shard) => shard.batch.rows.length)).toEqual([5 + 8 + 3 + 6, 5 + 7 + 3]);
    expect(shards[0].weight).toBeCloseTo(22 / 37, 12);
    expect(shards[1].weight).toBeCloseTo(15 / 37, 12);
  });

  it('shared negatives reach every shard', () => {
    const shards = planShards(data, USERS, 8, 2, SETTINGS['sampled-softmax-shared'], STEP_SEED);
    const random = new SeededRandom(STEP_SEED);
    const expected = Array.from({ length: 6 }, () => 1 + random.nextInt(ITEMS));
    expect(Array.from(shards[0].negativeIds ?? [])).toEqual(expected);
    expect(Array.from(shards[1].negativeIds ?? [])).toEqual(expected);
  });

  it('splits per-position sampled-softmax negatives by user', () => {
    const shards = planShards(data, USERS, 8, 2, SETTINGS['sampled-softmax'], STEP_SEED);
    const negatives = drawPerPositionNegatives(37, 6, ITEMS, new SeededRandom(STEP_SEED));
    // Batch rows: users 9, 2, 5, 11, 0, 7, 3 with 5, 5, 8, 7, 3, 3, 6 positions (37 in all), 6 negatives each.
    const lengths = [5, 5, 8, 7, 3, 3, 6];
    const starts = [0, 5, 10, 18, 25, 28, 31];
    const slices = lengths.map((length, row) => Array.from(negatives.subarray(6 * starts[row], 6 * (starts[row] + length))));
    expect(Array.from(shards[0].negativeIds ?? [])).toEqual([...slices[0], ...slices[2], ...slices[4], ...slices[6]]);
    expect(Array.from(shards[1].negativeIds ?? [])).toEqual([...slices[1], ...slices[3], ...slices[5]]);
  });

  it('splits the per-position negatives of bce by user', () => {
    const shards = planShards(data, USERS, 8, 2, SETTINGS.bce, STEP_SEED);
    const whole = buildTrainingBatch(data, USERS, 8);
    const targets = Int32Array.from(whole.rows, (row) => whole.targets[row]);
    const negatives = drawPositionNegatives(targets, ITEMS, new SeededRandom(STEP_SEED));
    // Batch rows: users 9, 2, 5, 11, 0, 7, 3 with 5, 5, 8, 7, 3, 3, 6 positions, starting at their running sums.
    const lengths = [5, 5, 8, 7, 3, 3, 6];
    const starts = [0, 5, 10, 18, 25, 28, 31];
    const slices = lengths.map((length, row) => Array.from(negatives.subarray(starts[row], starts[row] + length)));
    expect(Array.from(shards[0].negativeIds ?? [])).toEqual([...slices[0], ...slices[2], ...slices[4], ...slices[6]]);
    expect(Array.from(shards[1].negativeIds ?? [])).toEqual([...slices[1], ...slices[3], ...slices[5]]);
    for (const shard of shards) {
      const shardTargets = Array.from(shard.batch.rows, (row) => shard.batch.targets[row]);
      shardTargets.forEach((target, i) => expect(shard.negativeIds?.[i]).not.toBe(target));
    }
  });

  it('gives each shard its own dropout seed', () => {
    const shards = planShards(data, USERS, 8, 2, SETTINGS['full-ce'], STEP_SEED);
    expect(shards.map((shard) => shard.dropoutSeed)).toEqual([deriveSeed(STEP_SEED, 1), deriveSeed(STEP_SEED, 2)]);
    expect(shards.map((shard) => shard.negativeIds)).toEqual([null, null]);
  });
});

describe('ReplicaPool', () => {
  const data = successorData();
  let model: TrainableModel;
  let pool: ReplicaPool;

  beforeAll(async () => {
    await initBackend('wasm');
    model = newModel();
    pool = await ReplicaPool.start(model, { threads: 1, backend: 'wasm' });
  }, 30_000);

  afterAll(async () => {
    await pool.close();
    model.dispose();
  });

  it.each(['sampled-softmax', 'sampled-softmax-shared', 'bce', 'full-ce'] as const)('%s: two shards give the single-process loss and gradients', async (loss) => {
    const settings = SETTINGS[loss];
    const single = lossAndGradients(model, buildTrainingBatch(data, USERS, 8), settings, new SeededRandom(STEP_SEED));
    const expectedLoss = single.loss.dataSync()[0];
    const expectedGradients = single.gradients.map((gradient) => gradient.dataSync() as Float32Array);
    tf.dispose([single.loss, ...single.gradients]);

    // Shard 0 here, shard 1 in the worker; the weighted gradients add up.
    const shards = planShards(data, USERS, 8, 2, settings, STEP_SEED);
    const local = shardLossAndGradients(model, shards[0], settings);
    const [remoteLoss] = await pool.computeShards([shards[1]], settings);
    const remote = pool.gradientsOf(0);
    const summed = local.gradients.map((gradient, index) => tf.add(gradient, remote[index]).dataSync() as Float32Array);
    tf.dispose([...local.gradients, ...remote]);

    expect(Math.abs(local.loss + remoteLoss - expectedLoss) / Math.abs(expectedLoss)).toBeLessThan(1e-5);
    expect(maxRelativeDifference(summed, expectedGradients)).toBeLessThan(1e-5);
  });

  it('a failing shard rejects with the worker message', async () => {
    const settings = SETTINGS['sampled-softmax'];
    const shards = planShards(data, USERS, 8, 2, settings, STEP_SEED);
    const broken = { ...shards[1], negativeIds: Int32Array.from([1, 2, 3]) };
    // Shard 1 has users 2, 11 and 7 with 5 + 7 + 3 = 15 positions, 6 negatives each.
    const reason = invalidArgument('computeLoss', 'inputs.negativeIds', "90 ids for the 'sampled-softmax' loss", '3');

    await expect(pool.computeShards([broken], settings)).rejects.toThrow(trainingWorkerFailed(1, reason));
    // The pool stays failed: later steps reject with the same message.
    await expect(pool.computeShards([planShards(data, USERS, 8, 2, settings, STEP_SEED)[1]], settings)).rejects.toThrow(trainingWorkerFailed(1, reason));
  });
});

describe('ReplicaPool start-up', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('a worker that cannot start its backend fails the start', async () => {
    const model = newModel();
    const started = ReplicaPool.start(model, { threads: 1, backend: 'tensorflow' });
    const reason = backendUnavailable('tensorflow', 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed');
    await expect(started).rejects.toThrow(trainingWorkerFailed(1, reason));
    model.dispose();
  }, 30_000);
});

describe('parallelTrainStep', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  /** A model of the case (two equal copies are created), its data and the single-process step to compare with. */
  interface StepCase {
    create: () => TrainableModel;
    data: TrainingData;
    settings: StepSettings;
    singleStep: (model: TrainableModel, optimizer: AdamW, random: SeededRandom) => number;
  }

  const withLabels = (): TrainingData => {
    const data = successorData();
    return { ...data, labels: Uint8Array.from(data.items, (item) => item % 2) };
  };
  const withTimestamps = (): TrainingData => {
    const data = successorData();
    return { ...data, timestamps: Float64Array.from(data.items, (_, i) => i * 3600) };
  };
  const cases: Record<string, () => StepCase> = {
    'SASRec, sampled softmax': () => {
      const data = successorData();
      const settings = SETTINGS['sampled-softmax'];
      return { create: () => newModel(), data, settings, singleStep: (model, optimizer, random) => trainStep(model, optimizer, buildTrainingBatch(data, USERS, 8), settings, random) };
    },
    'SASRec click head, ctr-bce': () => {
      const data = withLabels();
      const create = (): TrainableModel => createSasRec({ itemCount: ITEMS, maxLength: 8, hiddenSize: 8, layers: 1, heads: 1, dropout: 0, ctrHead: true }, 5) as unknown as TrainableModel;
      return { create, data, settings: { loss: 'ctr-bce', negatives: 1, temperature: 0.1 }, singleStep: (model, optimizer, random) => ctrTrainStep(model, optimizer, buildCtrBatch(data, USERS, 8), random) };
    },
    'HSTU with timestamps, bce': () => {
      const data = withTimestamps();
      const settings = SETTINGS.bce;
      const create = (): TrainableModel => createHstu({ itemCount: ITEMS, maxLength: 8, hiddenSize: 8, layers: 1, queryKeySize: 8, valueSize: 8, dropout: 0 }, 5) as unknown as TrainableModel;
      return { create, data, settings, singleStep: (model, optimizer, random) => trainStep(model, optimizer, buildTrainingBatch(data, USERS, 8), settings, random) };
    },
    "HSTU with queryTime 'next', sampled softmax": () => {
      // The workers must receive each row's request time, or their encoder rejects the batch.
      const data = withTimestamps();
      const settings = SETTINGS['sampled-softmax'];
      const create = (): TrainableModel => createHstu({ itemCount: ITEMS, maxLength: 8, hiddenSize: 8, layers: 1, queryKeySize: 8, valueSize: 8, dropout: 0, queryTime: 'next' }, 5) as unknown as TrainableModel;
      return { create, data, settings, singleStep: (model, optimizer, random) => trainStep(model, optimizer, buildTrainingBatch(data, USERS, 8), settings, random) };
    },
  };

  it.each(Object.keys(cases))('%s: updates like the single-process step', async (name) => {
    const { create, data, settings, singleStep } = cases[name]();
    const single = create();
    const parallel = create();
    const singleOptimizer = new AdamW(single.variables, { learningRate: 0.01, weightDecay: 0.1 });
    const parallelOptimizer = new AdamW(parallel.variables, { learningRate: 0.01, weightDecay: 0.1 });
    const pool = await ReplicaPool.start(parallel, { threads: 1, backend: 'wasm' });
    try {
      // Two steps, so that the second one runs on weights the worker loaded from the shared buffer.
      const tensorsBefore = tf.memory().numTensors;
      for (const step of [1, 2]) {
        const seed = deriveSeed(3, 1, step);
        const expectedLoss = singleStep(single, singleOptimizer, new SeededRandom(seed));
        const loss = await parallelTrainStep(parallel, parallelOptimizer, pool, planShards(data, USERS, 8, 2, settings, seed), settings);

        expect(tf.memory().numTensors).toBe(tensorsBefore);

        expect(Math.abs(loss - expectedLoss) / Math.abs(expectedLoss)).toBeLessThan(1e-5);
        // A key bias adds the same logit to every key of a query, so softmax cancels it and its
        // exact gradient is 0. The computed one is rounding noise (about 1e-9) whose sign
        // differs between the two routes, and Adam scales any such gradient to a step of about
        // the learning rate. Those weights are left out, and the outputs below show they do not matter.
        const compared = (model: TrainableModel): Float32Array[] => weightsOf(model).filter((_, index) => !model.variables[index].name.endsWith('key/bias'));
        expect(maxRelativeDifference(compared(parallel), compared(single))).toBeLessThan(1e-5);
        const history = Int32Array.from([3, 4, 5, 6]);
        const timestamps = { timestamps: Float64Array.from([0, 3600, 7200, 10800]), requestTime: 14_400 };
        expect(maxRelativeDifference([parallel.forwardLast(history, timestamps)], [single.forwardLast(history, timestamps)])).toBeLessThan(1e-5);
      }
    } finally {
      await pool.close();
      singleOptimizer.dispose();
      parallelOptimizer.dispose();
      single.dispose();
      parallel.dispose();
    }
  }, 30_000);
});

describe('trainModel with workers', () => {
  let dir: string;

  beforeAll(async () => {
    await initBackend('wasm');
  });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'malloc-parallel-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function options(overrides: Partial<TrainOptions> = {}): TrainOptions {
    return { epochs: 2, batchSize: 6, learningRate: 0.02, loss: 'sampled-softmax', negatives: 8, temperature: 0.1, weightDecay: 0, seed: 3, workers: 2, ...overrides };
  }

  it('two epochs lower the loss and repeat for a seed', async () => {
    const data = successorData(24);
    const first = newModel(0.1);
    const second = newModel(0.1);
    const a = await trainModel(first, data, options({ learningRate: 0.05 }));
    const b = await trainModel(second, data, options({ learningRate: 0.05 }));

    expect(a.epochs[1].loss).toBeLessThan(a.epochs[0].loss);
    expect(b.epochs.map((epoch) => epoch.loss)).toEqual(a.epochs.map((epoch) => epoch.loss));
    expect(maxRelativeDifference(weightsOf(second), weightsOf(first))).toBe(0);
    first.dispose();
    second.dispose();
  }, 60_000);

  it('resume continues like an uninterrupted run', async () => {
    const data = successorData(12);
    const whole = newModel(0.1);
    const resumed = newModel(0.1);
    await trainModel(whole, data, options({ epochs: 2 }));
    await trainModel(resumed, data, options({ epochs: 1, checkpointDir: dir }));
    await trainModel(resumed, data, options({ epochs: 2, checkpointDir: dir }));

    expect(maxRelativeDifference(weightsOf(resumed), weightsOf(whole))).toBe(0);
    whole.dispose();
    resumed.dispose();
  }, 60_000);

  it('resume with another worker count is rejected', async () => {
    const model = newModel();
    await trainModel(model, successorData(), options({ epochs: 1, checkpointDir: dir }));
    const manifest = path.join(dir, 'training.json');

    // Written with workers: 2; a 1-worker run has no workers key, so the stored 2 differs from undefined.
    await expect(trainModel(model, successorData(), options({ epochs: 2, checkpointDir: dir, workers: 1 }))).rejects.toThrow(
      checkpointMismatch(manifest, 'options.workers', 'undefined', '2'),
    );
    await expect(trainModel(model, successorData(), options({ epochs: 2, checkpointDir: dir, workers: 3 }))).rejects.toThrow(
      checkpointMismatch(manifest, 'options.workers', '3', '2'),
    );
    model.dispose();
  }, 30_000);

  it('an error on the main thread stops the workers', async () => {
    const model = newModel();
    const terminate = jest.spyOn(Worker.prototype, 'terminate');
    const stop = new Error('stop requested');
    const run = trainModel(model, successorData(), {
      ...options(),
      onProgress: () => {
        throw stop;
      },
    });

    await expect(run).rejects.toBe(stop);
    // The one worker thread of workers: 2 was terminated and has exited.
    expect(terminate).toHaveBeenCalledTimes(1);
    await expect(terminate.mock.results[0].value).resolves.toEqual(expect.any(Number));
    terminate.mockRestore();
    model.dispose();
  }, 30_000);

  it('a worker failure fails the training', async () => {
    const model = newModel();
    // The configuration now names 2 layers, so the worker's replica has variables that the model lacks.
    Object.assign(model, { config: { ...model.config, layers: 2 } });
    const terminate = jest.spyOn(Worker.prototype, 'terminate');

    await expect(trainModel(model, successorData(), options())).rejects.toThrow(/^trainModel: training worker 1 failed: training worker 1: invalid model variables: expected /);
    expect(terminate).toHaveBeenCalledTimes(1);
    terminate.mockRestore();
    model.dispose();
  }, 30_000);

  it('warns when workers exceed the cores', async () => {
    const model = newModel();
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message), info: () => undefined, debug: () => undefined };
    const workers = availableParallelism() + 1;
    await trainModel(model, successorData(), options({ epochs: 1, workers, logger }));

    expect(warnings).toEqual([workersExceedCores(workers, availableParallelism())]);
    model.dispose();
  }, 30_000);

  it('rejects an invalid worker count', async () => {
    const model = newModel();
    await expect(trainModel(model, successorData(), options({ workers: 0 }))).rejects.toThrow(invalidArgument('trainModel', 'options.workers', 'an integer ≥ 1', '0'));
    await expect(trainModel(model, successorData(), options({ workers: 1.5 }))).rejects.toThrow(invalidArgument('trainModel', 'options.workers', 'an integer ≥ 1', '1.5'));
    model.dispose();
  });
});

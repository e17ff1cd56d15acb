import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cacheBytes } from '@malloc/compression';
import { createGru4Rec, createRwkv, initBackend, loadCheckpoint, saveCheckpoint, trainModel, type SequentialModel, type TrainOptions, type TrainingData } from '../../src/index';
import { checkpointMismatch } from '../../src/messages';
import { expectClose } from '../tolerance';

const ITEMS = 20;

/** 32 users whose sequences walk the catalogue: item i is always followed by i % 20 + 1. */
function successorData(): TrainingData {
  const users = 32;
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

const factories: [string, (seed: number) => SequentialModel][] = [
  ['gru4rec', (seed) => createGru4Rec({ itemCount: ITEMS, maxLength: 12, hiddenSize: 16, layers: 1, dropout: 0.1 }, seed)],
  ['rwkv', (seed) => createRwkv({ itemCount: ITEMS, maxLength: 12, hiddenSize: 16, layers: 2, dropout: 0.1 }, seed)],
];

describe.each(factories)('%s training', (name, create) => {
  let dir: string;

  beforeAll(async () => {
    await initBackend('wasm');
  });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'malloc-recurrent-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('sampled softmax learns the successor task', async () => {
    const model = create(1);
    const result = await trainModel(model, successorData(), options({ epochs: 10 }));
    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss * 0.6);
    // After [5, 6, 7] the next item is 8.
    const scores = model.scoreAll(model.forwardLast(new Int32Array([5, 6, 7])));
    const best = scores.indexOf(Math.max(...scores));
    expect(best).toBe(8);
    model.dispose();
  });

  it.each(['bce', 'full-ce'] as const)('%s loss falls', async (loss) => {
    const model = create(2);
    const result = await trainModel(model, successorData(), options({ loss, epochs: 4 }));
    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss);
    model.dispose();
  });

  it('checkpoint round trip keeps scores and state', async () => {
    const model = create(4);
    await trainModel(model, successorData(), options({ epochs: 1 }));
    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    const loaded = await loadCheckpoint(dir, { dataFingerprint: 'abc' });
    expect(loaded.kind).toBe(name);
    expect(loaded.config).toEqual(model.config);
    const history = new Int32Array([3, 4, 5, 6]);
    const before = model.prefill(history).cache;
    const after = loaded.prefill(history).cache;
    expect(cacheBytes(after)).toBe(cacheBytes(before));
    expectClose(loaded.append(after, Int32Array.of(7)).hidden, model.append(before, Int32Array.of(7)).hidden, 0);
    model.dispose();
    loaded.dispose();
  });

  it('scores impressions from the state', async () => {
    const model = name === 'gru4rec' ? createGru4Rec({ itemCount: ITEMS, hiddenSize: 8, ctrHead: true }, 5) : createRwkv({ itemCount: ITEMS, hiddenSize: 8, ctrHead: true }, 5);
    // A zero click head gives logit 0, so train one step of the CTR loss first.
    const labels = new Uint8Array(successorData().items.length).map((_, i) => i % 2);
    await trainModel(model, { ...successorData(), labels }, options({ loss: 'ctr-bce', epochs: 1 }));
    const { cache } = model.prefill(new Int32Array([3, 4, 5]));
    const logits = model.scoreImpressions(cache, new Int32Array([6, 9]));
    // Each candidate is appended to the state on its own.
    expectClose(logits.subarray(0, 1), model.clickLogits(model.append(cache, Int32Array.of(6)).hidden), 1e-6);
    expectClose(logits.subarray(1, 2), model.clickLogits(model.append(cache, Int32Array.of(9)).hidden), 1e-6);
    expect(logits[0]).not.toBe(logits[1]);
    model.dispose();
  });

  it('checkpoint for other data is rejected', async () => {
    const model = create(4);
    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    await expect(loadCheckpoint(dir, { dataFingerprint: 'xyz' })).rejects.toThrow(checkpointMismatch(path.join(dir, 'model.json'), 'meta.dataFingerprint', 'xyz', 'abc'));
    model.dispose();
  });
});

import { cacheBytes, createStrategy, silentLogger } from '@malloc/compression';
import { createSasRec, initBackend, loadCheckpoint, saveCheckpoint, sequenceCacheBytes, sequenceKeptTokens, trainModel, type SequentialModel, type TrainingData } from '../../src/index';
import { invalidArgument } from '../../src/messages';
import { BLOCKED } from '../../src/ops/layers';
import { expandBeaconBatch } from '../../src/sequence/beacon';
import type { TrainableModel } from '../../src/model/types';
import { expectClose, lastRow } from '../tolerance';
import { itMatchesBatchedPaths, rowPositions, sequence, smallSasRec, useScratchFolder } from './fixtures';

/** Chunks of 4 items, each condensed into 2 beacons. */
const BEACON = { chunkSize: 4, beaconsPerChunk: 2 };

/** SASRec with d 16, 2 heads (dHead 8) and 2 layers. */
function sasRec(fields: object = {}, seed = 11): SequentialModel {
  return smallSasRec({ beacon: BEACON, ...fields }, seed);
}

describe.each(['cpu', 'wasm'] as const)('beacon SASRec on %s', (backend) => {
  let model: SequentialModel;

  beforeAll(async () => {
    await initBackend(backend);
    model = sasRec();
  });

  afterAll(() => {
    model.dispose();
  });

  // Prefill lengths and append counts that stop inside a chunk, on a boundary and across several boundaries.
  it.each([
    [0, 1],
    [3, 1],
    [3, 2],
    [4, 4],
    [5, 11],
    [8, 1],
    [10, 6],
    [13, 7],
  ])('prefill %i plus append %i equals the training pass', (prefilled, appended) => {
    const items = sequence(prefilled + appended);
    const { cache } = model.prefill(items.subarray(0, prefilled));
    const result = model.append(cache, items.subarray(prefilled));

    // Every appended row equals the training-mode pass over the items up to it.
    for (let i = 0; i < appended; i++) {
      const expected = model.forwardLast(items.subarray(0, prefilled + i + 1));
      expectClose(result.hidden.subarray(i * 16, (i + 1) * 16), expected, 1e-5);
    }
    expect(result.cache.seenTokens).toBe(prefilled + appended);
  });

  it('appends one item at a time across chunks', () => {
    const items = sequence(14, 3);
    let cache = model.prefill(items.subarray(0, 1)).cache;
    for (let i = 1; i < items.length; i++) {
      const result = model.append(cache, items.subarray(i, i + 1));
      expectClose(result.hidden, model.forwardLast(items.subarray(0, i + 1)), 1e-5);
      cache = result.cache;
    }
  });

  it('cache keeps beacons and the raw tail', () => {
    // 10 items in chunks of 4: beacons of chunks 0 and 1 sit at positions 2, 3 and 6, 7; items 8 and 9 stay raw.
    const { cache } = model.prefill(sequence(10));
    for (const positions of rowPositions(cache)) {
      expect(positions).toEqual([2, 3, 6, 7, 8, 9]);
    }
    expect(cache.seenTokens).toBe(10);
  });

  it.each([
    // 3 items, no complete chunk: 2 layers × 2 heads × 3 rows × (8 + 8) floats × 4 bytes.
    [3, 2 * 2 * 3 * (8 + 8) * 4, 768],
    // 6 items: 2 beacons + 2 raw rows at positions 2..5, contiguous, so no position array.
    [6, 2 * 2 * 4 * (8 + 8) * 4, 1024],
    // 10 items: 2 × 2 beacons + 2 raw rows at positions 2, 3, 6, 7, 8, 9; each head also
    // stores the 6 positions as int32: 2 × 2 × (6 × 16 × 4 + 6 × 4).
    [10, 2 * 2 * (6 * 16 * 4 + 6 * 4), 1632],
    // 12 items: 3 × 2 beacons, no raw tail.
    [12, 2 * 2 * (6 * 16 * 4 + 6 * 4), 1632],
    // 13 items: 6 beacons + 1 raw row.
    [13, 2 * 2 * (7 * 16 * 4 + 7 * 4), 1904],
  ])('bytes after %i items match the formula', (seen, formula, bytes) => {
    expect(formula).toBe(bytes);
    const { cache } = model.prefill(sequence(seen));
    expect(cacheBytes(cache)).toBe(bytes);
    expect(sequenceCacheBytes(model.config, seen)).toBe(bytes);

    // The same state reached by appending one item at a time.
    let grown = model.prefill(sequence(1)).cache;
    for (let i = 1; i < seen; i++) {
      grown = model.append(grown, sequence(1, i)).cache;
    }
    expect(cacheBytes(grown)).toBe(bytes);
  });

  it('kept rows follow the formula', () => {
    // kept = beaconsPerChunk × ⌊n / chunkSize⌋ + n mod chunkSize.
    expect(sequenceKeptTokens(model.config, 10)).toBe(2 * 2 + 2);
    expect(sequenceKeptTokens(model.config, 12)).toBe(2 * 3 + 0);
    const wide = sasRec({ maxLength: 200, beacon: { chunkSize: 16, beaconsPerChunk: 2 } });
    expect(sequenceKeptTokens(wide.config, 200)).toBe(2 * 12 + 8);
    wide.dispose();

    // A model without a sequence-level variant keeps every token: 2 layers × 2 heads × 5 × 16 × 4.
    const plain = sasRec({ beacon: undefined });
    expect(sequenceKeptTokens(plain.config, 5)).toBe(5);
    expect(sequenceCacheBytes(plain.config, 5)).toBe(2 * 2 * 5 * 16 * 4);
    plain.dispose();
  });

  itMatchesBatchedPaths(() => model, 16);

  it('GQA with beacons equals the training pass', () => {
    const grouped = sasRec({ kvHeads: 1 });
    const items = sequence(11, 2);
    const { cache } = grouped.prefill(items.subarray(0, 6));
    const result = grouped.append(cache, items.subarray(6));
    expectClose(lastRow(result.hidden, 16), grouped.forwardLast(items), 1e-5);
    // 11 items keep 2 × 2 beacons + 3 raw = 7 rows; one KV head of dHead 8:
    // 2 layers × 1 head × (7 rows × (8 + 8) × 4 + 7 positions × 4) bytes.
    expect(cacheBytes(result.cache)).toBe(2 * 1 * (7 * 16 * 4 + 7 * 4));
    expect(sequenceCacheBytes(grouped.config, 11)).toBe(cacheBytes(result.cache));
    grouped.dispose();
  });

  it('MLA with beacons equals the training pass', () => {
    const latent = sasRec({ kvLatentSize: 6 });
    const items = sequence(9, 4);
    const { cache } = latent.prefill(items.subarray(0, 3));
    const result = latent.append(cache, items.subarray(3));
    expectClose(lastRow(result.hidden, 16), latent.forwardLast(items), 1e-5);
    // 9 items keep 2 × 2 beacons + 1 raw = 5 rows of a 6-wide latent, with 5 positions:
    // 2 layers × (5 × 6 × 4 + 5 × 4) bytes.
    expect(cacheBytes(result.cache)).toBe(2 * (5 * 6 * 4 + 5 * 4));
    expect(sequenceCacheBytes(latent.config, 9)).toBe(cacheBytes(result.cache));
    latent.dispose();
  });

  it('quantised cache condenses too', () => {
    // int8 keeps all 6 rows of 10 items; completing chunk 2 replaces positions 8..11 with rows at 10 and 11.
    const { cache } = model.prefill(sequence(10));
    const quantised = createStrategy('int8', {}).compress(cache, { stats: null, logger: silentLogger });
    const result = model.append(quantised, sequence(2, 10));
    for (const positions of rowPositions(result.cache)) {
      expect(positions).toEqual([2, 3, 6, 7, 10, 11]);
    }
    const exact = model.append(cache, sequence(2, 10));
    expectClose(result.hidden, exact.hidden, 0.05);
  });

  it.each(['snapkv', 'h2o', 'tova'])('%s compresses with prefill statistics', (strategy) => {
    // 10 items keep 6 rows; ratio 0.5 keeps 3 of them in every head.
    const { cache, stats } = model.prefill(sequence(10), { recordStats: true });
    expect(stats?.accumulated[0]).toHaveLength(2 * 6);
    const compressed = createStrategy(strategy, { compressionRatio: 0.5 }).compress(cache, { stats, logger: silentLogger });
    expect(compressed.layers.every((layer) => layer.heads.every((head) => head.keys.rows === 3))).toBe(true);
  });

  it('compressed cache keeps condensing', () => {
    // Window keeps the newest 3 of the 6 rows of 10 items (positions 7, 8, 9). Completing chunk 2
    // drops the raw rows 8..11 and appends its beacons at positions 10 and 11.
    const { cache } = model.prefill(sequence(10));
    const compressed = createStrategy('window', { compressionRatio: 0.5 }).compress(cache, { stats: null, logger: silentLogger });
    expect(rowPositions(compressed)[0]).toEqual([7, 8, 9]);
    const result = model.append(compressed, sequence(2, 10));
    for (const positions of rowPositions(result.cache)) {
      expect(positions).toEqual([7, 10, 11]);
    }
    expect(result.hidden.every(Number.isFinite)).toBe(true);
  });
});

describe('beacon configuration', () => {
  const scratch = useScratchFolder('malloc-beacon-');

  it('other weights equal the default model', () => {
    // The beacon embedding is drawn last, so every shared weight matches a model without beacons.
    const plain = sasRec({ beacon: undefined }) as TrainableModel;
    const beacon = sasRec() as TrainableModel;
    expect(Object.keys(plain.config)).not.toContain('beacon');
    expect(beacon.variables.map((entry) => entry.name)).toEqual([...plain.variables.map((entry) => entry.name), 'beacon_embedding']);
    plain.variables.forEach((entry, index) => {
      expect(beacon.variables[index].variable.dataSync()).toEqual(entry.variable.dataSync());
    });
    expect(beacon.numWeights() - plain.numWeights()).toBe(2 * 16);
    plain.dispose();
    beacon.dispose();
  });

  it('chunks longer than the input change nothing', () => {
    // With no complete chunk the mask is plain causal attention, so the output equals the default model's.
    const plain = sasRec({ beacon: undefined });
    const beacon = sasRec({ beacon: { chunkSize: 8, beaconsPerChunk: 2 } });
    expectClose(beacon.forwardLast(sequence(7)), plain.forwardLast(sequence(7)), 1e-6);
    plain.dispose();
    beacon.dispose();
  });

  it('invalid beacon settings are rejected', () => {
    expect(() => sasRec({ beacon: { chunkSize: 0, beaconsPerChunk: 1 } })).toThrow(new RangeError(invalidArgument('createSasRec', 'config.beacon.chunkSize', 'an integer in [1, maxLength 24]', '0')));
    expect(() => sasRec({ beacon: { chunkSize: 25, beaconsPerChunk: 1 } })).toThrow(/config\.beacon\.chunkSize/);
    expect(() => sasRec({ beacon: { chunkSize: 4, beaconsPerChunk: 5 } })).toThrow(new RangeError(invalidArgument('createSasRec', 'config.beacon.beaconsPerChunk', 'an integer in [1, chunkSize 4]', '5')));
    expect(() => sasRec({ beacon: 'x' })).toThrow(TypeError);
    expect(() => sequenceKeptTokens(sasRec().config, -1)).toThrow(RangeError);
    const model = sasRec();
    expect(() => model.prefill(sequence(5), { statsWindow: 0 })).toThrow(new RangeError(invalidArgument('SasRec.prefill', 'options.statsWindow', 'an integer ≥ 1', '0')));
    model.dispose();
  });

  it('expanded mask follows the beacon rules', () => {
    // Chunk size 2, 1 beacon: tokens are i0 i1 b0 i2 (b0 at position 1, after chunk 0).
    const expanded = expandBeaconBatch({ batch: 1, len: 3, items: new Int32Array([5, 6, 7]), positions: new Int32Array([0, 1, 2]), timestamps: null }, { chunkSize: 2, beaconsPerChunk: 1 });
    expect(expanded.len).toBe(4);
    expect(Array.from(expanded.beaconIndex)).toEqual([-1, -1, 0, -1]);
    expect(Array.from(expanded.positions)).toEqual([0, 1, 1, 2]);
    expect(Array.from(expanded.sourceRows)).toEqual([0, 1, 3]);
    expect(Array.from(expanded.bias).every((value) => value === 0 || value === BLOCKED)).toBe(true);
    const allowed = Array.from(expanded.bias, (value) => Number(value === 0));
    // Rows are queries i0, i1, b0, i2. Query i2 attends to the beacon and itself, never to the raw chunk 0.
    expect(allowed).toEqual([1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1]);
  });

  it('checkpoint round trip keeps the beacons', async () => {
    const model = sasRec();
    await saveCheckpoint(model, scratch(), { dataFingerprint: 'abc' });
    const loaded = await loadCheckpoint(scratch(), { dataFingerprint: 'abc' });
    expect(loaded.config).toEqual(model.config);
    expect(loaded.forwardLast(sequence(11))).toEqual(model.forwardLast(sequence(11)));
    loaded.dispose();
    model.dispose();
  });

  it('training lowers the loss and moves the beacons', async () => {
    // 32 users whose sequences walk the catalogue: item i is always followed by i % 20 + 1.
    const users = 32;
    const length = 10;
    const items = Int32Array.from({ length: users * length }, (_, index) => ((Math.floor(index / length) * 7 + (index % length)) % 20) + 1);
    const data: TrainingData = { itemCount: 20, offsets: Int32Array.from({ length: users + 1 }, (_, u) => u * length), items, trainEnd: new Int32Array(users).fill(length) };
    const model = createSasRec({ itemCount: 20, maxLength: 12, hiddenSize: 16, layers: 1, heads: 2, dropout: 0.1, beacon: { chunkSize: 3, beaconsPerChunk: 1 } }, 1) as TrainableModel;
    const beaconBefore = (model.variables.find((entry) => entry.name === 'beacon_embedding')?.variable.dataSync() as Float32Array).slice();
    const result = await trainModel(model, data, { epochs: 4, batchSize: 16, learningRate: 0.01, loss: 'sampled-softmax', negatives: 8, temperature: 0.1, weightDecay: 0, seed: 3 });
    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss);
    const beaconAfter = model.variables.find((entry) => entry.name === 'beacon_embedding')?.variable.dataSync() as Float32Array;
    expect(Array.from(beaconAfter)).not.toEqual(Array.from(beaconBefore));
    model.dispose();
  });
});

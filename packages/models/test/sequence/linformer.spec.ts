import { cacheBytes, createStrategy, silentLogger } from '@malloc/compression';
import { createSasRec, initBackend, loadCheckpoint, saveCheckpoint, sequenceCacheBytes, sequenceKeptTokens, trainModel, type SequentialModel, type TrainingData } from '../../src/index';
import { invalidArgument } from '../../src/messages';
import { BLOCKED } from '../../src/ops/layers';
import { linformerLayout, projectBlock } from '../../src/sequence/linformer';
import type { TrainableModel } from '../../src/model/types';
import { expectClose, lastRow } from '../tolerance';
import { itMatchesBatchedPaths, rowPositions, sequence, smallSasRec, useScratchFolder } from './fixtures';

/** Blocks of 4 tokens, each projected to 2 rows. */
const LINFORMER = { blockSize: 4, projectedRows: 2 };

/** SASRec with d 16, 2 heads (dHead 8) and 2 layers. */
function sasRec(fields: object = {}, seed = 11): SequentialModel {
  return smallSasRec({ linformer: LINFORMER, ...fields }, seed);
}

describe.each(['cpu', 'wasm'] as const)('Linformer SASRec on %s', (backend) => {
  let model: SequentialModel;

  beforeAll(async () => {
    await initBackend(backend);
    model = sasRec();
  });

  afterAll(() => {
    model.dispose();
  });

  it.each([
    [0, 1],
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
    for (let i = 0; i < appended; i++) {
      const expected = model.forwardLast(items.subarray(0, prefilled + i + 1));
      expectClose(result.hidden.subarray(i * 16, (i + 1) * 16), expected, 1e-5);
    }
  });

  it('appends one item at a time across blocks', () => {
    const items = sequence(14, 3);
    let cache = model.prefill(items.subarray(0, 1)).cache;
    for (let i = 1; i < items.length; i++) {
      const result = model.append(cache, items.subarray(i, i + 1));
      expectClose(result.hidden, model.forwardLast(items.subarray(0, i + 1)), 1e-5);
      cache = result.cache;
    }
  });

  it('cache keeps projections and the raw tail', () => {
    // 10 items in blocks of 4: projected rows of blocks 0 and 1 sit at positions 2, 3 and 6, 7.
    const { cache } = model.prefill(sequence(10));
    for (const positions of rowPositions(cache)) {
      expect(positions).toEqual([2, 3, 6, 7, 8, 9]);
    }
  });

  it.each([
    // 3 items: 2 layers × 2 heads × 3 rows × (8 + 8) floats × 4 bytes.
    [3, 2 * 2 * 3 * (8 + 8) * 4, 768],
    // 10 items: 6 rows with a gap in positions, so each head also stores 6 int32 positions.
    [10, 2 * 2 * (6 * 16 * 4 + 6 * 4), 1632],
    // 13 items: 3 blocks × 2 rows + 1 raw row.
    [13, 2 * 2 * (7 * 16 * 4 + 7 * 4), 1904],
  ])('bytes after %i items match the formula', (seen, formula, bytes) => {
    expect(formula).toBe(bytes);
    expect(cacheBytes(model.prefill(sequence(seen)).cache)).toBe(bytes);
    expect(sequenceCacheBytes(model.config, seen)).toBe(bytes);
    expect(sequenceKeptTokens(model.config, seen)).toBe(2 * Math.floor(seen / 4) + (seen % 4));
  });

  itMatchesBatchedPaths(() => model, 16);

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

  it('compressed cache keeps projecting', () => {
    // Window keeps positions 7, 8, 9 of 10 items. Completing block 2 projects the raw rows 8..11
    // that remain and places the projection at positions 10 and 11.
    const { cache } = model.prefill(sequence(10));
    const compressed = createStrategy('window', { compressionRatio: 0.5 }).compress(cache, { stats: null, logger: silentLogger });
    const result = model.append(compressed, sequence(2, 10));
    for (const positions of rowPositions(result.cache)) {
      expect(positions).toEqual([7, 10, 11]);
    }
    expect(result.hidden.every(Number.isFinite)).toBe(true);
  });

  it('GQA with Linformer equals the training pass', () => {
    const grouped = sasRec({ kvHeads: 1 });
    const items = sequence(11, 2);
    const { cache } = grouped.prefill(items.subarray(0, 6));
    const result = grouped.append(cache, items.subarray(6));
    expectClose(lastRow(result.hidden, 16), grouped.forwardLast(items), 1e-5);
    // 11 items keep 2 × 2 projected + 3 raw = 7 rows; one KV head of dHead 8:
    // 2 layers × 1 head × (7 rows × (8 + 8) × 4 + 7 positions × 4) bytes.
    expect(cacheBytes(result.cache)).toBe(2 * 1 * (7 * 16 * 4 + 7 * 4));
    expect(sequenceCacheBytes(grouped.config, 11)).toBe(cacheBytes(result.cache));
    grouped.dispose();
  });
});

describe('Linformer configuration', () => {
  const scratch = useScratchFolder('malloc-linformer-');

  it('other weights equal the default model', () => {
    const plain = sasRec({ linformer: undefined }) as TrainableModel;
    const projected = sasRec() as TrainableModel;
    expect(Object.keys(plain.config)).not.toContain('linformer');
    const extra = ['block_0/linformer_key/kernel', 'block_0/linformer_value/kernel', 'block_1/linformer_key/kernel', 'block_1/linformer_value/kernel'];
    expect(projected.variables.map((entry) => entry.name)).toEqual([...plain.variables.map((entry) => entry.name), ...extra]);
    plain.variables.forEach((entry, index) => {
      expect(projected.variables[index].variable.dataSync()).toEqual(entry.variable.dataSync());
    });
    // 2 layers × 2 matrices × [2, 4].
    expect(projected.numWeights() - plain.numWeights()).toBe(2 * 2 * 2 * 4);
    plain.dispose();
    projected.dispose();
  });

  it('blocks longer than the input change nothing', () => {
    const plain = sasRec({ linformer: undefined });
    const projected = sasRec({ linformer: { blockSize: 8, projectedRows: 2 } });
    expectClose(projected.forwardLast(sequence(7)), plain.forwardLast(sequence(7)), 1e-6);
    plain.dispose();
    projected.dispose();
  });

  it('invalid settings are rejected', () => {
    expect(() => sasRec({ linformer: { blockSize: 0, projectedRows: 1 } })).toThrow(new RangeError(invalidArgument('createSasRec', 'config.linformer.blockSize', 'an integer in [1, maxLength 24]', '0')));
    expect(() => sasRec({ linformer: { blockSize: 4, projectedRows: 5 } })).toThrow(new RangeError(invalidArgument('createSasRec', 'config.linformer.projectedRows', 'an integer in [1, blockSize 4]', '5')));
    expect(() => sasRec({ linformer: null })).toThrow(TypeError);
    expect(() => sasRec({ beacon: { chunkSize: 4, beaconsPerChunk: 1 } })).toThrow(/no beacon besides it/);
    expect(() => sasRec({ kvLatentSize: 4 })).toThrow(/no kvLatentSize besides it/);
  });

  it('layout follows the block rules', () => {
    // Block size 2, 1 row, items at positions 0, 1, 2: block 0 is complete and projected to one row m0.
    const layout = linformerLayout({ batch: 1, len: 3, items: new Int32Array([5, 6, 7]), positions: new Int32Array([0, 1, 2]), timestamps: null }, { blockSize: 2, projectedRows: 1 });
    expect(layout.rows).toBe(1);
    // m0 reads E[0, 0] (index 0) and E[0, 1] (index 1) from tokens 0 and 1, and the zero (index 2) from token 2.
    expect(Array.from(layout.projectionIndex)).toEqual([0, 1, 2]);
    // Columns m0, t0, t1, t2. Queries t0 and t1 attend to their block causally, and t2 attends to m0 and itself.
    expect(Array.from(layout.bias).every((value) => value === 0 || value === BLOCKED)).toBe(true);
    const allowed = Array.from(layout.bias, (value) => Number(value === 0));
    expect(allowed).toEqual([0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1]);
  });

  it('block projection sums weighted rows', () => {
    // Rows at positions 4 and 6 of the block starting at 4 (position 5 evicted), width 2.
    // E = [[1, 2, 3, 4], [0, 1, 0, 1]]: row 0 = 1 · [1, 2] + 3 · [3, 4] = [10, 14]; row 1 = 0 · [1, 2] + 0 · [3, 4] = [0, 0].
    const projected = projectBlock(new Float32Array([1, 2, 3, 4]), [4, 6], 2, new Float32Array([1, 2, 3, 4, 0, 1, 0, 1]), 2, 4, 4);
    expect(Array.from(projected)).toEqual([10, 14, 0, 0]);
  });

  it('checkpoint round trip keeps the projections', async () => {
    const model = sasRec();
    await saveCheckpoint(model, scratch(), { dataFingerprint: 'abc' });
    const loaded = await loadCheckpoint(scratch(), { dataFingerprint: 'abc' });
    expect(loaded.config).toEqual(model.config);
    expect(loaded.forwardLast(sequence(11))).toEqual(model.forwardLast(sequence(11)));
    loaded.dispose();
    model.dispose();
  });

  it('training lowers the loss and moves the projections', async () => {
    // 32 users whose sequences walk the catalogue: item i is always followed by i % 20 + 1.
    const users = 32;
    const length = 10;
    const items = Int32Array.from({ length: users * length }, (_, index) => ((Math.floor(index / length) * 7 + (index % length)) % 20) + 1);
    const data: TrainingData = { itemCount: 20, offsets: Int32Array.from({ length: users + 1 }, (_, u) => u * length), items, trainEnd: new Int32Array(users).fill(length) };
    const model = createSasRec({ itemCount: 20, maxLength: 12, hiddenSize: 16, layers: 1, heads: 2, dropout: 0.1, linformer: { blockSize: 3, projectedRows: 1 } }, 1) as TrainableModel;
    const kernel = (): Float32Array => (model.variables.find((entry) => entry.name === 'block_0/linformer_key/kernel')?.variable.dataSync() as Float32Array).slice();
    const before = kernel();
    const result = await trainModel(model, data, { epochs: 4, batchSize: 16, learningRate: 0.01, loss: 'sampled-softmax', negatives: 8, temperature: 0.1, weightDecay: 0, seed: 3 });
    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss);
    expect(Array.from(kernel())).not.toEqual(Array.from(before));
    model.dispose();
  });
});

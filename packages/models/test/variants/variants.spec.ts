import { cacheBytes, createStrategy, silentLogger, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHstu, createSasRec, headVariantOf, initBackend, loadCheckpoint, saveCheckpoint, trainModel, variantCacheBytes, type SequentialModel, type TrainingData } from '../../src/index';
import { invalidArgument } from '../../src/messages';
import { CTR_HEAD_BIAS, CTR_HEAD_KERNEL } from '../../src/ctr/head';
import type { TrainableModel } from '../../src/model/types';
import { expectClose, lastRow } from '../tolerance';

/** Head-level variants tested on both models: 4 query heads, 2 layers. */
const VARIANTS = [
  { name: 'gqa', fields: { kvHeads: 2 } },
  { name: 'mqa', fields: { kvHeads: 1 } },
  { name: 'mla', fields: { kvLatentSize: 6 } },
  { name: 'mla', fields: { kvLatentSize: 5, kvHeads: 2 } },
] as const;

/** SASRec with d 16 and 4 heads, so dHead = 4. */
function sasRec(fields: object, seed = 11): SequentialModel {
  return createSasRec({ itemCount: 40, maxLength: 24, hiddenSize: 16, layers: 2, heads: 4, dropout: 0.2, ...fields }, seed);
}

/** HSTU with 4 heads of dqk 6 and dv 5. */
function hstu(fields: object, seed = 13): SequentialModel {
  return createHstu({ itemCount: 40, maxLength: 24, hiddenSize: 12, layers: 2, heads: 4, queryKeySize: 6, valueSize: 5, timeBuckets: 16, ...fields }, seed);
}

/** Items 1..40 in a scrambled order and increasing timestamps with gaps from 1 s to 10⁶ s. */
function sequence(length: number, offset = 0): { items: Int32Array; times: Float64Array } {
  const items = Int32Array.from({ length }, (_, i) => ((i + offset) * 7) % 40 + 1);
  const times = new Float64Array(length);
  for (let i = 1; i < length; i++) {
    times[i] = times[i - 1] + Math.pow(10, (i * 37 + offset) % 7);
  }
  return { items, times };
}

describe.each(['cpu', 'wasm'] as const)('head-level variants on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  describe.each(VARIANTS)('$name $fields', ({ fields }) => {
    let sasrecModel: SequentialModel;
    let hstuModel: SequentialModel;

    beforeAll(() => {
      sasrecModel = sasRec(fields);
      hstuModel = hstu(fields);
    });

    afterAll(() => {
      sasrecModel.dispose();
      hstuModel.dispose();
    });

    it.each([1, 4, 16])('SASRec prefill plus append of %i equals full pass', (count) => {
      const { items } = sequence(6 + count);
      const { cache } = sasrecModel.prefill(items.subarray(0, 6));
      const appended = sasrecModel.append(cache, items.subarray(6));
      const expected = sasrecModel.forwardLast(items);
      expectClose(lastRow(appended.hidden, 16), expected, 1e-5);
      expectClose(sasrecModel.scoreAll(lastRow(appended.hidden, 16)), sasrecModel.scoreAll(expected), 1e-5);
    });

    it.each([1, 4, 16])('HSTU prefill plus append of %i equals full pass', (count) => {
      const { items, times } = sequence(6 + count, 2);
      const { cache } = hstuModel.prefill(items.subarray(0, 6), { timestamps: times.subarray(0, 6) });
      const appended = hstuModel.append(cache, items.subarray(6), { timestamps: times.subarray(6) });
      const expected = hstuModel.forwardLast(items, { timestamps: times });
      expectClose(lastRow(appended.hidden, 12), expected, 1e-5);
      expectClose(hstuModel.scoreAll(lastRow(appended.hidden, 12)), hstuModel.scoreAll(expected), 1e-5);
    });

    it('two appends in a row equal the full pass', () => {
      const { items } = sequence(12, 5);
      const first = sasrecModel.append(sasrecModel.prefill(items.subarray(0, 5)).cache, items.subarray(5, 8));
      const second = sasrecModel.append(first.cache, items.subarray(8));
      expectClose(lastRow(second.hidden, 16), sasrecModel.forwardLast(items), 1e-5);
    });

    it('forwardLastBatch equals forwardLast', () => {
      const sequences = [sequence(3).items, sequence(9, 1).items, sequence(5, 2).items];
      const batched = sasrecModel.forwardLastBatch(sequences);
      sequences.forEach((items, index) => expectClose(batched.subarray(index * 16, (index + 1) * 16), sasrecModel.forwardLast(items), 1e-5));
    });

    it('prefillBatch equals prefill per history', () => {
      const histories = [sequence(4).items, sequence(9, 1).items];
      for (const model of [sasrecModel, hstuModel]) {
        const batched = model.prefillBatch(histories, { recordStats: true });
        histories.forEach((history, index) => {
          const single = model.prefill(history, { recordStats: true });
          expect(cacheBytes(batched[index].cache)).toBe(cacheBytes(single.cache));
          batched[index].cache.layers.forEach((layer, layerIndex) => {
            layer.heads.forEach((head, headIndex) => {
              expectClose(head.keys.decode(), single.cache.layers[layerIndex].heads[headIndex].keys.decode(), 1e-5);
              expectClose(head.values.decode(), single.cache.layers[layerIndex].heads[headIndex].values.decode(), 1e-5);
            });
          });
          expectClose(batched[index].stats?.accumulated[1] ?? [], single.stats?.accumulated[1] ?? [], 1e-5);
        });
      }
    });

    it('SASRec attention statistics sum to one per query', () => {
      // Softmax rows sum to 1; averaged over a group they still do, so each cache head receives len in total.
      const len = 7;
      const { cache, stats } = sasrecModel.prefill(sequence(len).items, { recordStats: true });
      const cacheHeads = cache.layers[0].heads.length;
      for (const accumulated of stats?.accumulated ?? []) {
        expect(accumulated.length).toBe(cacheHeads * len);
        for (let head = 0; head < cacheHeads; head++) {
          const total = accumulated.subarray(head * len, (head + 1) * len).reduce((a, b) => a + b, 0);
          expect(total).toBeCloseTo(len, 4);
        }
      }
      expect(stats?.accumulated).toHaveLength(2);
    });
  });
});

describe('variant cache bytes', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  // SASRec: dHead = 16 / 4 = 4. HSTU: dqk 6, dv 5, plus an 8-byte timestamp per token and cache head.
  it.each([
    // 2 layers × 2 KV heads × 10 tokens × (4 + 4) floats × 4 bytes.
    [{ kvHeads: 2 }, 2 * 2 * 10 * (4 + 4) * 4, 1280],
    // 2 layers × 1 KV head × 10 tokens × 8 floats × 4 bytes.
    [{ kvHeads: 1 }, 2 * 1 * 10 * 8 * 4, 640],
    // 2 layers × 10 tokens × latent 6 × 4 bytes.
    [{ kvLatentSize: 6 }, 2 * 10 * 6 * 4, 480],
    // The latent does not depend on kvHeads: 2 × 10 × 5 × 4.
    [{ kvLatentSize: 5, kvHeads: 2 }, 2 * 10 * 5 * 4, 400],
  ])('SASRec %j stores the formula', (fields, formula, bytes) => {
    expect(formula).toBe(bytes);
    const model = sasRec(fields);
    const { cache } = model.prefill(sequence(10).items);
    expect(cacheBytes(cache)).toBe(bytes);
    expect(variantCacheBytes(model.config, 10)).toBe(bytes);

    // Four appended tokens: the same formula for 14 tokens.
    const grown = model.append(cache, sequence(4, 3).items).cache;
    expect(cacheBytes(grown)).toBe((bytes / 10) * 14);
    expect(variantCacheBytes(model.config, 14)).toBe((bytes / 10) * 14);
    model.dispose();
  });

  it.each([
    // 2 layers × 2 KV heads × 10 tokens × ((6 + 5) × 4 + 8) bytes.
    [{ kvHeads: 2 }, 2 * 2 * 10 * ((6 + 5) * 4 + 8), 2080],
    [{ kvHeads: 1 }, 2 * 1 * 10 * ((6 + 5) * 4 + 8), 1040],
    // 2 layers × 10 tokens × (6 × 4 + 8) bytes: one latent and one timestamp per token.
    [{ kvLatentSize: 6 }, 2 * 10 * (6 * 4 + 8), 640],
    [{ kvLatentSize: 5, kvHeads: 2 }, 2 * 10 * (5 * 4 + 8), 560],
  ])('HSTU %j with timestamps stores the formula', (fields, formula, bytes) => {
    expect(formula).toBe(bytes);
    const model = hstu(fields);
    const { items, times } = sequence(10);
    const { cache } = model.prefill(items, { timestamps: times });
    expect(cacheBytes(cache)).toBe(bytes);
    expect(variantCacheBytes(model.config, 10, { timestamps: true })).toBe(bytes);
    model.dispose();
  });

  it('defaults keep one KV head per query head', () => {
    // SASRec: 2 layers × 4 heads × 10 × 8 × 4; HSTU without timestamps: 2 × 4 × 10 × 11 × 4.
    expect(variantCacheBytes(sasRec({}).config, 10)).toBe(2 * 4 * 10 * 8 * 4);
    expect(variantCacheBytes(hstu({}).config, 10)).toBe(2 * 4 * 10 * 11 * 4);
    expect(() => variantCacheBytes(sasRec({}).config, -1)).toThrow(RangeError);
  });

  it('variant names follow the fields', () => {
    expect(headVariantOf({ heads: 4 })).toBe('mha');
    expect(headVariantOf({ heads: 4, kvHeads: 4 })).toBe('mha');
    expect(headVariantOf({ heads: 4, kvHeads: 2 })).toBe('gqa');
    expect(headVariantOf({ heads: 4, kvHeads: 1 })).toBe('mqa');
    expect(headVariantOf({ heads: 4, kvLatentSize: 8 })).toBe('mla');
  });

  it('default configuration has no variant fields', () => {
    expect(Object.keys(sasRec({}).config)).not.toContain('kvHeads');
    expect(Object.keys(hstu({}).config)).not.toContain('kvLatentSize');
    expect(sasRec({ kvHeads: 2 }).config.kvHeads).toBe(2);
  });

  it('invalid kvHeads and kvLatentSize are rejected', () => {
    expect(() => sasRec({ kvHeads: 3 })).toThrow(new RangeError(invalidArgument('createSasRec', 'config.kvHeads', 'a divisor of heads 4 (1 = multi-query attention)', '3')));
    expect(() => hstu({ kvHeads: 0 })).toThrow(new RangeError(invalidArgument('createHstu', 'config.kvHeads', 'a divisor of heads 4 (1 = multi-query attention)', '0')));
    expect(() => sasRec({ kvLatentSize: 1 })).toThrow(/config\.kvLatentSize/);
    expect(() => hstu({ kvLatentSize: 2.5 })).toThrow(/config\.kvLatentSize/);
  });

  it('a cache of another variant is rejected', () => {
    const mha = sasRec({});
    const gqa = sasRec({ kvHeads: 2 });
    const { cache } = mha.prefill(sequence(5).items);
    expect(() => gqa.append(cache, new Int32Array([3]))).toThrow(/layer 0 has 4 heads, the model has 2/);
    mha.dispose();
    gqa.dispose();
  });
});

describe('variants with compression strategies', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  /** Compresses a prefilled cache and appends 3 items; returns the compressed cache and the last hidden state. */
  function compressAndAppend(model: SequentialModel, strategy: string, params: Record<string, unknown>, withTime: boolean): { compressed: KVCache; hidden: Float32Array } {
    const { items, times } = sequence(15);
    const { cache, stats } = model.prefill(items.subarray(0, 12), { recordStats: true, timestamps: withTime ? times.subarray(0, 12) : undefined });
    const compressed = createStrategy(strategy, params).compress(cache, { stats, logger: silentLogger });
    const { hidden } = model.append(compressed, items.subarray(12), { timestamps: withTime ? times.subarray(12) : undefined });
    return { compressed, hidden: lastRow(hidden, model.config.hiddenSize) };
  }

  it.each([
    ['SASRec', sasRec, false],
    ['HSTU', hstu, true],
  ] as const)('%s GQA plus KIVI stores half the bytes of MHA plus KIVI', (_, create, withTime) => {
    // KIVI encodes each cache head on its own, so 2 KV heads cost half of 4 heads of the same width.
    const params = { bits: 2, groupSize: 4, residual: 2 };
    const gqa = create({ kvHeads: 2 });
    const mha = create({});
    const gqaResult = compressAndAppend(gqa, 'kivi', params, withTime);
    const mhaResult = compressAndAppend(mha, 'kivi', params, withTime);
    expect(cacheBytes(gqaResult.compressed) * 2).toBe(cacheBytes(mhaResult.compressed));
    expect(cacheBytes(gqaResult.compressed)).toBeLessThan(variantCacheBytes(gqa.config, 12, { timestamps: withTime }));
    expect(gqaResult.hidden.every(Number.isFinite)).toBe(true);
    gqa.dispose();
    mha.dispose();
  });

  it.each([
    ['SASRec', sasRec, false],
    ['HSTU', hstu, true],
  ] as const)('%s MLA plus window keeps the latent formula', (_, create, withTime) => {
    // Ratio 0.5 of 12 tokens keeps the newest 6, contiguous, so no position array is stored.
    const mla = create({ kvLatentSize: 6 });
    const { compressed, hidden } = compressAndAppend(mla, 'window', { compressionRatio: 0.5 }, withTime);
    expect(compressed.layers[0].heads[0].keys.rows).toBe(6);
    expect(cacheBytes(compressed)).toBe(variantCacheBytes(mla.config, 6, { timestamps: withTime }));
    expect(cacheBytes(compressed)).toBe(2 * 6 * (6 * 4 + (withTime ? 8 : 0)));
    expect(hidden.every(Number.isFinite)).toBe(true);
    mla.dispose();
  });

  it('MLA with a full window equals the uncompressed pass', () => {
    // Window at ratio 0 removes nothing, so the output is the full forward pass.
    const mla = sasRec({ kvLatentSize: 6 });
    const { hidden } = compressAndAppend(mla, 'window', { compressionRatio: 0 }, false);
    expectClose(hidden, mla.forwardLast(sequence(15).items), 1e-5);
    mla.dispose();
  });

  it('MLA plus SnapKV and MQA plus int8 run', () => {
    const mla = hstu({ kvLatentSize: 6 });
    const snap = compressAndAppend(mla, 'snapkv', { compressionRatio: 0.5, window: 4 }, true);
    expect(snap.compressed.layers[0].heads[0].keys.rows).toBe(6);
    expect(snap.hidden.every(Number.isFinite)).toBe(true);
    const mqa = sasRec({ kvHeads: 1 });
    const int8 = compressAndAppend(mqa, 'int8', {}, false);
    expect(int8.hidden.every(Number.isFinite)).toBe(true);
    mla.dispose();
    mqa.dispose();
  });
});

describe('variant training and checkpoints', () => {
  let dir: string;

  beforeAll(async () => {
    await initBackend('wasm');
  });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'malloc-variants-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** 32 users whose sequences walk the catalogue: item i is always followed by i % 20 + 1. */
  function successorData(): TrainingData {
    const users = 32;
    const length = 10;
    const items = new Int32Array(users * length);
    for (let u = 0; u < users; u++) {
      for (let t = 0; t < length; t++) {
        items[u * length + t] = ((u * 7 + t) % 20) + 1;
      }
    }
    return { itemCount: 20, offsets: Int32Array.from({ length: users + 1 }, (_, u) => u * length), items, trainEnd: new Int32Array(users).fill(length) };
  }

  it.each([
    ['SASRec GQA', () => createSasRec({ itemCount: 20, maxLength: 12, hiddenSize: 16, layers: 1, heads: 4, kvHeads: 2, dropout: 0.1 }, 1)],
    ['SASRec MLA', () => createSasRec({ itemCount: 20, maxLength: 12, hiddenSize: 16, layers: 1, heads: 2, kvLatentSize: 6, dropout: 0.1 }, 1)],
    ['HSTU MQA', () => createHstu({ itemCount: 20, maxLength: 12, hiddenSize: 16, layers: 1, heads: 2, kvHeads: 1, queryKeySize: 8, valueSize: 8, dropout: 0.1 }, 1)],
    ['HSTU MLA', () => createHstu({ itemCount: 20, maxLength: 12, hiddenSize: 16, layers: 1, heads: 2, kvLatentSize: 6, queryKeySize: 8, valueSize: 8, dropout: 0.1 }, 1)],
  ])('%s training lowers the loss', async (_, create) => {
    const model = create();
    const result = await trainModel(model, successorData(), { epochs: 4, batchSize: 16, learningRate: 0.01, loss: 'sampled-softmax', negatives: 8, temperature: 0.1, weightDecay: 0, seed: 3 });
    expect(result.epochs[result.epochs.length - 1].loss).toBeLessThan(result.epochs[0].loss);
    model.dispose();
  });

  it.each([
    ['SASRec GQA', () => sasRec({ kvHeads: 2 }), 'kvHeads', 4, /block_0\/key\/kernel has shape \[16, 8\], the model needs \[16, 16\]/],
    ['HSTU MLA', () => hstu({ kvLatentSize: 6 }), 'kvLatentSize', 8, /layer_0\/kv_down\/kernel has shape \[12, 6\], the model needs \[12, 8\]/],
  ] as const)('%s checkpoint round trip and mismatch', async (_, create, field, otherValue, mismatch) => {
    const model = create();
    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    const loaded = await loadCheckpoint(dir, { dataFingerprint: 'abc' });
    const { items, times } = sequence(5);
    expect(loaded.config).toEqual(model.config);
    expect(loaded.scoreAll(loaded.forwardLast(items, { timestamps: times }))).toEqual(model.scoreAll(model.forwardLast(items, { timestamps: times })));
    loaded.dispose();

    // A manifest whose variant field no longer matches the stored weights is rejected.
    const manifest = path.join(dir, 'model.json');
    const header = JSON.parse(readFileSync(manifest, 'utf8')) as { config: Record<string, unknown> };
    expect(header.config[field]).toBe(model.config[field as keyof typeof model.config]);
    header.config[field] = otherValue;
    writeFileSync(manifest, JSON.stringify(header));
    await expect(loadCheckpoint(dir)).rejects.toThrow(mismatch);
    model.dispose();
  });
});

describe('variants against equivalent full-head models', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  /** Weights of a model by name, with their shapes. */
  function weightsOf(model: SequentialModel): Map<string, { shape: number[]; values: Float32Array }> {
    const variables = (model as unknown as TrainableModel).variables;
    return new Map(variables.map((entry) => [entry.name, { shape: entry.variable.shape, values: entry.variable.dataSync() as Float32Array }]));
  }

  /** Overwrites the weights of `model` by name; every name must exist with the same shape. */
  function assignWeights(model: SequentialModel, weights: Map<string, Float32Array>): void {
    const trainable = model as unknown as TrainableModel;
    for (const entry of trainable.variables) {
      const values = weights.get(entry.name);
      if (values !== undefined) {
        entry.variable.assign(tf.tensor(values, entry.variable.shape, 'float32'));
      }
    }
    trainable.weightsChanged();
  }

  /** Repeats column blocks of width `width` of a `[rows, kvHeads · width]` matrix for groups of `group` heads. */
  function repeatColumns(values: Float32Array, rows: number, kvHeads: number, width: number, group: number): Float32Array {
    const cols = kvHeads * width;
    const out = new Float32Array(rows * cols * group);
    for (let r = 0; r < rows; r++) {
      for (let head = 0; head < kvHeads * group; head++) {
        const source = Math.floor(head / group) * width;
        out.set(values.subarray(r * cols + source, r * cols + source + width), r * cols * group + head * width);
      }
    }
    return out;
  }

  /** Product of `[n, k]` and `[k, m]` row-major matrices in float64, `[n, m]`. */
  function product(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Float32Array {
    const out = new Float32Array(n * m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let sum = 0;
        for (let t = 0; t < k; t++) {
          sum += a[i * k + t] * b[t * m + j];
        }
        out[i * m + j] = sum;
      }
    }
    return out;
  }

  it('SASRec GQA equals MHA with repeated key and value heads', () => {
    // d 16, 4 heads of width 4, 2 KV heads: each KV column block serves 2 query heads.
    const gqa = sasRec({ kvHeads: 2 });
    const mha = sasRec({}, 99);
    const weights = new Map<string, Float32Array>();
    for (const [name, { shape, values }] of weightsOf(gqa)) {
      const shared = /\/(key|value)\/(kernel|bias)$/.test(name);
      weights.set(name, shared ? repeatColumns(values, shape.length === 2 ? shape[0] : 1, 2, 4, 2) : values);
    }
    assignWeights(mha, weights);
    const { items } = sequence(9);
    expectClose(mha.forwardLast(items), gqa.forwardLast(items), 1e-5);
    gqa.dispose();
    mha.dispose();
  });

  it('SASRec MLA equals MHA with W_dkv · W_uk kernels', () => {
    // Keys are (x · W_dkv) · W_uk + b = x · (W_dkv · W_uk) + b, with W_dkv [16, 6] and W_uk [6, 16].
    const mla = sasRec({ kvLatentSize: 6 });
    const mha = sasRec({}, 99);
    const source = weightsOf(mla);
    const weights = new Map<string, Float32Array>();
    for (const [name, { values }] of source) {
      const match = /^(block_\d+\/)(key|value)\/kernel$/.exec(name);
      weights.set(name, match === null ? values : product(source.get(`${match[1]}kv_down/kernel`)?.values ?? new Float32Array(0), values, 16, 6, 16));
    }
    assignWeights(mha, weights);
    const { items } = sequence(9);
    expectClose(mha.forwardLast(items), mla.forwardLast(items), 1e-5);
    mla.dispose();
    mha.dispose();
  });

  it('HSTU MQA and MLA equal MHA with rebuilt projections', () => {
    // Fused columns are [U 4·5 | V | Q 4·6 | K]; MQA has V [5] and K [6], MLA has V, K = SiLU(c · W_ukv).
    const { items, times } = sequence(9);
    const mqa = hstu({ kvHeads: 1 });
    const mla = hstu({ kvLatentSize: 6 });
    const mhaFromMqa = hstu({}, 99);
    const mhaFromMla = hstu({}, 98);

    const mqaWeights = new Map<string, Float32Array>();
    for (const [name, { values }] of weightsOf(mqa)) {
      if (!name.endsWith('uvqk/kernel')) {
        mqaWeights.set(name, values);
        continue;
      }
      // [12, 20 + 5 + 24 + 6] -> [12, 20 + 20 + 24 + 24].
      const fused = new Float32Array(12 * 88);
      for (let r = 0; r < 12; r++) {
        const row = values.subarray(r * 55, (r + 1) * 55);
        fused.set(row.subarray(0, 20), r * 88);
        fused.set(repeatColumns(row.subarray(20, 25), 1, 1, 5, 4), r * 88 + 20);
        fused.set(row.subarray(25, 49), r * 88 + 40);
        fused.set(repeatColumns(row.subarray(49, 55), 1, 1, 6, 4), r * 88 + 64);
      }
      mqaWeights.set(name, fused);
    }
    assignWeights(mhaFromMqa, mqaWeights);
    expectClose(mhaFromMqa.forwardLast(items, { timestamps: times }), mqa.forwardLast(items, { timestamps: times }), 1e-5);

    const source = weightsOf(mla);
    const mlaWeights = new Map<string, Float32Array>();
    for (const [name, { values }] of source) {
      const match = /^(layer_\d+\/)uvqk\/kernel$/.exec(name);
      if (match === null) {
        mlaWeights.set(name, values);
        continue;
      }
      // [12, 20 + 24] plus W_dkv [12, 6] · W_ukv [6, 4 · 5 + 4 · 6] -> [12, 20 + 20 + 24 + 24].
      const up = product(source.get(`${match[1]}kv_down/kernel`)?.values ?? new Float32Array(0), source.get(`${match[1]}kv_up/kernel`)?.values ?? new Float32Array(0), 12, 6, 44);
      const fused = new Float32Array(12 * 88);
      for (let r = 0; r < 12; r++) {
        fused.set(values.subarray(r * 44, r * 44 + 20), r * 88);
        fused.set(up.subarray(r * 44, r * 44 + 20), r * 88 + 20);
        fused.set(values.subarray(r * 44 + 20, r * 44 + 44), r * 88 + 40);
        fused.set(up.subarray(r * 44 + 20, r * 44 + 44), r * 88 + 64);
      }
      mlaWeights.set(name, fused);
    }
    assignWeights(mhaFromMla, mlaWeights);
    expectClose(mhaFromMla.forwardLast(items, { timestamps: times }), mla.forwardLast(items, { timestamps: times }), 1e-5);
    for (const model of [mqa, mla, mhaFromMqa, mhaFromMla]) {
      model.dispose();
    }
  });
});

describe('variants with impression scoring', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it.each([
    ['SASRec MLA', () => sasRec({ kvLatentSize: 6, ctrHead: true }), false],
    ['HSTU GQA', () => hstu({ kvHeads: 2, ctrHead: true }), true],
    ['HSTU MLA', () => hstu({ kvLatentSize: 5, ctrHead: true }), true],
  ] as const)('%s candidates equal single appends', (_, create, withTime) => {
    // Each candidate sees the cache and itself only, so its logit is that of appending it alone.
    // The click head starts at zero, so it gets nonzero weights first.
    const model = create();
    const head = (model as unknown as TrainableModel).variables;
    const d = model.config.hiddenSize;
    head.find((entry) => entry.name === CTR_HEAD_KERNEL)?.variable.assign(tf.tensor1d(Float32Array.from({ length: d }, (_, i) => Math.sin(i + 1))));
    head.find((entry) => entry.name === CTR_HEAD_BIAS)?.variable.assign(tf.tensor1d([0.25]));
    const { items, times } = sequence(11);
    const { cache } = model.prefill(items.subarray(0, 8), { timestamps: withTime ? times.subarray(0, 8) : undefined });
    const candidates = items.subarray(8);
    const candidateTimes = times.subarray(8);
    const logits = model.scoreImpressions(cache, candidates, { timestamps: withTime ? candidateTimes : undefined });
    candidates.forEach((candidate, index) => {
      const single = model.append(cache, Int32Array.of(candidate), { timestamps: withTime ? candidateTimes.subarray(index, index + 1) : undefined });
      expectClose(logits.subarray(index, index + 1), model.clickLogits(single.hidden), 1e-5);
    });
    expect(new Set(logits).size).toBe(candidates.length);
    model.dispose();
  });
});

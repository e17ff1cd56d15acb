import { createStrategy, maxCachedTokens, silentLogger, type KVCache } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { cachedChunkRows, createHstu, createSasRec, initBackend, lshBucketPairs, variantRequestMacs, type SequentialModel, type VariantMacsConfig } from '../../src/index';
import { singleBatch } from '../../src/model/base-model';
import { expandBeaconBatch } from '../../src/sequence/beacon';
import { linformerLayout } from '../../src/sequence/linformer';
import { createRotations } from '../../src/sequence/lsh';
import { BLOCKED } from '../../src/ops/layers';

// The analytical counts are checked against the matrix products that the model runs. The
// TensorFlow.js profiler records the input and output shapes of every kernel, and a product
// [m, k] · [k, n] (batched or not) costs m · k · n MACs. Work done in plain JavaScript (the
// catalogue scoring, the Linformer block projection of a cache and the LSH hashing) and the
// masked pairs that the dense kernels compute anyway are added or removed by hand arithmetic.

const ITEMS = 40;
const D = 16;
const LAYERS = 2;

/** Counts the MACs of every matrix product that `run` executes, from the profiled kernel shapes. */
async function profiledMacs(run: () => void): Promise<number> {
  const profile = await tf.profile(run);
  let macs = 0;
  for (const kernel of profile.kernels) {
    if (kernel.name !== 'BatchMatMul' && kernel.name !== '_FusedMatMul') {
      continue;
    }
    const left = kernel.inputShapes[0];
    const out = kernel.outputShapes[0];
    const outSize = out.reduce((product, size) => product * size, 1);
    const outRows = outSize / out[out.length - 1];
    const inner = left.reduce((product, size) => product * size, 1) / outRows;
    macs += outSize * inner;
  }
  return macs;
}

/** Head shapes per kind: SASRec heads of width 8 (dKey + dValue = 16), HSTU dqk 4 and dv 6. */
const SHAPES = [
  ['sasrec', { heads: 2 }, 8, 16],
  ['hstu', { heads: 2, queryKeySize: 4, valueSize: 6 }, 4, 10],
] as const;

/** Creates a model of `kind` with 2 layers of width 16, max length 24, no dropout and `fields`. */
function createModel(kind: 'sasrec' | 'hstu', fields: Partial<VariantMacsConfig> & { heads: number }): { model: SequentialModel; config: VariantMacsConfig } {
  const config = { itemCount: ITEMS, maxLength: 24, hiddenSize: D, layers: LAYERS, dropout: 0, ...fields };
  return { model: kind === 'sasrec' ? createSasRec(config, 5) : createHstu(config, 5), config };
}

/** Items 1..40 in a scrambled order. */
function sequence(length: number): Int32Array {
  return Int32Array.from({ length }, (_, i) => ((i * 7) % ITEMS) + 1);
}

/** Expects an analytical count within 1 % of a counted one. */
function expectWithinOnePercent(analytical: number, counted: number): void {
  expect(counted).toBeGreaterThan(0);
  expect(Math.abs(analytical - counted)).toBeLessThanOrEqual(0.01 * counted);
}

/**
 * Serves one request as the runner does (prefill the history, optionally compress it, append
 * the request, score the catalogue) and returns the profiled MACs of the append and the
 * scoring, the cache before the append and the grown cache.
 */
async function servedRequest(model: SequentialModel, history: number, request: number, compress: boolean): Promise<{ counted: number; cache: KVCache; grown: KVCache }> {
  const items = sequence(history + request);
  let cache = model.prefill(items.subarray(0, history)).cache;
  if (compress) {
    cache = createStrategy('window', { compressionRatio: 0.5 }).compress(cache, { stats: null, logger: silentLogger });
  }
  let grown = cache;
  const appendMacs = await profiledMacs(() => {
    grown = model.append(cache, items.subarray(history)).cache;
  });

  // scoreAll takes one dot product of width d per item, in JavaScript.
  return { counted: appendMacs + ITEMS * D, cache, grown };
}

/** Profiled MACs of one full forward pass over `n` items plus the catalogue scoring. */
async function recomputedRequest(model: SequentialModel, n: number): Promise<number> {
  const items = sequence(n);
  return (await profiledMacs(() => model.forwardLast(items))) + ITEMS * D;
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('variantRequestMacs of MLA', () => {
  // dKey = dValue = 8 for SASRec; HSTU has dqk 4 and dv 6.
  it.each([
    ['sasrec', { heads: 2, kvLatentSize: 4 }, 5, 1, false],
    ['sasrec', { heads: 2, kvHeads: 1, kvLatentSize: 6 }, 9, 3, false],
    ['sasrec', { heads: 2, kvLatentSize: 4 }, 12, 1, true],
    ['hstu', { heads: 2, queryKeySize: 4, valueSize: 6, kvLatentSize: 4 }, 7, 1, false],
    ['hstu', { heads: 2, kvHeads: 1, queryKeySize: 4, valueSize: 6, kvLatentSize: 6 }, 10, 2, true],
  ] as const)('%s %j, history %i, request %i, window %s matches profiled products', async (kind, fields, history, request, compress) => {
    const config = { itemCount: ITEMS, maxLength: 24, hiddenSize: D, layers: LAYERS, dropout: 0, ...fields };
    const model = kind === 'sasrec' ? createSasRec(config, 5) : createHstu(config, 5);
    const dSum = kind === 'sasrec' ? 16 : 10; // dKey + dValue per query head
    const appendPairWidth = kind === 'sasrec' ? 2 * fields.kvLatentSize : dSum; // SASRec's append scores and sums latents
    const { counted, cache } = await servedRequest(model, history, request, compress);
    const recomputed = await recomputedRequest(model, history + request);
    model.dispose();
    const cachedRows = maxCachedTokens(cache);
    const macs = variantRequestMacs(kind, config as VariantMacsConfig, { seenTokens: history, cachedRows, requestLength: request });

    // The append scores every request token against every new key and masks the later ones:
    // a(a − 1)/2 pairs per layer and query head that the count leaves out.
    const maskedAppend = LAYERS * 2 * ((request * (request - 1)) / 2) * appendPairWidth;
    expectWithinOnePercent(macs.withCache, counted - maskedAppend);

    // The full pass scores n² pairs per layer and head, of which n(n + 1)/2 are causal.
    const n = history + request;
    const maskedFull = LAYERS * 2 * ((n * (n - 1)) / 2) * dSum;
    expectWithinOnePercent(macs.withoutCache, recomputed - maskedFull);
    expect(macs.withCacheBreakdown.latentUpProjection).toBeGreaterThan(0);
  });

  it('projects every HSTU latent up', () => {
    // HSTU r = 4, kvHeads 2, dqk + dv = 10: 2 layers · (c + 2a) · 4 · 2 · 10.
    const config = { layers: 2, hiddenSize: 16, heads: 2, queryKeySize: 4, valueSize: 6, itemCount: 40, kvLatentSize: 4 };
    const macs = variantRequestMacs('hstu', config, { seenTokens: 10, cachedRows: 6, requestLength: 2 });
    expect(macs.withCacheBreakdown.latentUpProjection).toBe(2 * (6 + 4) * 4 * 2 * 10);
    // The full pass over 12 tokens projects each latent up once.
    expect(macs.withoutCacheBreakdown.latentUpProjection).toBe(2 * 12 * 4 * 2 * 10);
  });

  it('folds SASRec projections into queries', () => {
    // r = 4, 2 query heads, dKey + dValue = 16: 2 layers · a · 2 · 4 · 16, whatever the cache.
    const config = { layers: 2, hiddenSize: 16, heads: 2, itemCount: 40, kvLatentSize: 4 };
    const macs = variantRequestMacs('sasrec', config, { seenTokens: 10, cachedRows: 6, requestLength: 2 });
    expect(macs.withCacheBreakdown.latentUpProjection).toBe(2 * 2 * 2 * 4 * 16);
    // Pairs: 2 layers · 2 heads · (2 · 6 + 3) = 60, each of width r for scores and for sums.
    expect(macs.withCacheBreakdown.attentionScores).toBe(60 * 4);
    expect(macs.withCacheBreakdown.attentionValues).toBe(60 * 4);
    expect(macs.withoutCacheBreakdown.latentUpProjection).toBe(2 * 12 * 4 * 2 * 16);
  });
});

describe.each(SHAPES)('variantRequestMacs of Activation Beacon on %s %j', (kind, shape, _dKey, dSum) => {
  // Chunks of 4 items condensed into 2 beacons.
  const beacon = { chunkSize: 4, beaconsPerChunk: 2 };

  it.each([
    // history, request, masked pairs per layer and head: append pieces a(a − 1)/2 plus B(B − 1)/2 per beacon pass.
    [6, 1, 0], // position 6 does not complete a chunk
    [7, 1, 1], // item 8 completes the second chunk: one beacon pass
    [5, 4, 3 + 1 + 0], // 3 items complete the second chunk, a beacon pass, then 1 item
    [10, 7, 1 + 1 + 6 + 1 + 0], // 2 items, beacons, 4 items, beacons, 1 item
  ])('history %i, request %i matches profiled products', async (history, request, maskedPairs) => {
    const { model, config } = createModel(kind, { ...shape, beacon });
    const { counted, cache } = await servedRequest(model, history, request, false);
    const recomputed = await recomputedRequest(model, history + request);
    model.dispose();
    const macs = variantRequestMacs(kind, config, { seenTokens: history, cachedRows: maxCachedTokens(cache), requestLength: request });
    expectWithinOnePercent(macs.withCache, counted - LAYERS * 2 * maskedPairs * dSum);

    // The full pass runs items and beacons densely; the mask of the training pass keeps the rest.
    const n = history + request;
    const expanded = expandBeaconBatch(singleBatch(sequence(n), null), beacon);
    const kept = expanded.bias.filter((value) => value !== BLOCKED).length;
    expectWithinOnePercent(macs.withoutCache, recomputed - LAYERS * 2 * (expanded.len ** 2 - kept) * dSum);
  });
});

describe('variantRequestMacs of a beacon pass', () => {
  it('adds a beacon pass only when the request completes a chunk', () => {
    const base = { layers: 2, hiddenSize: 16, heads: 2, itemCount: 40, beacon: { chunkSize: 4, beaconsPerChunk: 2 } };
    const quiet = variantRequestMacs('sasrec', base, { seenTokens: 6, cachedRows: 4, requestLength: 1 });
    const completing = variantRequestMacs('sasrec', base, { seenTokens: 7, cachedRows: 5, requestLength: 1 });
    expect(quiet.withCacheBreakdown.condensation).toBe(0);

    // Two beacons against 6 rows, per layer: projections 2 · 4 · 256, FFN 2 · 2 · 256, pairs 2 · (2 · 6 + 3) · 16.
    expect(completing.withCacheBreakdown.condensation).toBe(2 * (2 * 4 * 256 + 2 * 2 * 256 + 2 * 15 * 16));
  });
});

describe.each(SHAPES)('variantRequestMacs of causal Linformer on %s %j', (kind, shape, _dKey, dSum) => {
  // Blocks of 4 tokens projected to 2 rows.
  const linformer = { blockSize: 4, projectedRows: 2 };

  it.each([
    // history, request, window, masked pairs per layer and head, rows of the block projected.
    [6, 1, false, 0, [] as number[]],
    [7, 1, false, 0, [4]],
    [5, 4, false, 3, [4]],
    // The window keeps 2 of the 5 rows (positions 5 and 6), so the completed block projects 3 rows.
    [7, 1, true, 0, [3]],
  ])('history %i, request %i, window %s matches profiled products', async (history, request, compress, maskedPairs, projectedBlocks) => {
    const { model, config } = createModel(kind, { ...shape, linformer });
    const { counted, cache } = await servedRequest(model, history, request, compress);
    const recomputed = await recomputedRequest(model, history + request);
    model.dispose();
    const chunkRows = cachedChunkRows(cache, 4);
    const macs = variantRequestMacs(kind, config, { seenTokens: history, cachedRows: maxCachedTokens(cache), requestLength: request, chunkRows });

    // projectBlock multiplies the 2 rows of E (and F) by the n cached rows of each of the 2 heads, in JavaScript.
    const projection = projectedBlocks.reduce((sum, rows) => sum + LAYERS * 2 * 2 * rows * dSum, 0);
    expectWithinOnePercent(macs.withCache, counted + projection - LAYERS * 2 * maskedPairs * dSum);

    // The full pass projects with a [rows, len] matrix that is zero outside each block, then masks.
    const n = history + request;
    const layout = linformerLayout(singleBatch(sequence(n), null), linformer);
    const zero = 2 * 4;
    const nonzero = layout.projectionIndex.filter((index) => index !== zero).length;
    const projectionMasked = LAYERS * (layout.rows * n - nonzero) * 2 * dSum; // keys and values of the 2 heads
    const kept = layout.bias.filter((value) => value !== BLOCKED).length;
    const pairsMasked = LAYERS * 2 * (n * (layout.rows + n) - kept) * dSum;
    expectWithinOnePercent(macs.withoutCache, recomputed - projectionMasked - pairsMasked);
  });
});

describe.each(SHAPES)('variantRequestMacs of LSH attention on %s %j', (kind, shape, dKey, dSum) => {
  const lsh = { buckets: 4, seed: 3 };

  /** Bucket of each row of a head's keys `[rows, dKey]`, from the rotation `[dKey, 2]`: argmax over [k · R, −k · R]. */
  function buckets(keys: Float32Array, rows: number, rotation: Float32Array): number[] {
    return Array.from({ length: rows }, (_, row) => {
      const scores: number[] = [];
      for (let b = 0; b < 2; b++) {
        let dot = 0;
        for (let c = 0; c < dKey; c++) {
          dot += keys[row * dKey + c] * rotation[c * 2 + b];
        }
        scores.push(dot);
      }
      const signed = [...scores, ...scores.map((score) => -score)];
      return signed.indexOf(Math.max(...signed));
    });
  }

  it.each([
    [9, 1, false],
    [12, 3, false],
    [14, 2, true],
  ])('history %i, request %i, window %s matches profiled products', async (history, request, compress) => {
    const { model, config } = createModel(kind, { ...shape, lsh });
    const { counted, cache, grown } = await servedRequest(model, history, request, compress);
    model.dispose();
    const c = maxCachedTokens(cache);

    // Same-bucket pairs of each request row up to itself, hashed here from the grown cache.
    const rotations = createRotations(lsh, LAYERS, 2, dKey);
    let pairs = 0;
    grown.layers.forEach((layer, l) => {
      layer.heads.forEach((head, h) => {
        const ids = buckets(head.keys.decode(), c + request, rotations[l][h]);
        for (let query = c; query < c + request; query++) {
          pairs += ids.slice(0, query + 1).filter((id) => id === ids[query]).length;
        }
      });
    });
    expect(lshBucketPairs(kind, config, grown, request)).toBe(pairs);

    // The append scores all c + a keys per query. Hashing multiplies each key by R, [dKey, 2], per layer and head.
    const dense = LAYERS * 2 * request * (c + request) * dSum;
    const hashing = LAYERS * 2 * (c + request) * dKey * 2;
    const macs = variantRequestMacs(kind, config, { seenTokens: history, cachedRows: c, requestLength: request, bucketPairs: pairs });
    expectWithinOnePercent(macs.withCache, counted - dense + pairs * dSum + hashing);
    expect(macs.withCacheBreakdown.hashing).toBe(hashing);
  });
});

describe('variantRequestMacs of expected LSH buckets', () => {
  it('expects 1 + k / buckets keys per query by default', () => {
    // One request token after 12 cached rows: 2 layers · 2 heads · (1 + 12 / 4) = 16 pairs of 8 + 8 MACs.
    const macs = variantRequestMacs('sasrec', { layers: 2, hiddenSize: 16, heads: 2, itemCount: 40, lsh: { buckets: 4 } }, { seenTokens: 12, cachedRows: 12, requestLength: 1 });
    expect(macs.withCacheBreakdown.attentionScores).toBe(16 * 8);
    expect(macs.withCacheBreakdown.attentionValues).toBe(16 * 8);
  });
});

describe('variantRequestMacs', () => {
  it('equals the plain SASRec count without a variant', () => {
    // L = 2, d = 50, 1 head, append 1 token to 200 cached ones: 70,200 MACs, plus 3,706 · 50 for scoring.
    const macs = variantRequestMacs('sasrec', { layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 }, { seenTokens: 200, cachedRows: 200, requestLength: 1 });
    expect(macs.withCache).toBe(70_200 + 3706 * 50);
  });

  it('rejects invalid kinds and counts', () => {
    const config = { layers: 2, hiddenSize: 16, heads: 2, itemCount: 40 };
    const request = { seenTokens: 4, cachedRows: 4, requestLength: 1 };
    expect(() => variantRequestMacs('gru4rec' as 'sasrec', config, request)).toThrow("variantRequestMacs: invalid kind: expected 'sasrec' or 'hstu', received 'gru4rec'.");
    expect(() => variantRequestMacs('sasrec', config, { ...request, cachedRows: 5 })).toThrow('variantRequestMacs: invalid request.cachedRows: expected an integer in [0, 4], received 5.');
    expect(() => variantRequestMacs('hstu', config, request)).toThrow(RangeError);
    expect(() => variantRequestMacs('sasrec', { ...config, beacon: { chunkSize: 4, beaconsPerChunk: 2 } }, { ...request, seenTokens: 6, chunkRows: 3 })).toThrow(
      'variantRequestMacs: invalid request.chunkRows: expected an integer in [0, 2], received 3.',
    );
    expect(() => lshBucketPairs('sasrec', config, { layers: [], seenTokens: 0, itemIds: new Int32Array(0) }, 1)).toThrow(RangeError);
  });
});

import { expectThrows } from './__fixtures__/reference';
import { SeededRandom } from './random';
import { hstuMacs, requestMacs, sasrecMacs } from './macs';
import type { AttentionModelConfig, InferencePhase, MacCount, MacTerm } from './macs';
import { invalidArgument } from './messages';

// An instrumented reference forward pass: plain loops over Float64Arrays that increment a
// counter, under the term's name, on every multiply-add of a matrix product. It is written
// independently of the closed-form counts in macs.ts, which must match it.

type Counter = Record<MacTerm, number>;

function newCounter(): Counter {
  return { projections: 0, attentionScores: 0, attentionValues: 0, ffn: 0, outputScoring: 0 };
}

function randomMatrix(random: SeededRandom, rows: number, columns: number): Float64Array {
  const matrix = new Float64Array(rows * columns); // [rows, columns], row-major
  for (let i = 0; i < matrix.length; i += 1) {
    matrix[i] = (random.nextUint32() / 2 ** 32 - 0.5) / Math.sqrt(rows);
  }
  return matrix;
}

/** y = x · W for x [inWidth] and W [inWidth, outWidth], one counted multiply-add at a time. */
function matVec(counter: Counter, term: MacTerm, x: Float64Array, w: Float64Array, inWidth: number, outWidth: number): Float64Array {
  const y = new Float64Array(outWidth); // [outWidth]
  for (let o = 0; o < outWidth; o += 1) {
    let sum = 0;
    for (let i = 0; i < inWidth; i += 1) {
      sum += x[i] * w[i * outWidth + o];
      counter[term] += 1;
    }
    y[o] = sum;
  }
  return y;
}

/** Dot product of a[aOffset..] and b[bOffset..] over `width` entries, counted. */
function dot(counter: Counter, term: MacTerm, a: Float64Array, aOffset: number, b: Float64Array, bOffset: number, width: number): number {
  let sum = 0;
  for (let i = 0; i < width; i += 1) {
    sum += a[aOffset + i] * b[bOffset + i];
    counter[term] += 1;
  }
  return sum;
}

/** Layer norm without affine parameters (element-wise, not counted). */
function layerNorm(x: Float64Array): Float64Array {
  let mean = 0;
  for (const value of x) {
    mean += value / x.length;
  }
  let variance = 0;
  for (const value of x) {
    variance += (value - mean) ** 2 / x.length;
  }
  return x.map((value) => (value - mean) / Math.sqrt(variance + 1e-6));
}

const silu = (z: number): number => z / (1 + Math.exp(-z));

interface Dims {
  layers: number;
  d: number;
  heads: number;
  kvHeads: number;
  dqk: number;
  dv: number;
  itemCount: number;
}

function dimsOf(config: AttentionModelConfig): Dims {
  return {
    layers: config.layers,
    d: config.hiddenSize,
    heads: config.heads,
    kvHeads: config.kvHeads ?? config.heads,
    dqk: config.dqk ?? config.hiddenSize / config.heads,
    dv: config.dv ?? config.hiddenSize / config.heads,
    itemCount: config.itemCount,
  };
}

/** Per-layer cache: one key row and one value row per token, all KV heads side by side. */
interface LayerCache {
  keys: Float64Array[]; // len × [kvHeads · dqk]
  values: Float64Array[]; // len × [kvHeads · dv]
}

/** A tiny model with a cache: `forward` appends tokens after the cached ones and returns the last output. */
interface ReferenceModel {
  forward(items: number[], cache: LayerCache[], counter: Counter): Float64Array;
  score(output: Float64Array, items: number[], counter: Counter): Float64Array;
  itemEmbedding: Float64Array; // [nItems + 1, d]
}

/** SASRec: softmax causal attention with Q/K/V/O projections and a point-wise FFN d → d → d. */
function referenceSasrec(dims: Dims, seed: number): ReferenceModel {
  const random = new SeededRandom(seed);
  const { layers, d, heads, kvHeads, dqk, dv } = dims;
  const itemEmbedding = randomMatrix(random, dims.itemCount + 1, d);
  const positionEmbedding = randomMatrix(random, 64, d);
  const weights = Array.from({ length: layers }, () => ({
    q: randomMatrix(random, d, heads * dqk),
    k: randomMatrix(random, d, kvHeads * dqk),
    v: randomMatrix(random, d, kvHeads * dv),
    o: randomMatrix(random, heads * dv, d),
    ffn1: randomMatrix(random, d, d),
    ffn2: randomMatrix(random, d, d),
  }));
  const groupSize = heads / kvHeads;

  function forward(items: number[], cache: LayerCache[], counter: Counter): Float64Array {
    // Embed the new tokens after the cached ones.
    const start = cache[0].keys.length;
    let hidden = items.map((item, t) => {
      const x = new Float64Array(d); // [d]
      for (let i = 0; i < d; i += 1) {
        x[i] = itemEmbedding[item * d + i] * Math.sqrt(d) + positionEmbedding[(start + t) * d + i];
      }
      return x;
    });

    // Run each block over every new token.
    for (let l = 0; l < layers; l += 1) {
      const w = weights[l];
      const normed = hidden.map(layerNorm);
      const queries = normed.map((x) => matVec(counter, 'projections', x, w.q, d, heads * dqk));
      for (const x of normed) {
        cache[l].keys.push(matVec(counter, 'projections', x, w.k, d, kvHeads * dqk));
        cache[l].values.push(matVec(counter, 'projections', x, w.v, d, kvHeads * dv));
      }
      hidden = hidden.map((residual, t) => {
        const position = start + t;
        const attended = new Float64Array(heads * dv); // [heads · dv]
        for (let h = 0; h < heads; h += 1) {
          const g = Math.floor(h / groupSize);
          const logits = new Float64Array(position + 1); // [position + 1]
          for (let j = 0; j <= position; j += 1) {
            logits[j] = dot(counter, 'attentionScores', queries[t], h * dqk, cache[l].keys[j], g * dqk, dqk) / Math.sqrt(dqk);
          }
          const max = Math.max(...logits);
          const weightsOfKeys = logits.map((z) => Math.exp(z - max));
          const total = weightsOfKeys.reduce((a, b) => a + b, 0);
          for (let j = 0; j <= position; j += 1) {
            for (let c = 0; c < dv; c += 1) {
              attended[h * dv + c] += (weightsOfKeys[j] / total) * cache[l].values[j][g * dv + c];
              counter.attentionValues += 1;
            }
          }
        }
        const projected = matVec(counter, 'projections', attended, w.o, heads * dv, d);
        const afterAttention = residual.map((value, i) => value + projected[i]);
        const inner = matVec(counter, 'ffn', layerNorm(afterAttention), w.ffn1, d, d).map((z) => Math.max(z, 0));
        const outer = matVec(counter, 'ffn', inner, w.ffn2, d, d);
        return afterAttention.map((value, i) => value + outer[i]);
      });
    }
    return layerNorm(hidden[hidden.length - 1]);
  }

  return { forward, score: scoreFunction(itemEmbedding, d), itemEmbedding };
}

/** HSTU: fused SiLU projection to U, Q, K, V, point-wise SiLU attention with a relative bias, output projection. */
function referenceHstu(dims: Dims, seed: number): ReferenceModel {
  const random = new SeededRandom(seed);
  const { layers, d, heads, kvHeads, dqk, dv } = dims;
  const maxLength = 64;
  const itemEmbedding = randomMatrix(random, dims.itemCount + 1, d);
  const positionEmbedding = randomMatrix(random, maxLength, d);
  const fusedWidth = heads * dv + heads * dqk + kvHeads * dqk + kvHeads * dv;
  const weights = Array.from({ length: layers }, () => ({
    f1: randomMatrix(random, d, fusedWidth),
    f2: randomMatrix(random, heads * dv, d),
    relativeBias: randomMatrix(random, 1, maxLength),
  }));
  const groupSize = heads / kvHeads;

  function forward(items: number[], cache: LayerCache[], counter: Counter): Float64Array {
    // Embed the new tokens after the cached ones.
    const start = cache[0].keys.length;
    let hidden = items.map((item, t) => {
      const x = new Float64Array(d); // [d]
      for (let i = 0; i < d; i += 1) {
        x[i] = itemEmbedding[item * d + i] * Math.sqrt(d) + positionEmbedding[(start + t) * d + i];
      }
      return x;
    });

    // Run each layer over every new token.
    for (let l = 0; l < layers; l += 1) {
      const w = weights[l];
      const fused = hidden.map((x) => matVec(counter, 'projections', layerNorm(x), w.f1, d, fusedWidth).map(silu));
      const gates = fused.map((row) => row.slice(0, heads * dv)); // U: [heads · dv]
      const queries = fused.map((row) => row.slice(heads * dv, heads * (dv + dqk))); // Q: [heads · dqk]
      for (const row of fused) {
        const kvStart = heads * (dv + dqk);
        cache[l].keys.push(row.slice(kvStart, kvStart + kvHeads * dqk));
        cache[l].values.push(row.slice(kvStart + kvHeads * dqk));
      }
      hidden = hidden.map((residual, t) => {
        const position = start + t;
        const attended = new Float64Array(heads * dv); // [heads · dv]
        for (let h = 0; h < heads; h += 1) {
          const g = Math.floor(h / groupSize);
          for (let j = 0; j <= position; j += 1) {
            const logit = dot(counter, 'attentionScores', queries[t], h * dqk, cache[l].keys[j], g * dqk, dqk);
            const weight = silu(logit + w.relativeBias[position - j]) / maxLength;
            for (let c = 0; c < dv; c += 1) {
              attended[h * dv + c] += weight * cache[l].values[j][g * dv + c];
              counter.attentionValues += 1;
            }
          }
        }
        const gated = layerNorm(attended).map((value, i) => value * gates[t][i]);
        const projected = matVec(counter, 'projections', gated, w.f2, heads * dv, d);
        return residual.map((value, i) => value + projected[i]);
      });
    }
    return layerNorm(hidden[hidden.length - 1]);
  }

  return { forward, score: scoreFunction(itemEmbedding, d), itemEmbedding };
}

function scoreFunction(itemEmbedding: Float64Array, d: number): ReferenceModel['score'] {
  return (output, items, counter) => Float64Array.from(items, (item) => dot(counter, 'outputScoring', output, 0, itemEmbedding, item * d, d));
}

function emptyCache(layers: number): LayerCache[] {
  return Array.from({ length: layers }, () => ({ keys: [], values: [] }));
}

function randomItems(random: SeededRandom, count: number, itemCount: number): number[] {
  return Array.from({ length: count }, () => 1 + random.nextInt(itemCount));
}

/** Asserts every term and the total of an analytical count against a counted one, within 1 %. */
function expectWithinOnePercent(analytical: MacCount, counted: Counter): void {
  for (const term of Object.keys(counted) as MacTerm[]) {
    expect({ term, relativeError: relativeError(analytical.breakdown[term], counted[term]) }).toEqual({ term, relativeError: 0 });
  }
  const countedTotal = Object.values(counted).reduce((a, b) => a + b, 0);
  expect(relativeError(analytical.total, countedTotal)).toBeLessThanOrEqual(0.01);
}

function relativeError(analytical: number, counted: number): number {
  return counted === 0 ? Math.abs(analytical) : Math.abs(analytical - counted) / counted;
}

const itemCount = 20;

const shapes: Record<'sasrec' | 'hstu', AttentionModelConfig[]> = {
  sasrec: [
    { layers: 1, hiddenSize: 8, heads: 1, itemCount },
    { layers: 2, hiddenSize: 12, heads: 4, kvHeads: 2, itemCount },
    { layers: 3, hiddenSize: 10, heads: 2, dqk: 3, dv: 4, itemCount },
  ],
  hstu: [
    { layers: 1, hiddenSize: 6, heads: 1, itemCount },
    { layers: 2, hiddenSize: 8, heads: 2, dqk: 3, dv: 5, itemCount },
    { layers: 2, hiddenSize: 12, heads: 4, kvHeads: 1, itemCount },
  ],
};

const architectures = [
  { name: 'sasrec', macs: sasrecMacs, reference: referenceSasrec },
  { name: 'hstu', macs: hstuMacs, reference: referenceHstu },
] as const;

describe.each(architectures)('$name MAC model against counted operations', ({ name, macs, reference }) => {
  it.each(shapes[name].map((config) => [JSON.stringify(config), config] as const))('matches prefill, append and scoring for %s', (_, config) => {
    const dims = dimsOf(config);
    const random = new SeededRandom(7);
    const model = reference(dims, 11);
    const history = randomItems(random, 9, itemCount);
    const request = randomItems(random, 3, itemCount);

    // Prefill the history into an empty cache.
    const cache = emptyCache(dims.layers);
    const prefillCounter = newCounter();
    model.forward(history, cache, prefillCounter);
    expectWithinOnePercent(macs(config, { kind: 'prefill', length: 9 }), prefillCounter);

    // Append the request against the 9 cached tokens.
    const appendCounter = newCounter();
    const appended = model.forward(request, cache, appendCounter);
    expectWithinOnePercent(macs(config, { kind: 'append', cached: 9, appended: 3 }), appendCounter);

    // A full forward pass over history + request gives the same output and the full-forward count.
    const fullCounter = newCounter();
    const full = model.forward([...history, ...request], emptyCache(dims.layers), fullCounter);
    expectWithinOnePercent(macs(config, { kind: 'full-forward', length: 12 }), fullCounter);
    for (let i = 0; i < dims.d; i += 1) {
      expect(appended[i]).toBeCloseTo(full[i], 10);
    }

    // Score every item, then 5 candidates.
    const scoreAllCounter = newCounter();
    model.score(full, Array.from({ length: itemCount }, (_, i) => i + 1), scoreAllCounter);
    expectWithinOnePercent(macs(config, { kind: 'score-all' }), scoreAllCounter);
    const candidateCounter = newCounter();
    model.score(full, [3, 5, 8, 13, 1], candidateCounter);
    expectWithinOnePercent(macs(config, { kind: 'score-candidates', count: 5 }), candidateCounter);
  });
});

describe('sasrecMacs', () => {
  it('sums the documented terms for ML-1M dims', () => {
    // L = 2, d = 50, 1 head, append 1 token after 200:
    // projections 2 · (50·50 + 50·100 + 50·50) = 20,000; pairs 200 + 1 = 201;
    // scores = values = 2 · 201 · 50 = 20,100; FFN 2 · 2 · 2,500 = 10,000.
    const count = sasrecMacs({ layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 }, { kind: 'append', cached: 200, appended: 1 });
    expect(count.breakdown).toEqual({ projections: 20000, attentionScores: 20100, attentionValues: 20100, ffn: 10000, outputScoring: 0 });
    expect(count.total).toBe(70200);
  });

  it('grows quadratically in full-forward length', () => {
    // pairs(n) = n(n + 1)/2: 20,100 at n = 200 and 80,200 at n = 400.
    const config = { layers: 1, hiddenSize: 4, heads: 1, itemCount: 10 };
    expect(sasrecMacs(config, { kind: 'full-forward', length: 200 }).breakdown.attentionScores).toBe(20100 * 4);
    expect(sasrecMacs(config, { kind: 'full-forward', length: 400 }).breakdown.attentionScores).toBe(80200 * 4);
  });

  it('rejects invalid configs and phases', () => {
    const config = { layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 };
    expectThrows(() => sasrecMacs({ ...config, layers: 0 }, { kind: 'score-all' }), RangeError, invalidArgument('sasrecMacs', 'config.layers', 'a positive integer', 0));
    expectThrows(
      () => sasrecMacs({ ...config, heads: 4, kvHeads: 3, hiddenSize: 48 }, { kind: 'score-all' }),
      RangeError,
      invalidArgument('sasrecMacs', 'config.kvHeads', 'a divisor of config.heads (4)', 3),
    );
    expectThrows(
      () => sasrecMacs({ ...config, heads: 3 }, { kind: 'score-all' }),
      RangeError,
      invalidArgument('sasrecMacs', 'config.hiddenSize', 'a multiple of config.heads (3) when dqk or dv is omitted', 50),
    );
    expectThrows(
      () => sasrecMacs(config, { kind: 'append', cached: -1, appended: 1 }),
      RangeError,
      invalidArgument('sasrecMacs', 'phase.cached', 'an integer in [0, 2147483647]', -1),
    );
    expectThrows(
      () => sasrecMacs(config, { kind: 'decode' } as unknown as InferencePhase),
      RangeError,
      invalidArgument('sasrecMacs', 'phase.kind', "'prefill', 'append', 'full-forward', 'score-all' or 'score-candidates'", 'decode'),
    );
  });
});

describe('hstuMacs', () => {
  it('counts the fused projection and no FFN', () => {
    // L = 2, d = 50, 1 head, dqk = dv = 50, append 1 after 200:
    // projections 2 · (50 · (2·50 + 2·50) + 50 · 50) = 25,000; scores = values = 20,100.
    const count = hstuMacs({ layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 }, { kind: 'append', cached: 200, appended: 1 });
    expect(count.breakdown).toEqual({ projections: 25000, attentionScores: 20100, attentionValues: 20100, ffn: 0, outputScoring: 0 });
    expect(count.total).toBe(65200);
  });
});

describe('requestMacs', () => {
  const model = { architecture: 'hstu', config: { layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 } } as const;

  it('compares an append with a recompute', () => {
    // With cache: append 1 after 100 cached: projections 2 · 12,500 = 25,000; pairs 101;
    // scores = values = 2 · 101 · 50 = 10,100; scoring 3,706 · 50 = 185,300. Total 230,500.
    // Without: full forward over 201 tokens: projections 201 · 25,000 = 5,025,000;
    // pairs 201 · 202 / 2 = 20,301, scores = values = 2 · 20,301 · 50 = 2,030,100;
    // plus scoring 185,300. Total 9,270,500.
    const macs = requestMacs(model, {}, 200, 100);
    expect(macs.withCache).toBe(230500);
    expect(macs.withoutCache).toBe(9270500);
    expect(macs.withCacheBreakdown.outputScoring).toBe(185300);
    // Prefill of 200: 200 · 25,000 + 2 · 2 · 50 · 20,100 = 5,000,000 + 4,020,000.
    expect(macs.prefill).toBe(9020000);
  });

  it('scores candidates and appends several request tokens', () => {
    // 2 request tokens after 10 cached: pairs 2 · 10 + 3 = 23; projections 2 · 2 · 12,500 = 50,000;
    // scores = values = 2 · 23 · 50 = 2,300; 100 candidates · 50 = 5,000. Total 59,600.
    const macs = requestMacs(model, { requestLength: 2, scoring: { kind: 'score-candidates', count: 100 } }, 10, 10);
    expect(macs.withCache).toBe(59600);
  });

  it('rejects more cached tokens than history', () => {
    expectThrows(() => requestMacs(model, {}, 10, 11), RangeError, invalidArgument('requestMacs', 'cachedTokens', 'an integer in [0, 10]', 11));
    expectThrows(
      () => requestMacs({ architecture: 'gru', config: model.config } as unknown as typeof model, {}, 10, 10),
      RangeError,
      invalidArgument('requestMacs', 'model.architecture', "'sasrec' or 'hstu'", 'gru'),
    );
  });
});

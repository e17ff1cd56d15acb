import { expectThrows } from './__fixtures__/reference';
import { kvCacheBytes, planFleetCache } from './kv-capacity';
import { invalidArgument } from './messages';

describe('kvCacheBytes', () => {
  it('uses separate key and value widths (HSTU)', () => {
    // L = 2, H = 2, d_qk = 32, d_v = 64, T = 200, float32:
    // keys 2 · 2 · 32 · 200 · 4 = 102,400 B; values 2 · 2 · 64 · 200 · 4 = 204,800 B.
    const layer = { kvHeads: 2, keyDim: 32, valueDim: 64 };
    const bytes = kvCacheBytes({ layers: [layer, layer], tokens: 200 });
    expect(bytes.keyBytes).toBe(102400);
    expect(bytes.valueBytes).toBe(204800);
    expect(bytes.totalBytes).toBe(307200);
    // 307,200 / 200 = 1,536 B per token
    expect(bytes.bytesPerToken).toBe(1536);
  });

  it('sizes a SASRec cache', () => {
    // L = 2, H = 1, d = 64, T = 200, float32: 2 · 1 · (64 + 64) · 200 · 4 = 204,800 B.
    const layer = { kvHeads: 1, keyDim: 64, valueDim: 64 };
    expect(kvCacheBytes({ layers: [layer, layer], tokens: 200 }).totalBytes).toBe(204800);
  });

  it('counts only KV heads under grouped-query attention', () => {
    // 8 query heads sharing 2 KV heads of width 16, 1 layer, 100 tokens, float16:
    // 100 · 2 · (16 + 16) · 2 = 12,800 B, not 8 / 2 = 4 times more.
    const bytes = kvCacheBytes({ layers: [{ kvHeads: 2, keyDim: 16, valueDim: 16 }], tokens: 100, bytesPerElement: 2 });
    expect(bytes.totalBytes).toBe(12800);
  });

  it('adds per-layer metadata and differing layer widths', () => {
    // Layer 1: 1 · (8 + 8) · 10 · 4 = 640 B; layer 2: 2 · (8 + 4) · 10 · 4 = 960 B;
    // metadata: 2 layers · 10 tokens · 4 B (int32 positions) = 80 B. Total 1,680 B.
    const bytes = kvCacheBytes({
      layers: [
        { kvHeads: 1, keyDim: 8, valueDim: 8 },
        { kvHeads: 2, keyDim: 8, valueDim: 4 },
      ],
      tokens: 10,
      metadataBytesPerToken: 4,
    });
    expect(bytes).toEqual({ keyBytes: 320 + 640, valueBytes: 320 + 320, metadataBytes: 80, totalBytes: 1680, bytesPerToken: 168 });
  });

  it('returns zero bytes for an empty cache', () => {
    expect(kvCacheBytes({ layers: [{ kvHeads: 1, keyDim: 4, valueDim: 4 }], tokens: 0 })).toMatchObject({ totalBytes: 0, bytesPerToken: 0 });
  });

  it('rejects invalid shapes', () => {
    expectThrows(() => kvCacheBytes({ layers: [], tokens: 1 }), RangeError, invalidArgument('kvCacheBytes', 'shape.layers', 'at least one layer', []));
    expectThrows(
      () => kvCacheBytes({ layers: [{ kvHeads: 0, keyDim: 4, valueDim: 4 }], tokens: 1 }),
      RangeError,
      invalidArgument('kvCacheBytes', 'shape.layers[0].kvHeads', 'a positive integer', 0),
    );
    expectThrows(
      () => kvCacheBytes({ layers: [{ kvHeads: 1, keyDim: 4, valueDim: 4 }], tokens: 2.5 }),
      RangeError,
      invalidArgument('kvCacheBytes', 'shape.tokens', `an integer in [0, ${Number.MAX_SAFE_INTEGER}]`, 2.5),
    );
  });
});

describe('planFleetCache', () => {
  it('scales one user to the fleet', () => {
    // 1,000,000 users · 200 tokens · 1,024 B = 204,800,000,000 B = 190.73 GiB
    const plan = planFleetCache({ users: 1e6, meanTokens: 200, bytesPerToken: 1024 });
    expect(plan.bytesPerUser).toBe(204800);
    expect(plan.totalBytes).toBe(204800000000);
    expect(plan.totalGiB).toBeCloseTo(190.7349, 4);
  });

  it('rejects negative sizes', () => {
    expectThrows(() => planFleetCache({ users: -1, meanTokens: 1, bytesPerToken: 1 }), RangeError, invalidArgument('planFleetCache', 'input.users', 'a finite number ≥ 0', -1));
  });
});

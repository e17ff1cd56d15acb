import { noStats } from './__fixtures__/helpers';
import { cacheBytes } from './kv-cache';
import { silentLogger } from './logger';
import { float32StorageBytes } from './storage/float32-storage';
import { SnapKVStrategy } from './strategies/snapkv';
import { UniformQuantizationStrategy } from './strategies/uniform-quantization';
import { WindowStrategy } from './strategies/window';
import { createRandomCache, createSyntheticStats } from './testing/random-cache';

// Headline compression rates must include every stored buffer: quantisation scales and zero
// points, and the positions of kept tokens.
describe('byte accounting', () => {
  // One user: T = 200 tokens, d = 64, 2 layers, 1 head, K and V.
  const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 200, dKey: 64, dValue: 64, seed: 22 });
  const fullBytes = 2 * 2 * 200 * 64 * 4; // layers · (K, V) · T · d · 4 B

  it('charges the float32 baseline', () => {
    expect(fullBytes).toBe(204800);
    expect(cacheBytes(cache)).toBe(204800);
  });

  it('includes quantisation scales and zero points', () => {
    // 2-bit codes: 51,200 numbers · 2 / 8 = 12,800 B; groups of 32: 1,600 · (2 + 2) B = 6,400 B.
    const bytes = cacheBytes(new UniformQuantizationStrategy({ bits: 2, groupSize: 32 }).compress(cache));
    expect(bytes).toBe(19200);
    expect((fullBytes / bytes).toFixed(2)).toBe('10.67'); // not 16
  });

  it('includes the positions of kept tokens', () => {
    // SnapKV keeps 50 of 200 rows: 2 layers · 50 · (64 + 64) · 4 B = 51,200 B, plus one int32
    // position per kept row per layer: 2 · 50 · 4 = 400 B.
    const stats = createSyntheticStats(cache, { windowSize: 8, seed: 23 });
    const compressed = new SnapKVStrategy({ compressionRatio: 0.75, window: 8 }).compress(cache, { stats, logger: silentLogger });
    expect(compressed.layers.every((layer) => layer.heads[0].positions?.length === 50)).toBe(true);
    const bytes = cacheBytes(compressed);
    expect(bytes).toBe(51200 + 400);
    expect((fullBytes / bytes).toFixed(2)).toBe('3.97'); // not 4
  });

  it('charges a contiguous window no positions', () => {
    expect(cacheBytes(new WindowStrategy({ compressionRatio: 0.75 }).compress(cache, noStats))).toBe(51200);
  });

  it('takes K and V widths per model', () => {
    // HSTU: 2 layers, 2 heads, d_qk = 32, d_v = 64, 200 tokens:
    // K = 2 · 2 · 200 · 32 · 4 = 102,400 B, V = 2 · 2 · 200 · 64 · 4 = 204,800 B.
    const hstu = createRandomCache({ layers: 2, kvHeads: 2, len: 200, dKey: 32, dValue: 64, seed: 24 });
    expect(cacheBytes(hstu)).toBe(102400 + 204800);
    expect(2 * 2 * float32StorageBytes(200, 32)).toBe(102400);
    // SASRec: 2 layers, 1 head, d = 64: 204,800 B.
    const sasrec = createRandomCache({ layers: 2, kvHeads: 1, len: 200, dKey: 64, dValue: 64, seed: 25 });
    expect(cacheBytes(sasrec)).toBe(204800);
  });
});

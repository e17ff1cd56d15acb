import { keptPositions, noStats } from '../__fixtures__/helpers';
import { cacheBytes, type KVCache } from '../kv-cache';
import { silentLogger } from '../logger';
import { invalidArgument } from '../messages';
import { ConcatStorage } from '../storage/concat-storage';
import { Float32Storage } from '../storage/float32-storage';
import { QuantizedStorage } from '../storage/quantized-storage';
import type { CompressionStrategy } from '../strategy';
import { createRandomCache, createSyntheticStats } from '../testing/random-cache';
import { ChainStrategy } from './chain';
import { createStrategy } from './index';
import { KiviStrategy } from './kivi';
import { SnapKVStrategy } from './snapkv';
import { StreamingLLMStrategy } from './streaming-llm';
import { UniformQuantizationStrategy } from './uniform-quantization';
import { WindowStrategy } from './window';

describe('ChainStrategy', () => {
  // One user: T = 200 tokens, d = 64, 2 layers, 1 head, K and V.
  const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 200, dKey: 64, dValue: 64, seed: 31 });
  const fullBytes = 2 * 2 * 200 * 64 * 4; // layers · (K, V) · T · d · 4 B = 204,800 B

  it('charges window + INT8 for the kept codes and groups only', () => {
    // The window keeps max(1, ⌊200 · (1 − 0.75)⌋) = 50 contiguous rows: no positions.
    // INT8 per token, groups of 32 channels, per block of 50 rows × 64 channels:
    // codes 50 · 64 · 8 / 8 = 3,200 B; groups 50 · ⌈64 / 32⌉ = 100, each 2 + 2 B = 400 B.
    // 2 layers · (K, V) · (3,200 + 400) B = 14,400 B.
    const compressed = createStrategy('window+int8', { compressionRatio: 0.75 }).compress(cache, noStats);
    expect(compressed.layers.map((layer) => layer.heads[0].positions)).toEqual([null, null]);
    expect(cacheBytes(compressed)).toBe(2 * 2 * (3200 + 400));
    expect((fullBytes / cacheBytes(compressed)).toFixed(2)).toBe('14.22'); // 204,800 / 14,400
  });

  it('charges StreamingLLM + INT4 for codes, groups and positions', () => {
    // StreamingLLM keeps the 4 sinks and the 46 newest of 200 rows: not contiguous, so one
    // int32 position per kept row: 50 · 4 = 200 B per layer.
    // INT4 per token, groups of 32: codes 50 · 64 · 4 / 8 = 1,600 B; groups 100 · 4 B = 400 B.
    // 2 layers · ((K, V) · (1,600 + 400) B + 200 B) = 2 · 4,200 B = 8,400 B.
    const compressed = createStrategy('streaming-llm+int4', { compressionRatio: 0.75 }).compress(cache, noStats);
    const expectedPositions = [0, 1, 2, 3, ...Array.from({ length: 46 }, (_, i) => 154 + i)];
    expect(keptPositions(compressed)).toEqual([[expectedPositions], [expectedPositions]]);
    expect(cacheBytes(compressed)).toBe(2 * (2 * (1600 + 400) + 200));
    expect((fullBytes / cacheBytes(compressed)).toFixed(2)).toBe('24.38'); // 204,800 / 8,400
  });

  it('charges SnapKV + KIVI for the float32 residual', () => {
    // SnapKV keeps 50 rows; KIVI (2 bits, G = 32, R = 32) then quantises
    // keys: ⌊(50 − 32) / 32⌋ · 32 = 0 rows, so 50 · 64 · 4 = 12,800 B stay in float32;
    // values: 50 − 32 = 18 rows, codes 18 · 64 · 2 / 8 = 288 B, groups 18 · 2 · 4 B = 144 B,
    // and 32 float32 rows 32 · 64 · 4 = 8,192 B.
    // Per layer: 12,800 + 288 + 144 + 8,192 + 50 · 4 B of positions = 21,624 B; 2 layers 43,248 B.
    const stats = createSyntheticStats(cache, { windowSize: 16, seed: 32 });
    const compressed = createStrategy('snapkv+kivi', { compressionRatio: 0.75 }).compress(cache, { stats, logger: silentLogger });
    expect(compressed.layers.every((layer) => layer.heads[0].positions?.length === 50)).toBe(true);
    expect(cacheBytes(compressed)).toBe(2 * (12800 + 288 + 144 + 8192 + 200));
    const values = compressed.layers[0].heads[0].values;
    expect(values).toBeInstanceOf(ConcatStorage);
    expect((values as ConcatStorage).parts.map((part) => [part.constructor.name, part.rows])).toEqual([
      [QuantizedStorage.name, 18],
      [Float32Storage.name, 32],
    ]);
  });

  it('keeps the tokens of its pruning part in its precision encoding', () => {
    const stats = createSyntheticStats(cache, { windowSize: 8, seed: 33 });
    const context = { stats, logger: silentLogger };
    const chain = new ChainStrategy({ pruning: new SnapKVStrategy({ compressionRatio: 0.5, window: 8 }), precision: new UniformQuantizationStrategy({ bits: 8 }) });
    const pruned = new SnapKVStrategy({ compressionRatio: 0.5, window: 8 }).compress(cache, context);
    const expected = new UniformQuantizationStrategy({ bits: 8 }).compress(pruned);
    const compressed = chain.compress(cache, context);
    expect(keptPositions(compressed)).toEqual(keptPositions(pruned));
    expect(Array.from(compressed.layers[1].heads[0].keys.decode())).toEqual(Array.from(expected.layers[1].heads[0].keys.decode()));
    expect(chain.id).toBe('snapkv+int8');
  });

  it('records the ratio and the prefixed parameters of its parts', () => {
    const chain = new ChainStrategy({ pruning: new WindowStrategy({ compressionRatio: 0.5 }), precision: new KiviStrategy({ bits: 4 }) });
    expect(chain.params).toEqual({ compressionRatio: 0.5, 'precision.bits': 4, 'precision.groupSize': 32, 'precision.residual': 32 });
    expect(createStrategy('snapkv+kivi', { compressionRatio: 0.5 }).params).toEqual({
      compressionRatio: 0.5,
      'pruning.window': 16,
      'pruning.kernelSize': 5,
      'pruning.pooling': 'avg',
      'precision.bits': 2,
      'precision.groupSize': 32,
      'precision.residual': 32,
    });
  });

  it('quantises every token at ratio 0', () => {
    // 2 layers · (K, V) · (codes 200 · 64 B + groups 200 · 2 · 4 B) = 4 · (12,800 + 1,600) B.
    const compressed = createStrategy('window+int8', { compressionRatio: 0 }).compress(cache, noStats);
    expect(compressed).not.toBe(cache);
    expect(compressed.layers[0].heads[0].keys.rows).toBe(200);
    expect(cacheBytes(compressed)).toBe(4 * (12800 + 1600));
  });

  it('compresses to an absolute token budget', () => {
    // compressToTokens(…, 10): the window keeps 10 contiguous rows, INT8 codes 10 · 64 B and
    // 10 · 2 groups of 4 B per block: 2 layers · (K, V) · (640 + 80) B = 2,880 B.
    const chain = createStrategy('window+int8', { compressionRatio: 0.5 }) as ChainStrategy;
    const compressed = chain.compressToTokens(cache, noStats, 10);
    expect(keptPositions(compressed)).toEqual([[Array.from({ length: 10 }, (_, i) => 190 + i)], [Array.from({ length: 10 }, (_, i) => 190 + i)]]);
    expect(cacheBytes(compressed)).toBe(4 * (640 + 80));
  });

  it('rejects pruning after quantisation', () => {
    // Streaming would prune a cache that is already quantised: gatherHead rejects it.
    const chain = createStrategy('window+int8', { compressionRatio: 0.5 }) as ChainStrategy;
    const quantized: KVCache = chain.compress(cache, noStats);
    expect(() => chain.compress(quantized, noStats)).toThrow(TypeError);
  });

  it('rejects parts of the wrong kind', () => {
    const precision = new UniformQuantizationStrategy({ bits: 8 });
    expect(() => new ChainStrategy({ pruning: precision as unknown as SnapKVStrategy, precision })).toThrow(
      new TypeError(invalidArgument('ChainStrategy', 'pruning', 'a token strategy with compress and compressToTokens', 'strategy "int8"')),
    );
    expect(() => new ChainStrategy({ pruning: new WindowStrategy({ compressionRatio: 0.5 }), precision: null as unknown as CompressionStrategy })).toThrow(
      new TypeError(invalidArgument('ChainStrategy', 'precision', 'a strategy with compress', 'null')),
    );
  });

  it('uses StreamingLLM with its default sinks', () => {
    const chain = createStrategy('streaming-llm+int4', { compressionRatio: 0.5 }) as ChainStrategy;
    expect(chain.pruning).toBeInstanceOf(StreamingLLMStrategy);
    expect(chain.params['pruning.sinks']).toBe(4);
  });
});

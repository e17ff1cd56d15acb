import { expectThrows } from './__fixtures__/reference';
import { DEFAULT_CURVE_LENGTHS, complexityCurve, methodCacheBytes } from './complexity';
import { requestMacs } from './macs';
import { invalidArgument } from './messages';

// 2 layers, 1 head of width 64 for keys and values.
const width64 = { layers: 2, hiddenSize: 64, heads: 1, itemCount: 100 };

describe('methodCacheBytes', () => {
  it('sizes a float32 full cache', () => {
    // 2 layers · 1 head · 200 tokens · (64 + 64) · 4 B = 204,800 B.
    const bytes = methodCacheBytes(width64, 200);
    expect(bytes).toEqual({ keptTokens: 200, dataBytes: 204800, quantizationBytes: 0, positionBytes: 0, timestampBytes: 0, totalBytes: 204800 });
  });

  it('charges scales and zero points of 2-bit codes', () => {
    // 51,200 numbers · 2 bits / 8 = 12,800 B of codes; 51,200 / 32 = 1,600 groups · 4 B = 6,400 B.
    // 19,200 B in all: 204,800 / 19,200 = 10.67×, not 16×.
    const bytes = methodCacheBytes(width64, 200, { bits: 2, group: 32 });
    expect(bytes.dataBytes).toBe(12800);
    expect(bytes.quantizationBytes).toBe(6400);
    expect(bytes.totalBytes).toBe(19200);
  });

  it('groups keys per channel', () => {
    // Keys per channel: ⌈200 / 32⌉ = 7 groups · 64 channels = 448 groups per layer.
    // Values per token: 200 · ⌈64 / 32⌉ = 400 groups per layer. 2 · (448 + 400) · 4 B = 6,784 B.
    const bytes = methodCacheBytes(width64, 200, { bits: 4, group: 32, keyAxis: 'per-channel' });
    expect(bytes.quantizationBytes).toBe(6784);
    // Codes: 51,200 · 4 / 8 = 25,600 B.
    expect(bytes.dataBytes).toBe(25600);
  });

  it('keeps max(1, floor(len · (1 − r))) tokens with positions', () => {
    // 100 · (1 − 0.9) = 9.999999999999998 in float64 must keep 10, not 9.
    expect(methodCacheBytes(width64, 100, { ratio: 0.9 }).keptTokens).toBe(10);
    // 2 · 0.1 = 0.2 floors to 0, and the floor of 1 keeps one token.
    expect(methodCacheBytes(width64, 2, { ratio: 0.9 }).keptTokens).toBe(1);
    expect(methodCacheBytes(width64, 0, { ratio: 0.5 }).totalBytes).toBe(0);
    // 200 · 0.25 = 50 kept: data 2 · 50 · 128 · 4 = 51,200 B; positions 2 · 50 · 4 = 400 B.
    const bytes = methodCacheBytes(width64, 200, { ratio: 0.75 });
    expect(bytes.dataBytes).toBe(51200);
    expect(bytes.positionBytes).toBe(400);
    expect(bytes.totalBytes).toBe(51600);
  });

  it('stores no positions for contiguous tokens', () => {
    expect(methodCacheBytes(width64, 200, { ratio: 0.75, contiguous: true }).positionBytes).toBe(0);
  });

  it('counts float16 elements and timestamps per KV head', () => {
    // 4 heads sharing 2 KV heads of width 8, 1 layer, 10 tokens:
    // float16 data 2 · 10 · (8 + 8) · 2 B = 640 B; timestamps 2 · 10 · 8 B = 160 B.
    const config = { layers: 1, hiddenSize: 32, heads: 4, kvHeads: 2, itemCount: 5 };
    const bytes = methodCacheBytes(config, 10, { bits: 16, timestamps: true });
    expect(bytes.dataBytes).toBe(640);
    expect(bytes.timestampBytes).toBe(160);
    expect(bytes.totalBytes).toBe(800);
  });

  it('rejects invalid methods', () => {
    expectThrows(() => methodCacheBytes(width64, 10, { ratio: 1 }), RangeError, invalidArgument('methodCacheBytes', 'method.ratio', 'a fraction of tokens removed in [0, 1)', 1));
    expectThrows(
      () => methodCacheBytes(width64, 10, { bits: 4 }),
      RangeError,
      invalidArgument('methodCacheBytes', 'method.group', 'a group size (a positive integer) for 4-bit codes', undefined),
    );
    expectThrows(
      () => methodCacheBytes(width64, 10, { bits: 12 }),
      RangeError,
      invalidArgument('methodCacheBytes', 'method.bits', '32 (float32), 16 (float16) or an integer code width in [1, 8]', 12),
    );
    expectThrows(
      () => methodCacheBytes(width64, 10, { bits: 8, group: 8, valueAxis: 'per-head' as 'per-token' }),
      RangeError,
      invalidArgument('methodCacheBytes', 'method.valueAxis', "'per-token' or 'per-channel'", 'per-head'),
    );
    expectThrows(() => methodCacheBytes(width64, 1.5), RangeError, invalidArgument('methodCacheBytes', 'length', `an integer in [0, ${Number.MAX_SAFE_INTEGER}]`, 1.5));
  });
});

describe('complexityCurve', () => {
  const sasrec = { layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 };

  it('covers 1 to 16,384 tokens by default', () => {
    const curve = complexityCurve({ model: 'sasrec', config: sasrec });
    expect(curve.map((point) => point.length)).toEqual([...DEFAULT_CURVE_LENGTHS]);
    expect(DEFAULT_CURVE_LENGTHS[DEFAULT_CURVE_LENGTHS.length - 1]).toBe(16384);

    // Float32 bytes: 2 layers · (50 + 50) · 4 B = 800 B per token, so 16,384 · 800 = 13,107,200 B.
    const last = curve[curve.length - 1];
    expect(last.bytesPerUser).toBe(13107200);
    for (const point of curve) {
      expect(point.bytesPerUser).toBe(point.length * 800);
    }
  });

  it('grows cached MACs linearly and recompute quadratically', () => {
    // Doubling the length from 8,192 to 16,384 adds 8,192 pairs per layer to the append
    // (2 · 8,192 · 100 = 1,638,400 MACs) but roughly quadruples the recompute's attention.
    const [half, full] = complexityCurve({ model: 'sasrec', config: sasrec, lengths: [8192, 16384] });
    expect(full.macsPerRequest - half.macsPerRequest).toBe(2 * 8192 * 100);
    expect(full.macsWithoutCache / half.macsWithoutCache).toBeGreaterThan(3);
    expect(full.macsWithoutCache / full.macsPerRequest).toBeGreaterThan(1000);
  });

  it('appends against the kept tokens of a method', () => {
    const model = { architecture: 'hstu', config: sasrec } as const;
    const [point] = complexityCurve({ model: 'hstu', config: sasrec, lengths: [1000], method: { ratio: 0.75, bits: 4, group: 25 } });
    // Kept 250 tokens: codes 2 · 250 · 100 · 4 / 8 = 25,000 B; groups 2 · 250 · 2 · 2 = 2,000 · 4 B = 8,000 B;
    // positions 2 · 250 · 4 = 2,000 B. Total 35,000 B.
    expect(point.keptTokens).toBe(250);
    expect(point.bytesPerUser).toBe(35000);
    expect(point.macsPerRequest).toBe(requestMacs(model, {}, 1000, 250).withCache);
    expect(point.macsWithoutCache).toBe(requestMacs(model, {}, 1000, 1000).withoutCache);
  });

  it('rejects negative lengths', () => {
    expectThrows(
      () => complexityCurve({ model: 'sasrec', config: sasrec, lengths: [10, -1] }),
      RangeError,
      invalidArgument('complexityCurve', 'input.lengths[1]', 'an integer in [0, 2147483647]', -1),
    );
  });
});

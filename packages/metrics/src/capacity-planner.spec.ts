import { expectThrows } from './__fixtures__/reference';
import { MODEL_PRESETS, formatBytes, formatPlan, planCapacity } from './capacity-planner';
import { invalidArgument, unknownPreset } from './messages';

describe('planCapacity', () => {
  // hstu-large: 16 layers, 8 heads, dqk = dv = 32, d = 256 (assumed), 26,744 items (assumed).
  // Per layer and token, projections: 256 · (8·32 + 8·32) for U and Q, 256 · (8·32 + 8·32)
  // for K and V, 8·32 · 256 for the output: 131,072 + 131,072 + 65,536 = 327,680.
  const projectionsPerToken = 16 * 327680; // 5,242,880
  const attentionPerPair = 16 * 8 * (32 + 32); // scores + values: 8,192
  const scoring = 26744 * 256; // 6,846,464

  it('plans hstu-large for a billion users', () => {
    const plan = planCapacity({ users: 1e9, meanLength: 2000, model: 'hstu-large' });

    // Bytes: 16 layers · 8 heads · 2,000 tokens · (32 + 32) · 4 B = 65,536,000 B per user;
    // 1e9 users · 65,536,000 B = 6.5536e16 B (58.2 PiB).
    expect(plan.bytesPerUser).toBe(16 * 8 * 2000 * (32 + 32) * 4);
    expect(plan.bytesPerUser).toBe(65536000);
    expect(plan.totalBytes).toBe(6.5536e16);

    // With the cache: 1 token, 2,001 pairs per layer and head, plus scoring:
    // 5,242,880 + 2,001 · 8,192 + 6,846,464 = 28,481,536.
    expect(plan.macsPerRequest).toBe(projectionsPerToken + 2001 * attentionPerPair + scoring);
    expect(plan.macsPerRequest).toBe(28481536);

    // Without: 2,001 tokens, 2,001 · 2,002 / 2 = 2,003,001 pairs, plus scoring:
    // 10,491,002,880 + 16,408,584,192 + 6,846,464 = 26,906,433,536.
    expect(plan.perRequestWithoutCache).toBe(2001 * projectionsPerToken + 2003001 * attentionPerPair + scoring);
    expect(plan.perRequestWithoutCache).toBe(26906433536);
  });

  it('plans hstu-large with int4 codes in groups of 32', () => {
    const plan = planCapacity({ users: 1e9, meanLength: 2000, model: 'hstu-large', method: { bits: 4, group: 32 } });

    // Per layer and head, keys [2,000, 32]: 2,000 · 32 · 4 / 8 = 32,000 B of codes and
    // 2,000 groups · 4 B = 8,000 B of float16 scale + zero; values the same: 80,000 B.
    // 16 · 8 · 80,000 = 10,240,000 B per user (6.4× smaller than 65,536,000 B, not 8×).
    expect(plan.bytesPerUser).toBe(16 * 8 * 2 * (32000 + 8000));
    expect(plan.bytesPerUser).toBe(10240000);
    expect(plan.totalBytes).toBe(1.024e16);

    // Quantisation keeps every token, so compute is unchanged.
    expect(plan.macsPerRequest).toBe(28481536);
    expect(plan.methodName).toBe('int4 g32 + float16 scale/zero');
  });

  it('plans pruning with positions', () => {
    const plan = planCapacity({ users: 1e9, meanLength: 2000, model: 'hstu-large', method: { ratio: 0.5 } });

    // 1,000 kept: 16 · 8 · 1,000 · 64 · 4 = 32,768,000 B + int32 positions 16 · 8 · 1,000 · 4 = 512,000 B.
    expect(plan.keptTokens).toBe(1000);
    expect(plan.bytesPerUser).toBe(33280000);
    // The request attends to 1,001 keys: 5,242,880 + 1,001 · 8,192 + 6,846,464 = 20,289,536.
    expect(plan.macsPerRequest).toBe(projectionsPerToken + 1001 * attentionPerPair + scoring);
  });

  it('accepts explicit dimensions', () => {
    const model = { architecture: 'sasrec', config: { layers: 1, hiddenSize: 8, heads: 2, itemCount: 10 } } as const;
    const plan = planCapacity({ users: 3, meanLength: 5, model });
    // 1 layer · 2 heads · 5 tokens · (4 + 4) · 4 B = 320 B per user, 960 B for 3 users.
    expect(plan.modelName).toBe('custom');
    expect(plan.bytesPerUser).toBe(320);
    expect(plan.totalBytes).toBe(960);
  });

  it('matches the published ML-1M magnitude', () => {
    // 2 · 1 · (50 + 50) · 200 · 4 B = 160,000 B per user.
    expect(planCapacity({ users: 1, meanLength: 200, model: 'hstu-ml1m' }).bytesPerUser).toBe(160000);
    expect(planCapacity({ users: 1, meanLength: 200, model: 'sasrec-ml1m' }).bytesPerUser).toBe(160000);
    expect(Object.keys(MODEL_PRESETS)).toEqual(['sasrec-ml1m', 'hstu-ml1m', 'hstu-large']);
  });

  it('rejects unknown presets and bad counts', () => {
    expectThrows(
      () => planCapacity({ users: 1, meanLength: 10, model: 'gpt' as 'hstu-large' }),
      RangeError,
      unknownPreset('planCapacity', 'gpt', ['sasrec-ml1m', 'hstu-ml1m', 'hstu-large']),
    );
    expectThrows(() => planCapacity({ users: -1, meanLength: 10, model: 'hstu-ml1m' }), RangeError, invalidArgument('planCapacity', 'input.users', 'a finite number ≥ 0', -1));
    expectThrows(
      () => planCapacity({ users: 1, meanLength: 10.5, model: 'hstu-ml1m' }),
      RangeError,
      invalidArgument('planCapacity', 'input.meanLength', 'an integer in [0, 2147483647]', 10.5),
    );
    expectThrows(
      () => planCapacity({ users: 1, meanLength: 10, model: 'hstu-ml1m', method: { bits: 2 } }),
      RangeError,
      invalidArgument('planCapacity', 'method.group', 'a group size (a positive integer) for 2-bit codes', undefined),
    );
  });
});

describe('formatPlan', () => {
  it('prints bytes and MACs for a plan', () => {
    // hstu-ml1m, 1e6 users · 160,000 B = 1.6e11 B = 149.01 GiB; 160,000 B = 156.25 KiB.
    // With the cache: 25,000 + 2 · 201 · 100 + 3,706 · 50 = 250,500 MACs.
    // Without: 201 · 25,000 + 2 · 20,301 · 100 + 185,300 = 9,270,500 MACs, 37.0× more.
    const text = formatPlan(planCapacity({ users: 1e6, meanLength: 200, model: 'hstu-ml1m' }));
    expect(text.split('\n')).toEqual([
      'model:        hstu-ml1m (hstu, L = 2, heads = 1, kvHeads = 1, d = 50, dqk = 50, dv = 50, 3,706 items)',
      'method:       full (float32)',
      'users:        1,000,000, 200 tokens each, 200 kept',
      'per user:     156.25 KiB (160,000 B)',
      'fleet total:  149.01 GiB (160,000,000,000 B)',
      'MACs/request: 250,500 with the cache, 9,270,500 without (37.0× fewer with the cache)',
    ]);
  });

  it('formats small byte counts without a unit change', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.00 KiB (2,048 B)');
  });
});

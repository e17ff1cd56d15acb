import { main } from './cli';
import { createMemoryLogger } from './logger';
import { cacheMethodFor, planFromRequest } from './plan';

describe('planFromRequest', () => {
  it('sizes a float32 hstu-large fleet by hand arithmetic', () => {
    const { plan } = planFromRequest({ users: 1e9, meanLength: 2000, model: 'hstu-large' });

    // 16 layers × 8 heads × (dqk 32 + dv 32) × 2,000 tokens × 4 B.
    const perUser = 16 * 8 * (32 + 32) * 2000 * 4;
    expect(plan.bytesPerUser).toBe(perUser);
    expect(plan.bytesPerUser).toBe(65_536_000);
    expect(plan.totalBytes).toBe(perUser * 1e9);
  });

  it('counts int4 codes plus fp16 scale and zero per group of 32', () => {
    const { plan } = planFromRequest({ users: 1e9, meanLength: 2000, model: 'hstu-large', method: 'int4' });

    // 16,384,000 numbers: 4 bits each, plus 2 + 2 B per group of 32 numbers.
    const numbers = 16 * 8 * (32 + 32) * 2000;
    const codes = (numbers * 4) / 8;
    const scalesAndZeros = (numbers / 32) * 4;
    expect(plan.bytesPerUser).toBe(codes + scalesAndZeros);
    expect(plan.bytesPerUser).toBe(10_240_000);
  });

  it('keeps a contiguous window without position bytes', () => {
    const { plan } = planFromRequest({ users: 10, meanLength: 200, model: 'sasrec-ml1m', method: 'window', ratio: 0.875 });

    // 25 kept tokens × 2 layers × (K 50 + V 50) × 4 B.
    expect(plan.bytesPerUser).toBe(25 * 2 * 100 * 4);
  });

  it('adds int32 positions for a scattered token method', () => {
    expect(cacheMethodFor({ users: 1, meanLength: 1, model: 'sasrec-ml1m', method: 'snapkv', ratio: 0.5 })).toMatchObject({ ratio: 0.5, contiguous: false });
  });

  it('rejects a token method without a ratio', () => {
    expect(() => planFromRequest({ users: 1, meanLength: 10, model: 'sasrec-ml1m', method: 'snapkv' })).toThrow(/--ratio/);
  });

  it('rejects an unknown model naming the presets', () => {
    expect(() => planFromRequest({ users: 1, meanLength: 10, model: 'gpt' })).toThrow(/Invalid value 'gpt' for --model: expected one of sasrec-ml1m, hstu-ml1m, hstu-large/);
  });
});

describe('malloc plan', () => {
  it('prints bytes and compute of a fleet', async () => {
    let stdout = '';

    const status = await main(['plan', '--users', '1e9', '--mean-length', '2000', '--model', 'hstu-large'], (text) => (stdout += text), createMemoryLogger());

    expect(status).toBe(0);
    expect(stdout).toContain('65,536,000 B');
    expect(stdout).toContain('MACs/request');
  });

  it('rejects a missing user count', async () => {
    await expect(main(['plan', '--mean-length', '2000'], () => undefined, createMemoryLogger())).rejects.toThrow(/--users/);
  });
});

describe('malloc data download', () => {
  it('rejects an unknown dataset naming the accepted ones', async () => {
    await expect(main(['data', 'download', 'ml-2m', '--data-dir', '/tmp'], () => undefined, createMemoryLogger())).rejects.toThrow(/ml-2m.*ml-1m/);
  });
});

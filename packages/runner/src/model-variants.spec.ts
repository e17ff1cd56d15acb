import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { variantCacheBytes } from '@malloc/models';
import { runBench } from './bench';
import { allMethods, planCells } from './cells';
import { resolveConfig, validateConfigInput, type RunConfig } from './config';
import { formatMethodsTable } from './methods-table';
import { createMemoryLogger } from './logger';
import { modelVariantAsStrategy } from './messages';
import { modelRowLabel } from './model-variants';

const BASE = { maxLength: 32, hiddenSize: 16, layers: 2, heads: 4, dropout: 0.1 };

describe('model row labels', () => {
  it.each([
    [{}, 'sasrec'],
    [{ kvHeads: 4 }, 'sasrec'],
    [{ kvHeads: 2 }, 'sasrec-gqa2'],
    [{ kvHeads: 1 }, 'sasrec-mqa'],
    [{ kvLatentSize: 8 }, 'sasrec-mla8'],
    [{ kvLatentSize: 8, kvHeads: 2 }, 'sasrec-mla8-kv2'],
  ])('%j gives %s', (fields, label) => {
    expect(modelRowLabel('sasrec', { ...BASE, ...fields })).toBe(label);
  });
});

describe('head-level variants in the taxonomy', () => {
  it('lists mqa, gqa and mla as trained head methods', () => {
    for (const id of ['mqa', 'gqa', 'mla']) {
      const method = allMethods().find((entry) => entry.id === id);
      expect(method?.granularity).toBe('head');
      expect(method?.needsTraining).toBe(true);
    }
    expect(formatMethodsTable(allMethods())).toMatch(/^gqa\s+head\s+kv-head-sharing\s+yes/m);
  });

  it('rejects a variant given as a strategy', () => {
    expect(() => planCells(['full', 'gqa'], [0.5])).toThrow(new RangeError(modelVariantAsStrategy('gqa')));
    expect(() => planCells(['mla'], [0.5])).toThrow(/model\.kvLatentSize/);
  });

  it('configuration accepts kvHeads and kvLatentSize', () => {
    expect(validateConfigInput({ model: { kvHeads: 2, kvLatentSize: 8 } }, 'test.json').model).toEqual({ kvHeads: 2, kvLatentSize: 8 });
    expect(() => validateConfigInput({ model: { kvHeads: 0 } }, 'test.json')).toThrow(/kvHeads/);
    expect(() => validateConfigInput({ model: { kvLatentSize: 1 } }, 'test.json')).toThrow(/kvLatentSize/);
    expect(resolveConfig(null, { preset: 'smoke' }).model).not.toHaveProperty('kvHeads');
  });
});

describe('runBench with a GQA model', () => {
  jest.setTimeout(240_000);
  let out: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'malloc-bench-gqa-'));
  });

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('names rows after the variant and stores its bytes', async () => {
    const base = resolveConfig(null, { preset: 'smoke', out, backend: 'cpu' });
    const config: RunConfig = {
      ...base,
      model: { ...base.model, heads: 2, kvHeads: 1 },
      training: { ...base.training, epochs: 1 },
      evaluation: { ...base.evaluation, maxUsers: 30 },
      strategies: ['full', 'window', 'int8'],
      compressionRatios: [0.5],
      report: false,
    };
    const outcome = await runBench(config, createMemoryLogger());
    const rows = outcome.rowsWritten;

    expect(rows.map((row) => row.status)).toEqual(['ok', 'ok', 'ok']);
    expect(rows.map((row) => row.model)).toEqual(['sasrec-mqa', 'sasrec-mqa', 'sasrec-mqa']);
    expect(rows[0].cellKey).toContain('__sasrec-mqa__');

    // The full cache of MQA: 2 layers × 1 KV head × (8 + 8) floats × 4 bytes = 128 bytes per token.
    const full = rows[0];
    const perToken = variantCacheBytes({ itemCount: 1, ...config.model }, 1);
    expect(perToken).toBe(2 * 1 * (8 + 8) * 4);
    expect(full.bytesPerUser).toBeCloseTo((full.meanCachedTokens ?? 0) * perToken, 6);
    expect(full.meanCachedTokens).toBeGreaterThan(0);
    expect(rows[1].bytesPerUser).toBeCloseTo((rows[1].meanCachedTokens ?? 0) * perToken, 6);
    expect(rows[2].bytesPerUser ?? Infinity).toBeLessThan(full.bytesPerUser ?? 0);
  });
});

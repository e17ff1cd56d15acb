import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from './bench';
import { allMethods, planCells } from './cells';
import { resolveConfig, validateConfigInput, type RunConfig } from './config';
import { createMemoryLogger } from './logger';
import { modelVariantAsStrategy, sequenceVariantModel } from './messages';
import { checkSequenceVariantModels, modelRowLabel } from './model-variants';

const BASE = { maxLength: 32, hiddenSize: 16, layers: 2, heads: 4, dropout: 0.1 };

describe('sequence variant labels', () => {
  it.each([
    [{ beacon: { chunkSize: 16, beaconsPerChunk: 2 } }, 'sasrec-beacon16x2'],
    [{ linformer: { blockSize: 16, projectedRows: 4 } }, 'sasrec-linformer16x4'],
    [{ kvHeads: 2, linformer: { blockSize: 8, projectedRows: 1 } }, 'sasrec-gqa2-linformer8x1'],
    [{ kvHeads: 1, beacon: { chunkSize: 4, beaconsPerChunk: 1 } }, 'sasrec-mqa-beacon4x1'],
    [{ lsh: { buckets: 8 } }, 'sasrec-lsh8'],
    [{ lsh: { buckets: 8, seed: 0 } }, 'sasrec-lsh8'],
    [{ lsh: { buckets: 4, seed: 3 } }, 'sasrec-lsh4s3'],
  ])('%j gives %s', (fields, label) => {
    expect(modelRowLabel('sasrec', { ...BASE, ...fields })).toBe(label);
  });
});

describe('sequence variants in the taxonomy', () => {
  it('lists beacon and linformer as trained methods', () => {
    const beacon = allMethods().find((entry) => entry.id === 'beacon');
    const linformer = allMethods().find((entry) => entry.id === 'linformer');
    expect([beacon?.granularity, beacon?.family, beacon?.needsTraining]).toEqual(['token', 'learned-memory', true]);
    expect([linformer?.granularity, linformer?.needsTraining]).toEqual(['sequence', true]);
    const lsh = allMethods().find((entry) => entry.id === 'lsh');
    expect([lsh?.granularity, lsh?.family, lsh?.needsTraining]).toEqual(['sequence', 'lsh-bucketing', true]);
  });

  it('rejects a variant given as a strategy', () => {
    expect(() => planCells(['full', 'beacon'], [0.5])).toThrow(new RangeError(modelVariantAsStrategy('beacon')));
    expect(() => planCells(['linformer'], [0.5])).toThrow(/model\.linformer/);
    expect(() => planCells(['lsh'], [0.5])).toThrow(/model\.lsh/);
  });

  it('configuration accepts beacon and linformer', () => {
    const beacon = { chunkSize: 8, beaconsPerChunk: 2 };
    expect(validateConfigInput({ model: { beacon } }, 'test.json').model).toEqual({ beacon });
    expect(() => validateConfigInput({ model: { beacon: { chunkSize: 8 } } }, 'test.json')).toThrow(/beaconsPerChunk/);
    expect(() => validateConfigInput({ model: { linformer: { blockSize: 0, projectedRows: 1 } } }, 'test.json')).toThrow(/blockSize/);
    expect(() => validateConfigInput({ model: { lsh: { buckets: 3 } } }, 'test.json')).toThrow(/buckets/);
    expect(validateConfigInput({ model: { lsh: { buckets: 4 } } }, 'test.json').model).toEqual({ lsh: { buckets: 4 } });
    expect(resolveConfig(null, { preset: 'smoke' }).model).not.toHaveProperty('beacon');
  });

  it('rejects models without the variant', () => {
    const settings = { ...BASE, beacon: { chunkSize: 8, beaconsPerChunk: 2 } };
    expect(() => checkSequenceVariantModels(['sasrec', 'gru4rec'], settings)).toThrow(new RangeError(sequenceVariantModel('gru4rec', 'model.beacon', ['sasrec', 'hstu'])));
    expect(() => checkSequenceVariantModels(['sasrec', 'hstu'], settings)).not.toThrow();
    expect(() => checkSequenceVariantModels(['hstu'], BASE)).not.toThrow();
  });
});

describe('runBench with sequence variants', () => {
  jest.setTimeout(240_000);
  let out: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'malloc-bench-sequence-'));
  });

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it.each([
    ['beacon', { beacon: { chunkSize: 8, beaconsPerChunk: 2 } }, 'sasrec-beacon8x2'],
    ['linformer', { linformer: { blockSize: 8, projectedRows: 2 } }, 'sasrec-linformer8x2'],
  ])('%s rows are written with the variant label', async (name, fields, label) => {
    const base = resolveConfig(null, { preset: 'smoke', out: join(out, name), backend: 'cpu' });
    const config: RunConfig = {
      ...base,
      model: { ...base.model, ...fields },
      training: { ...base.training, epochs: 1 },
      evaluation: { ...base.evaluation, maxUsers: 30 },
      strategies: ['full', 'window', 'int8', 'snapkv'],
      compressionRatios: [0.5],
      report: false,
    };
    const outcome = await runBench(config, createMemoryLogger());
    const rows = outcome.rowsWritten;

    // Prefill records statistics over the condensed and raw rows, so SnapKV runs too.
    expect(rows.map((row) => row.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(rows.map((row) => row.model)).toEqual([label, label, label, label]);
    // Every row ran, so every row carries the analytical MACs of the variant.
    expect(rows.map((row) => (row.macsPerRequest ?? 0) > 0)).toEqual([true, true, true, true]);
    expect(rows[3].strategy).toBe('snapkv');

    // Smoke histories reach 32 items, so the full cache keeps at most 2 × 4 condensed rows + 7 raw rows.
    const full = rows[0];
    expect(full.meanCachedTokens ?? Infinity).toBeLessThanOrEqual(2 * 4 + 7);
    expect(rows[1].bytesPerUser ?? Infinity).toBeLessThan(full.bytesPerUser ?? 0);
    const stored = readFileSync(join(base.out, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(stored).toHaveLength(4);
  });

  it('LSH rows run every strategy', async () => {
    // LSH prefill records attention statistics, so SnapKV runs as on the base model.
    const base = resolveConfig(null, { preset: 'smoke', out: join(out, 'lsh'), backend: 'cpu' });
    const config: RunConfig = {
      ...base,
      model: { ...base.model, lsh: { buckets: 4 } },
      training: { ...base.training, epochs: 1 },
      evaluation: { ...base.evaluation, maxUsers: 30 },
      strategies: ['full', 'snapkv'],
      compressionRatios: [0.5],
      report: false,
    };
    const rows = (await runBench(config, createMemoryLogger())).rowsWritten;
    expect(rows.map((row) => row.status)).toEqual(['ok', 'ok']);
    expect(rows.map((row) => row.model)).toEqual(['sasrec-lsh4', 'sasrec-lsh4']);
    expect(rows[1].bytesPerUser ?? Infinity).toBeLessThan(rows[0].bytesPerUser ?? 0);
  });

  it('rejects GRU4Rec with a beacon before training', async () => {
    const base = resolveConfig(null, { preset: 'smoke', out: join(out, 'gru4rec'), backend: 'cpu' });
    const config: RunConfig = { ...base, models: ['gru4rec'], strategies: ['full'], model: { ...base.model, beacon: { chunkSize: 8, beaconsPerChunk: 2 } }, report: false };
    await expect(runBench(config, createMemoryLogger())).rejects.toThrow(new RangeError(sequenceVariantModel('gru4rec', 'model.beacon', ['sasrec', 'hstu'])));
  });

  it.each([
    ['beacon', { beacon: { chunkSize: 8, beaconsPerChunk: 2 } }, 'hstu-beacon8x2'],
    ['linformer', { linformer: { blockSize: 8, projectedRows: 2 } }, 'hstu-linformer8x2'],
    ['lsh', { lsh: { buckets: 4 } }, 'hstu-lsh4'],
  ])('HSTU %s rows are written with the variant label', async (name, fields, label) => {
    const base = resolveConfig(null, { preset: 'smoke', out: join(out, `hstu-${name}`), backend: 'cpu' });
    const config: RunConfig = {
      ...base,
      models: ['hstu'],
      model: { ...base.model, ...fields },
      training: { ...base.training, epochs: 1 },
      evaluation: { ...base.evaluation, maxUsers: 20 },
      strategies: ['full', 'snapkv'],
      compressionRatios: [0.5],
      report: false,
    };
    const rows = (await runBench(config, createMemoryLogger())).rowsWritten;

    // SnapKV reads the prefill statistics, so it runs on every variant and stores fewer bytes than full.
    expect(rows.map((row) => row.status)).toEqual(['ok', 'ok']);
    expect(rows.map((row) => row.model)).toEqual([label, label]);
    expect(rows[1].bytesPerUser ?? Infinity).toBeLessThan(rows[0].bytesPerUser ?? 0);
  });
});

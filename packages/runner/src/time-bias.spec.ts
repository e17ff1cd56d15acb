import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '@malloc/models';
import { runBench } from './bench';
import { resolveConfig, validateConfigInput, type RunConfig } from './config';
import { createMemoryLogger } from './logger';
import { sequenceVariantModel, timeBiasWithoutTimestamps } from './messages';
import { checkTimeBiasModels, modelRowLabel } from './model-variants';
import { readResults } from './results-store';

const BASE = { maxLength: 32, hiddenSize: 16, layers: 2, heads: 1, dropout: 0.1 };

describe('HSTU without the time bias in the runner', () => {
  it('labels the rows hstu-notime', () => {
    expect(modelRowLabel('hstu', { ...BASE, timeBias: false })).toBe('hstu-notime');
    expect(modelRowLabel('hstu', { ...BASE, timeBias: true })).toBe('hstu');
    expect(modelRowLabel('hstu', { ...BASE, kvLatentSize: 8, timeBias: false })).toBe('hstu-mla8-notime');
  });

  it('rejects the setting for models without a time bias', () => {
    expect(() => checkTimeBiasModels(['hstu', 'sasrec'], { ...BASE, timeBias: false })).toThrow(new RangeError(sequenceVariantModel('sasrec', 'model.timeBias', ['hstu'])));
    expect(() => checkTimeBiasModels(['hstu'], { ...BASE, timeBias: false })).not.toThrow();
    expect(() => checkTimeBiasModels(['sasrec', 'gru4rec'], BASE)).not.toThrow();
  });

  it('accepts only a boolean in a config file', () => {
    expect(() => validateConfigInput({ model: { timeBias: false } }, 'run.yaml')).not.toThrow();
    expect(() => validateConfigInput({ model: { timeBias: 'no' } }, 'run.yaml')).toThrow(/timeBias/);
  });

  describe('runBench', () => {
    jest.setTimeout(240_000);
    let out: string;

    beforeAll(() => {
      out = mkdtempSync(join(tmpdir(), 'malloc-bench-notime-'));
    });

    afterAll(() => {
      rmSync(out, { recursive: true, force: true });
    });

    it('trains a model that keeps the setting and writes hstu-notime rows', async () => {
      const base = resolveConfig(null, { preset: 'smoke', out, backend: 'cpu' });
      const config: RunConfig = { ...base, models: ['hstu'], strategies: ['full', 'recompute'], training: { ...base.training, epochs: 1 }, model: { ...base.model, timeBias: false } };

      const result = await runBench(config, createMemoryLogger());
      const rows = readResults(join(out, 'results.jsonl')).rows;
      const model = await loadCheckpoint(String(rows[0].training?.checkpoint));

      expect(result.rowsWritten).toHaveLength(2);
      expect(rows.map((row) => [row.model, row.strategy, row.status])).toEqual([
        ['hstu-notime', 'full', 'ok'],
        ['hstu-notime', 'recompute', 'ok'],
      ]);
      expect((model as unknown as { config: { timeBias?: boolean } }).config.timeBias).toBe(false);
      model.dispose();
    });

    it('warns on data without timestamps', async () => {
      // An ML-1M sequence file (user id, then item ids) has no timestamps.
      const dataDir = join(out, 'data');
      mkdirSync(join(dataDir, 'ml-1m'), { recursive: true });
      const lines = Array.from({ length: 40 }, (_, user) => [user + 1, ...Array.from({ length: 8 }, (_, step) => ((user * 3 + step * 5) % 30) + 1)].join(' '));
      writeFileSync(join(dataDir, 'ml-1m', 'sequences.txt'), `${lines.join('\n')}\n`);
      const base = resolveConfig(null, { preset: 'smoke', dataset: 'ml-1m', dataDir, out: join(out, 'ml-1m'), backend: 'cpu' });
      const logger = createMemoryLogger();

      await runBench({ ...base, report: false, models: ['hstu'], strategies: ['full'], training: { ...base.training, epochs: 1 }, model: { ...base.model, timeBias: false } }, logger);

      expect(logger.lines).toContain(`warn: ${timeBiasWithoutTimestamps('ml-1m')}`);
    });

    it('stores only item ids for recompute, without timestamps', () => {
      const [full, recompute] = readResults(join(out, 'results.jsonl')).rows;

      // Every history item is cached by full, so its mean token count is the mean history length.
      expect(recompute.bytesPerUser).toBeCloseTo(4 * (full.meanCachedTokens as number), 6);
    });
  });
});

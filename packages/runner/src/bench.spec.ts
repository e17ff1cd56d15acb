import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from './bench';
import { allMethods } from './cells';
import { resolveConfig, type RunConfig } from './config';
import { createMemoryLogger } from './logger';
import { readResults, resultRowProblems } from './results-store';

function smokeConfig(out: string, overrides: Partial<RunConfig> = {}): RunConfig {
  return { ...resolveConfig(null, { preset: 'smoke', out, backend: 'cpu' }), ...overrides };
}

describe('runBench on the smoke preset', () => {
  jest.setTimeout(240_000);
  const out = mkdtempSync(join(tmpdir(), 'malloc-bench-'));
  let first: Awaited<ReturnType<typeof runBench>>;

  beforeAll(async () => {
    first = await runBench(smokeConfig(out), createMemoryLogger());
  });

  it('writes one valid ok row per cell', () => {
    const rows = readResults(join(out, 'results.jsonl')).rows;

    expect(rows.map((row) => `${row.strategy} ${row.setting}`)).toEqual([
      'full ',
      'recompute ',
      'window compressionRatio=0.5',
      'window compressionRatio=0.75',
      'window compressionRatio=0.875',
      'streaming-llm compressionRatio=0.5',
      'streaming-llm compressionRatio=0.75',
      'streaming-llm compressionRatio=0.875',
    ]);
    for (const row of rows) {
      expect(resultRowProblems(row)).toEqual([]);
      expect(row.status).toBe('ok');
      expect(row.backend).toBe('cpu');
      expect(row.usersEvaluated).toBeGreaterThan(0);
    }
  });

  it('gives full and recompute the same accuracy', () => {
    const rows = readResults(join(out, 'results.jsonl')).rows;
    const full = rows.find((row) => row.strategy === 'full');
    const recompute = rows.find((row) => row.strategy === 'recompute');

    expect(recompute?.metrics).toEqual(full?.metrics);
  });

  it('measures window and streaming-llm bytes from the rows they keep', () => {
    const rows = readResults(join(out, 'results.jsonl')).rows;
    const config = smokeConfig(out);
    const full = rows.find((row) => row.strategy === 'full');
    const window = rows.find((row) => row.strategy === 'window' && row.params.compressionRatio === 0.875);
    const streaming = rows.find((row) => row.strategy === 'streaming-llm' && row.params.compressionRatio === 0.875);

    // Each kept token costs float32 K and V of width d per layer. Streaming-llm also stores one
    // int32 position per kept token and layer, except when it keeps only contiguous sinks.
    const { layers, hiddenSize } = config.model;
    const bytesPerToken = layers * 2 * hiddenSize * 4;
    expect(full?.compressionRatio).toBeCloseTo(1, 10);
    expect(window?.bytesPerUser).toBeCloseTo((window?.meanCachedTokens ?? 0) * bytesPerToken, 6);
    expect(streaming?.bytesPerUser).toBeGreaterThanOrEqual((streaming?.meanCachedTokens ?? 0) * bytesPerToken);
    expect(streaming?.bytesPerUser).toBeLessThanOrEqual((streaming?.meanCachedTokens ?? 0) * (bytesPerToken + layers * 4) + 1e-9);
    expect(window?.fullBytesPerUser).toBe(full?.fullBytesPerUser);

    // Keeping max(1, floor(len / 8)) tokens removes at least seven eighths.
    expect(window?.compressionRatio).toBeGreaterThanOrEqual(8);
    expect(streaming?.compressionRatio).toBeGreaterThanOrEqual((8 * bytesPerToken) / (bytesPerToken + layers * 4));
  });

  it('saves the resolved config and provenance and builds the site', () => {
    const runs = readdirSync(join(out, 'runs'));

    expect(runs).toEqual([first.runId]);
    expect(existsSync(join(out, 'runs', first.runId, 'config.json'))).toBe(true);
    expect(existsSync(join(out, 'runs', first.runId, 'provenance.json'))).toBe(true);
    expect(existsSync(join(out, 'site', 'index.html'))).toBe(true);
  });

  it('records the settings that trained the model in every row', () => {
    const config = JSON.parse(readFileSync(join(out, 'runs', first.runId, 'config.json'), 'utf8')) as RunConfig;
    const { workers: _workers, ...training } = config.training;

    // The smoke preset trains with sampled softmax and the default per-position negatives.
    for (const row of readResults(join(out, 'results.jsonl')).rows) {
      expect(row.training?.settings).toEqual({ model: config.model, training: { ...training, negativeSampling: 'per-position' } });
    }
  });

  it('writes the method catalogue that the method pages read', () => {
    const catalogue = JSON.parse(readFileSync(join(out, 'methods.json'), 'utf8')) as { id: string; paper: string }[];

    expect(catalogue.map((method) => method.id)).toEqual(allMethods().map((method) => method.id));
    expect(catalogue.find((method) => method.id === 'window')?.paper).toBe(allMethods().find((method) => method.id === 'window')?.paper);
  });

  it('writes analytical complexity curves that the site draws', () => {
    const { curves } = JSON.parse(readFileSync(join(out, 'complexity.json'), 'utf8')) as { curves: { strategy: string; setting: string; measure: string; points: { historyLength: number; value: number }[] }[] };
    const { layers, hiddenSize } = smokeConfig(out).model;
    const fullBytes = curves.find((curve) => curve.strategy === 'full' && curve.measure.startsWith('bytes'));
    const prunedBytes = curves.find((curve) => curve.strategy === 'token pruning' && curve.setting === 'compressionRatio=0.875' && curve.measure.startsWith('bytes'));

    // A float32 cache of 1,024 tokens: K and V of width d per layer. At 0.875 it keeps 128 tokens, each with an int32 position per layer.
    expect(fullBytes?.points.find((point) => point.historyLength === 1024)?.value).toBe(1024 * layers * 2 * hiddenSize * 4);
    expect(prunedBytes?.points.find((point) => point.historyLength === 1024)?.value).toBe(128 * layers * (2 * hiddenSize * 4 + 4));
    expect(existsSync(join(out, 'site', 'complexity.html'))).toBe(true);
  });

  it('records the MACs of each request, recompute paying the most', () => {
    const rows = readResults(join(out, 'results.jsonl')).rows;
    const macsOf = (strategy: string, ratio?: number): number =>
      rows.find((row) => row.strategy === strategy && (ratio === undefined || row.params.compressionRatio === ratio))?.macsPerRequest ?? Number.NaN;

    expect(macsOf('recompute')).toBeGreaterThan(macsOf('full'));
    expect(macsOf('full')).toBeGreaterThan(macsOf('window', 0.5));
    expect(macsOf('window', 0.5)).toBeGreaterThan(macsOf('window', 0.875));
  });

  it('skips finished cells on a rerun and reuses the trained model', async () => {
    const logger = createMemoryLogger();

    const second = await runBench(smokeConfig(out, { report: false }), logger);

    expect(second.rowsWritten).toHaveLength(0);
    expect(second.cellsSkipped).toBe(8);
    expect(readResults(join(out, 'results.jsonl')).rows).toHaveLength(8);
    expect(logger.lines.filter((line) => line.includes('already has'))).toEqual([]);
  });

  it('warns when another model shares the label', async () => {
    const logger = createMemoryLogger();
    const base = smokeConfig(out);

    await runBench({ ...base, report: false, strategies: ['full'], model: { ...base.model, dropout: 0.3 } }, logger);

    const warnings = logger.lines.filter((line) => line.startsWith('warn:') && line.includes('already has sasrec rows'));
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toContain('(model.dropout)');
    expect(logger.lines).toContain('info: Training sasrec (seed 1) on synthetic: up to 2 epochs, batch 32, sampled-softmax with 16 per-position negatives');
  });

  it('reuses the checkpoint for a new strategy setting', async () => {
    const logger = createMemoryLogger();

    const third = await runBench(smokeConfig(out, { report: false, strategies: ['window'], compressionRatios: [0.25] }), logger);

    expect(third.rowsWritten.map((row) => row.setting)).toEqual(['compressionRatio=0.25']);
    expect(third.rowsWritten[0].training).toMatchObject({ reused: true });
    expect(logger.lines.some((line) => line.includes('Reusing trained sasrec'))).toBe(true);
  });

  it('runs a finished full again for the paired test of a new cell', async () => {
    const before = readResults(join(out, 'results.jsonl')).rows;
    const fullBefore = before.filter((row) => row.strategy === 'full');

    const fourth = await runBench(smokeConfig(out, { report: false, strategies: ['full', 'window'], compressionRatios: [0.3] }), createMemoryLogger());
    const after = readResults(join(out, 'results.jsonl')).rows;

    expect(fourth.rowsWritten.map((row) => `${row.strategy} ${row.setting}`)).toEqual(['window compressionRatio=0.3']);
    expect(fourth.rowsWritten[0].pairedVsFull?.['ndcg@10']?.n).toBe(fourth.rowsWritten[0].usersEvaluated);
    expect(after.filter((row) => row.strategy === 'full')).toHaveLength(fullBefore.length);
  });
});

describe('runBench with HSTU', () => {
  jest.setTimeout(240_000);

  it('gives full and recompute the same accuracy', async () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-bench-hstu-'));
    const config = smokeConfig(out, { models: ['hstu'], strategies: ['full', 'recompute', 'window'], compressionRatios: [0.5], report: false });

    const outcome = await runBench(config, createMemoryLogger());
    const rows = outcome.rowsWritten;
    const full = rows.find((row) => row.strategy === 'full');
    const recompute = rows.find((row) => row.strategy === 'recompute');

    expect(rows.map((row) => row.status)).toEqual(['ok', 'ok', 'ok']);
    expect(rows.map((row) => row.model)).toEqual(['hstu', 'hstu', 'hstu']);
    expect(recompute?.metrics).toEqual(full?.metrics);
    expect(rows.find((row) => row.strategy === 'window')?.compressionRatio).toBeGreaterThanOrEqual(2);
  });
});

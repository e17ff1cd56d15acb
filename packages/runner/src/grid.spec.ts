import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompressionStrategy, MethodInfo } from '@malloc/compression';
import { runBench } from './bench';
import type { ExtraMethod } from './cells';
import { resolveConfig, type RunConfig } from './config';
import { RunInterruptedError, createStopRequest } from './interrupt';
import { createMemoryLogger } from './logger';
import { mergeResults } from './merge';
import { readResults, type ResultRow } from './results-store';
import { assignShards } from './shard';

/** Smoke preset with one epoch on a 60-user synthetic dataset and 40 test users, two seeds, three cells per seed. */
function gridConfig(out: string, overrides: Partial<RunConfig> = {}): RunConfig {
  const synthetic = { users: 60, items: 40, meanLength: 20, maxLength: 40, seed: 7 };
  const config = resolveConfig(null, { preset: 'smoke', out, backend: 'cpu', seeds: [1, 2], strategies: ['full', 'window'], compressionRatios: [0.5, 0.875], training: { epochs: 1 }, evaluation: { maxUsers: 40 }, synthetic });
  return { ...config, report: false, ...overrides };
}

/** Copies the trained models of the unsharded run, so that a test run trains nothing. */
function withModels(from: string, out: string): string {
  cpSync(join(from, 'checkpoints'), join(out, 'checkpoints'), { recursive: true });
  return out;
}

/** What must agree between two runs of one cell: everything but times and run identity. */
function comparable(row: ResultRow): unknown {
  return { cellKey: row.cellKey, status: row.status, metrics: row.metrics, confidence: row.confidence, pairedVsFull: row.pairedVsFull, slices: row.slices, bytesPerUser: row.bytesPerUser, fullBytesPerUser: row.fullBytesPerUser, compressionRatio: row.compressionRatio, usersEvaluated: row.usersEvaluated };
}

function byCell(rows: ResultRow[]): unknown[] {
  return rows.map(comparable).sort((a, b) => ((a as { cellKey: string }).cellKey < (b as { cellKey: string }).cellKey ? -1 : 1));
}

describe('runBench grid', () => {
  jest.setTimeout(120_000);
  const root = mkdtempSync(join(tmpdir(), 'malloc-grid-'));
  let whole: ResultRow[];

  beforeAll(async () => {
    await runBench(gridConfig(join(root, 'whole')), createMemoryLogger());
    whole = readResults(join(root, 'whole', 'results.jsonl')).rows;
  });

  it('writes every cell of both seeds once', () => {
    // 2 seeds × (full + window at 2 ratios) = 6 cells.
    expect(new Set(whole.map((row) => row.cellKey)).size).toBe(6);
    expect(whole).toHaveLength(6);
  });

  it('two shards merged equal one unsharded run', async () => {
    // Groups sasrec seed 1 → shard 0, sasrec seed 2 → shard 1.
    expect(assignShards(['sasrec'], [1, 2], 2)).toEqual([['sasrec__seed1'], ['sasrec__seed2']]);
    const first = await runBench(gridConfig(withModels(join(root, 'whole'), join(root, 'shard0'))), createMemoryLogger(), { shard: { index: 0, count: 2 } });
    const second = await runBench(gridConfig(withModels(join(root, 'whole'), join(root, 'shard1'))), createMemoryLogger(), { shard: { index: 1, count: 2 } });

    const merged = mergeResults(join(root, 'merged'), [join(root, 'shard0'), join(root, 'shard1')], createMemoryLogger());

    expect(first.rowsWritten.map((row) => row.seed)).toEqual([1, 1, 1]);
    expect(second.rowsWritten.map((row) => row.seed)).toEqual([2, 2, 2]);
    expect(first.rowsWritten.every((row) => row.training?.reused === true)).toBe(true);
    expect(byCell(merged.rows)).toEqual(byCell(whole));
  });

  it('stops between users on a stop request and resumes', async () => {
    const out = withModels(join(root, 'whole'), join(root, 'stopped'));
    const stop = createStopRequest();
    const logger = createMemoryLogger();
    let users = 0;

    // Stop during the evaluation of the second seed: the first seed's rows stay.
    const interrupted = runBench(gridConfig(out), logger, {
      stop,
      progress: {
        start: () => undefined,
        stop: () => undefined,
        update: (phase) => {
          if (phase === 'users' && readResults(join(out, 'results.jsonl')).rows.length === 3 && ++users === 5) {
            stop.stop();
          }
        },
      },
    });

    await expect(interrupted).rejects.toThrow(RunInterruptedError);
    expect(readResults(join(out, 'results.jsonl')).rows.map((row) => row.seed)).toEqual([1, 1, 1]);
    const resumed = await runBench(gridConfig(out), createMemoryLogger());
    expect(resumed.cellsSkipped).toBe(3);
    expect(byCell(readResults(join(out, 'results.jsonl')).rows)).toEqual(byCell(whole));
  });

  it('stops before training when the request is already set', async () => {
    const stop = createStopRequest();
    stop.stop();

    await expect(runBench(gridConfig(join(root, 'never')), createMemoryLogger(), { stop })).rejects.toThrow(RunInterruptedError);
    expect(readResults(join(root, 'never', 'results.jsonl')).rows).toEqual([]);
  });

  it('records a throwing strategy as failed and finishes the others', async () => {
    const info: MethodInfo = { id: 'test-throws', name: 'Throws on the third user', granularity: 'token', family: 'test', needsTraining: false, reads: [], paper: 'Test-only strategy.' };
    let calls = 0;
    const throwing: ExtraMethod = {
      info,
      create: (params): CompressionStrategy => ({
        id: info.id,
        params,
        compress: (cache) => {
          calls++;
          if (calls === 3) {
            throw new Error('test strategy failed on purpose');
          }
          return cache;
        },
      }),
    };
    const out = withModels(join(root, 'whole'), join(root, 'crashed'));

    const outcome = await runBench(gridConfig(out, { strategies: ['full', 'test-throws', 'window'], compressionRatios: [0.5], seeds: [1] }), createMemoryLogger(), { extraMethods: [throwing] });

    expect(outcome.cellsFailed).toBe(1);
    expect(outcome.rowsWritten.map((row) => [row.strategy, row.status])).toEqual([
      ['full', 'ok'],
      ['test-throws', 'failed'],
      ['window', 'ok'],
    ]);
    expect(outcome.rowsWritten[1].error).toBe('test strategy failed on purpose');
    // The other cells match the unsharded run on every user.
    const key = (strategy: string): string => `synthetic__sasrec__${strategy}__seed1`;
    expect(byCell(outcome.rowsWritten.filter((row) => row.status === 'ok'))).toEqual(byCell(whole.filter((row) => [key('full__default'), key('window__compressionRatio=0.5')].includes(row.cellKey))));
  });
});

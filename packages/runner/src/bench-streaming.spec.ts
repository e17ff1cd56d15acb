import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from './bench';
import { resolveConfig, type RunConfig } from './config';
import { createMemoryLogger } from './logger';
import { readResults, resultRowProblems, type ResultRow } from './results-store';

const strategies = ['full', 'window', 'snapkv', 'ada-snapkv', 'shared-basis'];

function smokeConfig(out: string, protocol: 'one-shot' | 'streaming'): RunConfig {
  const config = resolveConfig(null, { preset: 'smoke', out, backend: 'cpu', strategies, compressionRatios: [0.75], report: false });
  return { ...config, evaluation: { ...config.evaluation, maxUsers: 24, ...(protocol === 'streaming' ? { protocol } : {}) } };
}

describe('runBench with the streaming protocol', () => {
  jest.setTimeout(240_000);
  const out = mkdtempSync(join(tmpdir(), 'malloc-streaming-'));
  let rows: ResultRow[];

  beforeAll(async () => {
    await runBench(smokeConfig(out, 'one-shot'), createMemoryLogger());
    await runBench(smokeConfig(out, 'streaming'), createMemoryLogger());
    rows = readResults(join(out, 'results.jsonl')).rows;
  });

  it('writes valid ok rows of both protocols into one file', () => {
    expect(rows.map((row) => `${row.protocol} ${row.strategy}`)).toEqual([...strategies.map((id) => `one-shot ${id}`), ...strategies.map((id) => `streaming ${id}`)]);
    for (const row of rows) {
      expect([row.cellKey, resultRowProblems(row)]).toEqual([row.cellKey, []]);
      expect([row.cellKey, row.status, row.error]).toEqual([row.cellKey, 'ok', undefined]);
    }
    expect(new Set(rows.map((row) => row.cellKey)).size).toBe(rows.length);
  });

  it('separates the protocols by cell key and configuration hash', () => {
    const streaming = rows.filter((row) => row.protocol === 'streaming');
    const oneShot = rows.filter((row) => row.protocol === 'one-shot');
    for (const row of streaming) {
      expect(row.cellKey.endsWith('__streaming-c16')).toBe(true);
      expect(row.chunkSize).toBe(16);
    }
    for (const row of oneShot) {
      expect(row.chunkSize).toBeUndefined();
    }
    expect(streaming[0].provenance.configHash).not.toBe(oneShot[0].provenance.configHash);
  });

  it('gives full the metrics of the one-shot protocol', () => {
    const full = rows.filter((row) => row.strategy === 'full');
    expect(full.map((row) => row.protocol)).toEqual(['one-shot', 'streaming']);
    expect(full[1].metrics).toEqual(full[0].metrics);
  });

  it('keeps token methods within their budget during the stream', () => {
    // Histories hold at most maxLength − 1 = 31 items, so a ratio of 0.75 keeps at most
    // ⌊31 · 0.25⌋ = 7 tokens per head after every chunk.
    for (const row of rows.filter((candidate) => candidate.protocol === 'streaming' && ['window', 'snapkv', 'ada-snapkv'].includes(candidate.strategy))) {
      expect([row.strategy, (row.maxCachedTokens ?? Infinity) <= 7]).toEqual([row.strategy, true]);
    }
  });

  it('records the calibration of the shared basis', () => {
    // Smoke model: d = 16, 2 layers, 1 head, so rank max(1, round(16 · 0.25)) = 4 and the basis
    // takes 2 layers · (K + V) · 4 · 16 · 4 B = 1,024 B, stored once.
    for (const row of rows.filter((candidate) => candidate.strategy === 'shared-basis')) {
      expect(row.basisBytes).toBe(2 * 2 * 4 * 16 * 4);
      expect(row.calibrationUsers).toBeGreaterThan(0);
      expect(row.calibrationUsers).toBeLessThanOrEqual(120);
    }
    expect(rows.find((row) => row.strategy === 'full')?.calibrationUsers).toBeUndefined();
  });
});

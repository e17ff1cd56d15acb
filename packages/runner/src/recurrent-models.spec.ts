import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGru4Rec, createRwkv, initBackend } from '@malloc/models';
import { rejectRecurrentStrategies, runBench } from './bench';
import { allMethods, planCells } from './cells';
import { resolveConfig, type RunConfig } from './config';
import { createMemoryLogger } from './logger';
import { modelAsStrategy, strategyForRecurrentModel } from './messages';
import { modelRowLabel } from './model-variants';
import { macModelOf, retrievalRequestMacs } from './request-macs';
import { readResults, resultRowProblems } from './results-store';
import { MODEL_IDS, RECURRENT_STRATEGIES } from './training';

function smokeConfig(out: string, overrides: Partial<RunConfig> = {}): RunConfig {
  return { ...resolveConfig(null, { preset: 'smoke', out, backend: 'cpu' }), ...overrides };
}

describe('recurrent models in the runner', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('lists gru4rec and rwkv as models and architecture methods', () => {
    expect(MODEL_IDS).toEqual(expect.arrayContaining(['gru4rec', 'rwkv']));
    const methods = allMethods().filter((method) => method.id === 'gru4rec' || method.id === 'rwkv');
    expect(methods.map((method) => [method.id, method.granularity, method.needsTraining])).toEqual([
      ['gru4rec', 'architecture', true],
      ['rwkv', 'architecture', true],
    ]);
  });

  it('rejects a model id as a strategy', () => {
    expect(() => planCells(['full', 'rwkv'], [0.5])).toThrow(modelAsStrategy('rwkv'));
  });

  it('rejects token strategies for recurrent models', () => {
    const cells = planCells(['full', 'recompute', 'snapkv'], [0.5]);
    expect(() => rejectRecurrentStrategies(['sasrec', 'gru4rec'], cells)).toThrow(strategyForRecurrentModel('gru4rec', 'snapkv', RECURRENT_STRATEGIES));
    expect(() => rejectRecurrentStrategies(['sasrec'], cells)).not.toThrow();
    expect(() => rejectRecurrentStrategies(['rwkv'], planCells(['full', 'recompute'], [0.5]))).not.toThrow();
  });

  it('labels rows with the plain model id', () => {
    expect(modelRowLabel('rwkv', { maxLength: 10, hiddenSize: 8, layers: 2, heads: 2, kvHeads: 1, dropout: 0 })).toBe('rwkv');
  });

  it('counts the MACs of a recurrent request', () => {
    const gru = createGru4Rec({ itemCount: 100, hiddenSize: 10, layers: 2 }, 1);
    const rwkv = createRwkv({ itemCount: 100, hiddenSize: 10, layers: 2 }, 1);
    const gruModel = macModelOf(gru);
    const rwkvModel = macModelOf(rwkv);
    expect(gruModel).not.toBeNull();
    expect(rwkvModel).not.toBeNull();
    // GRU: 2 layers × 6 · 10² = 1,200 MACs per token; scoring 100 items × 10 = 1,000.
    expect(retrievalRequestMacs(gruModel!, 30, 1, 1)).toBe(1200 + 1000);
    expect(retrievalRequestMacs(gruModel!, 30, 1, null)).toBe(31 * 1200 + 1000);
    // RWKV: 2 layers × 13 · 10² = 2,600 MACs per token.
    expect(retrievalRequestMacs(rwkvModel!, 30, 2, 1)).toBe(2 * 2600 + 1000);
    expect(retrievalRequestMacs(rwkvModel!, 30, 2, null)).toBe(32 * 2600 + 1000);
    gru.dispose();
    rwkv.dispose();
  });
});

describe('runBench with recurrent models', () => {
  jest.setTimeout(240_000);
  let out: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'malloc-recurrent-'));
  });

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('rejects a token strategy before training', async () => {
    await expect(runBench(smokeConfig(out, { models: ['rwkv'], strategies: ['full', 'window'] }), createMemoryLogger())).rejects.toThrow(strategyForRecurrentModel('rwkv', 'window', RECURRENT_STRATEGIES));
  });

  it('writes valid rows with state bytes and MACs', async () => {
    // One training epoch keeps the test short; the rows only need a trained checkpoint.
    const base = smokeConfig(out);
    const config = { ...base, models: ['gru4rec', 'rwkv'], strategies: ['full', 'recompute'], training: { ...base.training, epochs: 1 } };
    const outcome = await runBench(config, createMemoryLogger());
    expect(outcome.rowsWritten.length).toBe(4);
    const rows = readResults(join(out, 'results.jsonl')).rows;
    for (const row of rows) {
      expect(resultRowProblems(row)).toEqual([]);
      expect(row.status).toBe('ok');
      expect(row.macsPerRequest).toBeGreaterThan(0);
    }
    const d = config.model.hiddenSize;
    const layers = config.model.layers;
    const full = (model: string) => rows.find((row) => row.model === model && row.strategy === 'full');
    // The state: GRU h per layer (layers × d × 4 bytes), RWKV 5 vectors per layer (layers × 5d × 4 bytes).
    expect(full('gru4rec')?.bytesPerUser).toBe(layers * d * 4);
    expect(full('rwkv')?.bytesPerUser).toBe(layers * 5 * d * 4);
    const recompute = rows.find((row) => row.model === 'rwkv' && row.strategy === 'recompute');
    expect(recompute?.metrics).toEqual(full('rwkv')?.metrics);
  });
});

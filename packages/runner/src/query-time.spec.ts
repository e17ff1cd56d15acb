import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic, leaveOneOut } from '@malloc/data';
import { createHstu, initBackend, loadCheckpoint } from '@malloc/models';
import { runBench } from './bench';
import { resolveConfig, validateConfigInput, type RunConfig } from './config';
import { createMemoryLogger } from './logger';
import { queryTimeWithCtr, queryTimeWithoutTimeBias, sequenceVariantModel } from './messages';
import { checkTimeBiasModels, modelRowLabel } from './model-variants';
import { readResults } from './results-store';
import { trainedSettings } from './trained-settings';
import { UserRequests } from './user-requests';

const BASE = { maxLength: 32, hiddenSize: 16, layers: 2, heads: 1, dropout: 0.1 };

/** Largest absolute difference of two equally long arrays. */
function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i])), 0);
}

describe("HSTU with queryTime 'next' in the runner", () => {
  it('labels the rows hstu-nexttime', () => {
    expect(modelRowLabel('hstu', { ...BASE, queryTime: 'next' })).toBe('hstu-nexttime');
    expect(modelRowLabel('hstu', { ...BASE, queryTime: 'own' })).toBe('hstu');
  });

  it('rejects other models, timeBias false and the CTR task', () => {
    const next = { ...BASE, queryTime: 'next' as const };

    expect(() => checkTimeBiasModels(['hstu', 'sasrec'], next)).toThrow(new RangeError(sequenceVariantModel('sasrec', 'model.queryTime', ['hstu'])));
    expect(() => checkTimeBiasModels(['hstu'], { ...next, timeBias: false })).toThrow(new RangeError(queryTimeWithoutTimeBias()));
    expect(() => checkTimeBiasModels(['hstu'], next, 'ctr')).toThrow(new RangeError(queryTimeWithCtr()));
    expect(() => checkTimeBiasModels(['hstu'], next)).not.toThrow();
  });

  it("accepts only 'own' or 'next' in a config file", () => {
    expect(() => validateConfigInput({ model: { queryTime: 'next' } }, 'run.yaml')).not.toThrow();
    expect(() => validateConfigInput({ model: { queryTime: 'later' } }, 'run.yaml')).toThrow(/queryTime/);
  });

  it("keys trained models by 'next' only, so that 'own' shares the default's checkpoints", () => {
    const base = resolveConfig(null, { preset: 'smoke', backend: 'cpu' });

    const own = trainedSettings({ ...base, models: ['hstu'], model: { ...base.model, queryTime: 'own' } }, 'hstu');
    const next = trainedSettings({ ...base, models: ['hstu'], model: { ...base.model, queryTime: 'next' } }, 'hstu');

    expect(own).toEqual(trainedSettings({ ...base, models: ['hstu'] }, 'hstu'));
    expect(next.model.queryTime).toBe('next');
  });

  it('prefills for the first request item and appends for the target', async () => {
    await initBackend('cpu');
    const dataset = generateSynthetic({ users: 12, items: 30, meanLength: 14, maxLength: 30, seed: 3 });
    const split = leaveOneOut(dataset).test;
    const model = createHstu({ itemCount: dataset.itemCount, ...BASE, queryKeySize: 16, valueSize: 16, queryTime: 'next' }, 4);
    const times = dataset.timestamps as Float64Array;
    const users = Int32Array.from(split.users.keys());
    const requests = new UserRequests(model, dataset, split, users, { requestLength: 3, excludeHistory: true, statsWindow: 8, recordStats: false }, 4);

    for (let n = 0; n < users.length; n++) {
      const request = requests.get(n);
      if (request === null) continue;
      const start = dataset.offsets[split.users[n]];
      const targetTime = times[start + split.inputEnd[n]];
      const { timestamps, requestTimes, historyLength } = request;

      // The prefill's request time is the first request item's; the target's time scores the request.
      const expected = model.prefill(request.capped.subarray(0, historyLength), { timestamps: timestamps?.subarray(0, historyLength), requestTime: (requestTimes as Float64Array)[0] });
      expect(request.targetTime).toBe(targetTime);
      expect(maxDifference(request.prefilled.cache.layers[1].heads[0].keys.decode(), expected.cache.layers[1].heads[0].keys.decode())).toBeLessThan(1e-6);
      const appended = model.append(request.prefilled.cache, request.request, { timestamps: requestTimes, requestTime: targetTime });
      const plain = model.forwardLast(request.capped, { timestamps, requestTime: targetTime });
      expect(maxDifference(appended.hidden.subarray(appended.hidden.length - plain.length), plain)).toBeLessThan(1e-5);
    }
    model.dispose();
  });

  describe('runBench', () => {
    jest.setTimeout(240_000);
    let out: string;

    beforeAll(() => {
      out = mkdtempSync(join(tmpdir(), 'malloc-bench-nexttime-'));
    });

    afterAll(() => {
      rmSync(out, { recursive: true, force: true });
    });

    it('gives full the metrics of recompute, one-shot and streaming', async () => {
      // Synthetic data has timestamps; a request of 3 items exercises the request times inside append.
      const base = resolveConfig(null, { preset: 'smoke', out, backend: 'cpu' });
      const config: RunConfig = {
        ...base,
        models: ['hstu'],
        strategies: ['full', 'recompute'],
        training: { ...base.training, epochs: 1 },
        model: { ...base.model, queryTime: 'next' },
        evaluation: { ...base.evaluation, requestLength: 3 },
      };

      await runBench(config, createMemoryLogger());
      await runBench({ ...config, evaluation: { ...config.evaluation, protocol: 'streaming', chunkSize: 5 } }, createMemoryLogger());
      const rows = readResults(join(out, 'results.jsonl')).rows;
      const model = await loadCheckpoint(String(rows[0].training?.checkpoint));

      expect(rows.map((row) => [row.model, row.strategy, row.status])).toEqual([
        ['hstu-nexttime', 'full', 'ok'],
        ['hstu-nexttime', 'recompute', 'ok'],
        ['hstu-nexttime', 'full', 'ok'],
        ['hstu-nexttime', 'recompute', 'ok'],
      ]);
      expect(rows[0].metrics?.['ndcg@10']).toBeGreaterThan(0);
      for (const row of rows.slice(1)) {
        expect(row.metrics).toEqual(rows[0].metrics);
      }
      expect((model as unknown as { config: { queryTime?: string } }).config.queryTime).toBe('next');
      model.dispose();
    });
  });
});

import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompressionStrategy, MethodInfo } from '@malloc/compression';
import type { SequenceDataset } from '@malloc/data';
import { runBench } from './bench';
import type { ExtraMethod } from './cells';
import { resolveConfig, type RunConfig } from './config';
import { clickLabels, ctrMetrics, ctrSplit, ctrUserValues } from './evaluate-ctr';
import { createMemoryLogger } from './logger';
import { ctrNeedsLabels, ctrOneShotOnly, ctrSingleClass } from './messages';
import { readResults, resultRowProblems } from './results-store';

const USERS = 30;
const ITEMS = 40;

/** Length of user u's sequence: 20 to 29 interactions. */
function lengthOf(user: number): number {
  return 20 + (user % 10);
}

/** Item of user u at step t: a walk through the catalogue that depends on the user. */
function itemOf(user: number, step: number): number {
  return ((user * 7 + step * 3) % ITEMS) + 1;
}

/**
 * Writes a small MovieLens-100K-format `u.data` (user, item, rating, timestamp) into a fresh
 * data folder. Items 1..20 get 5 stars and the others 2, except that every 7th interaction
 * swaps the two, so clicks (rating ≥ 4) are mostly predictable from the item.
 */
function writeLabelledData(root: string): string {
  const lines: string[] = [];
  for (let user = 1; user <= USERS; user++) {
    for (let step = 0; step < lengthOf(user); step++) {
      const item = itemOf(user, step);
      const liked = (item <= 20) !== (step % 7 === 6);
      lines.push(`${user}\t${item}\t${liked ? 5 : 2}\t${880_000_000 + user * 100_000 + step * 60}`);
    }
  }
  const dataDir = join(root, 'data');
  mkdirSync(join(dataDir, 'ml-100k'), { recursive: true });
  writeFileSync(join(dataDir, 'ml-100k', 'u.data'), `${lines.join('\n')}\n`);
  return dataDir;
}

function ctrConfig(root: string, overrides: Partial<RunConfig> = {}): RunConfig {
  const config = resolveConfig(null, {
    preset: 'smoke',
    task: 'ctr',
    dataset: 'ml-100k',
    dataDir: writeLabelledData(root),
    out: join(root, 'out'),
    backend: 'cpu',
    strategies: ['full', 'recompute', 'window'],
    compressionRatios: [0.5],
    training: { epochs: 2 },
    evaluation: { impressions: 5, bootstrapResamples: 50 },
  });
  return { ...config, report: false, ...overrides };
}

/** Creates a strategy that keeps the cache unchanged and records the item ids of every cache it gets. */
function recordingMethod(seen: string[]): ExtraMethod {
  const info: MethodInfo = { id: 'test-records', name: 'Records its input', granularity: 'reference', family: 'test', needsTraining: false, reads: [], paper: 'Test-only strategy.' };
  return {
    info,
    create: (params): CompressionStrategy => ({
      id: info.id,
      params,
      compress: (cache) => {
        seen.push(Array.from(cache.itemIds).join(' '));
        return cache;
      },
    }),
  };
}

describe('CTR task', () => {
  jest.setTimeout(120_000);
  const root = mkdtempSync(join(tmpdir(), 'malloc-ctr-'));

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes schema-valid rows with AUC, GAUC and LogLoss', async () => {
    const seen: string[] = [];
    const config = ctrConfig(join(root, 'smoke'), { strategies: ['full', 'recompute', 'window', 'shared-basis', 'test-records'] });

    const outcome = await runBench(config, createMemoryLogger(), { extraMethods: [recordingMethod(seen)] });

    const rows = readResults(outcome.resultsPath).rows;
    expect(rows.map((row) => row.strategy)).toEqual(['full', 'recompute', 'window', 'shared-basis', 'test-records']);
    for (const row of rows) {
      expect(resultRowProblems(row)).toEqual([]);
      expect(row.status).toBe('ok');
      expect(row.task).toBe('ctr');
      expect(row.usersEvaluated).toBe(USERS);
      expect(row.ctr?.impressionsPerUser).toBe(5);
      expect(row.ctr?.impressions).toBe(USERS * 5);
      expect(row.ctr?.labelSource).toBe('ratings');
      expect(row.metrics?.auc).toBeGreaterThanOrEqual(0);
      expect(row.metrics?.auc).toBeLessThanOrEqual(1);
      expect(row.metrics?.gauc).toBeGreaterThanOrEqual(0);
      expect(row.metrics?.gauc).toBeLessThanOrEqual(1);
      expect(row.metrics?.logloss).toBeGreaterThan(0);
    }
    expect(outcome.summary).toContain('gauc');

    // The full cache and a full forward pass per impression give the same logits, so the same metrics.
    const [full, recompute, window] = rows;
    expect(recompute.metrics?.auc).toBeCloseTo(full.metrics?.auc ?? NaN, 5);
    expect(recompute.metrics?.logloss).toBeCloseTo(full.metrics?.logloss ?? NaN, 5);
    expect(window.meanCachedTokens).toBeLessThan(full.meanCachedTokens ?? 0);
    // GAUC and LogLoss carry bootstrap intervals, and every cell but full a paired test against full.
    expect(full.confidence?.gauc?.low).toBeLessThanOrEqual(full.metrics?.gauc ?? NaN);
    expect(full.confidence?.logloss?.high).toBeGreaterThanOrEqual(full.metrics?.logloss ?? NaN);
    expect(full.pairedVsFull).toBeUndefined();
    expect(window.pairedVsFull?.logloss?.n).toBe(USERS);
    // The shared basis is calibrated on training histories before the first test user.
    expect(rows[3].calibrationUsers).toBeGreaterThan(0);
  });

  it('shows a strategy only the history before the impressions', async () => {
    const seen: string[] = [];
    const config = ctrConfig(join(root, 'history'), { strategies: ['test-records'] });
    // Reuse the model trained by the run above, so that this run trains nothing.
    cpSync(join(root, 'smoke', 'out', 'checkpoints'), join(config.out, 'checkpoints'), { recursive: true });

    await runBench(config, createMemoryLogger(), { extraMethods: [recordingMethod(seen)] });

    // User u's history is its first lengthOf(u) − 5 interactions (at most maxLength − 1 = 31 of them).
    const histories = new Set<string>();
    for (let user = 1; user <= USERS; user++) {
      const history = Array.from({ length: lengthOf(user) - 5 }, (_, step) => itemOf(user, step));
      histories.add(history.slice(-(config.model.maxLength - 1)).join(' '));
    }
    expect(seen.length).toBe(USERS);
    for (const itemIds of seen) {
      // Internal ids equal raw ids here, because every item 1..40 occurs.
      expect(histories.has(itemIds)).toBe(true);
    }
  });

  it('rejects the streaming protocol', async () => {
    const base = ctrConfig(join(root, 'streaming'));
    const config = { ...base, evaluation: { ...base.evaluation, protocol: 'streaming' as const } };

    await expect(runBench(config, createMemoryLogger())).rejects.toThrow(new RangeError(ctrOneShotOnly('streaming')));
  });

  it('rejects a dataset without ratings or labels before writing anything', async () => {
    const out = join(root, 'synthetic');
    const config = { ...ctrConfig(join(root, 'unused')), dataset: 'synthetic', out };

    await expect(runBench(config, createMemoryLogger())).rejects.toThrow(new TypeError(ctrNeedsLabels('synthetic')));
    expect(existsSync(join(out, 'results.jsonl'))).toBe(false);
  });
});

describe('ctrSplit', () => {
  it('holds out test and validation impressions', () => {
    // Users of 3, 8 and 12 interactions with 3 impressions each.
    const dataset = { userCount: 3, offsets: new Int32Array([0, 3, 11, 23]) } as SequenceDataset;

    const split = ctrSplit(dataset, 3);

    // User 0 has 3 − 3 = 0 history items, so it is not evaluated. User 1: test [5, 8), validation [2, 5), train [0, 2).
    expect(split.usersTooShort).toBe(1);
    expect(Array.from(split.test.users)).toEqual([1, 2]);
    expect(Array.from(split.test.historyEnd)).toEqual([5, 9]);
    expect(Array.from(split.test.impressionEnd)).toEqual([8, 12]);
    expect(Array.from(split.validation.users)).toEqual([1, 2]);
    expect(Array.from(split.validation.historyEnd)).toEqual([2, 6]);
    expect(Array.from(split.validation.impressionEnd)).toEqual([5, 9]);
    expect(Array.from(split.trainEnd)).toEqual([0, 2, 6]);
  });
});

describe('clickLabels', () => {
  it('labels rating ≥ threshold as a click', () => {
    const dataset = { name: 'x', ratings: new Float32Array([5, 3, 4, 1, 3.5]) } as SequenceDataset;

    expect(Array.from(clickLabels(dataset).labels)).toEqual([1, 0, 1, 0, 0]);
    expect(Array.from(clickLabels(dataset, 3.5).labels)).toEqual([1, 0, 1, 0, 1]);
  });

  it('prefers the dataset labels over ratings', () => {
    const dataset = { name: 'x', ratings: new Float32Array([5, 1]), labels: new Uint8Array([0, 1]) } as SequenceDataset;

    const result = clickLabels(dataset);

    expect(Array.from(result.labels)).toEqual([0, 1]);
    expect(result.source).toBe('labels');
    expect(result.clickThreshold).toBeNull();
  });

  it('rejects a dataset with neither', () => {
    const dataset = { name: 'ml-1m', ratings: null, labels: null } as SequenceDataset;

    expect(() => clickLabels(dataset)).toThrow(new TypeError(ctrNeedsLabels('ml-1m')));
  });
});

describe('ctrMetrics', () => {
  it('computes AUC, GAUC and LogLoss with skipped users counted', () => {
    // User 0: logits 2 (click), 0 (no click) → AUC 1. User 1: −1 (click), 1 (no click) → AUC 0. User 2: one click only.
    const measurement = { users: [0, 0, 1, 1, 2], labels: [1, 0, 1, 0, 1], logits: [2, 0, -1, 1, 3] };

    const metrics = ctrMetrics(measurement);

    // Global pairs (click, no click): 2>0, 2>1, −1<0, −1<1, 3>0, 3>1 → 4 of 6.
    expect(metrics.auc).toBeCloseTo(4 / 6, 10);
    // GAUC = (2 · 1 + 2 · 0) / 4.
    expect(metrics.gauc).toBeCloseTo(0.5, 10);
    expect(metrics.gaucUsersSkipped).toBe(1);
    // LogLoss = mean of ln(1 + e^−z) for clicks and ln(1 + e^z) for the others.
    const expected = (Math.log(1 + Math.exp(-2)) + Math.log(2) + Math.log(1 + Math.exp(1)) + Math.log(1 + Math.exp(1)) + Math.log(1 + Math.exp(-3))) / 5;
    expect(metrics.logloss).toBeCloseTo(expected, 6);
    expect(metrics.clickRate).toBeCloseTo(3 / 5, 10);
  });

  it('splits AUC and LogLoss by user', () => {
    const measurement = { users: [0, 0, 1, 1, 2], labels: [1, 0, 1, 0, 1], logits: [2, 0, -1, 1, 3] };

    const values = ctrUserValues(measurement);

    // User 2 has one class, so it has a LogLoss but no AUC.
    expect(values.auc).toEqual([1, 0]);
    expect(values.aucUsers).toEqual([0, 1]);
    expect(values.logloss).toHaveLength(3);
    expect(values.logloss[0]).toBeCloseTo((Math.log(1 + Math.exp(-2)) + Math.log(2)) / 2, 6);
    expect(values.logloss[1]).toBeCloseTo(Math.log(1 + Math.exp(1)), 6);
    expect(values.logloss[2]).toBeCloseTo(Math.log(1 + Math.exp(-3)), 6);
  });

  it('rejects impressions of a single class', () => {
    expect(() => ctrMetrics({ users: [0, 1], labels: [1, 1], logits: [0, 1] })).toThrow(new RangeError(ctrSingleClass('evaluated', 2, 0)));
  });
});

import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger } from './logger';
import { mergeResults } from './merge';
import { mergeConfigMismatch, mergeConflict, mergeInputMissing, mergeNoInputs, mergeTargetExists } from './messages';
import { readResults, type ResultRow } from './results-store';

function row(cell: string, overrides: Partial<ResultRow> = {}): ResultRow {
  return {
    schemaVersion: 1,
    runId: 'run-a',
    cellKey: `synthetic__sasrec__${cell}__default__seed1`,
    status: 'ok',
    task: 'retrieval',
    protocol: 'one-shot',
    dataset: 'synthetic',
    model: 'sasrec',
    strategy: cell,
    family: 'reference',
    granularity: 'reference',
    params: {},
    setting: '',
    seed: 1,
    backend: 'cpu',
    usersEvaluated: 10,
    excludeHistory: true,
    metrics: { 'ndcg@10': 0.25 },
    bytesPerUser: 100,
    provenance: { gitCommit: null, packages: {}, backend: 'cpu', node: 'v20', machine: 'test', startedAt: 't0', finishedAt: 't1', configHash: 'hash-1' },
    ...overrides,
  };
}

/** Writes rows as a shard's results.jsonl and returns the shard folder. */
function shard(root: string, name: string, rows: ResultRow[]): string {
  const folder = join(root, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'results.jsonl'), rows.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  return folder;
}

describe('mergeResults', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'malloc-merge-'));
  });

  it('joins the rows of every shard', () => {
    const a = shard(root, 'a', [row('full'), row('recompute')]);
    const b = shard(root, 'b', [row('window')]);

    const outcome = mergeResults(join(root, 'merged'), [a, b], createMemoryLogger());

    expect(readResults(outcome.resultsPath).rows.map((entry) => entry.strategy)).toEqual(['full', 'recompute', 'window']);
    expect(outcome.duplicates).toBe(0);
  });

  it('accepts a results.jsonl path as input', () => {
    const a = shard(root, 'a', [row('full')]);

    const outcome = mergeResults(join(root, 'merged'), [join(a, 'results.jsonl')], createMemoryLogger());

    expect(outcome.rows).toHaveLength(1);
  });

  it('keeps one of two rows differing only in volatile fields', () => {
    const a = shard(root, 'a', [row('full')]);
    const b = shard(root, 'b', [row('full', { runId: 'run-b', latencyMs: { prefill: null, compress: null, append: null, score: null }, training: { seconds: 3 } })]);

    const outcome = mergeResults(join(root, 'merged'), [a, b], createMemoryLogger());

    expect(outcome.rows.map((entry) => entry.runId)).toEqual(['run-a']);
    expect(outcome.duplicates).toBe(1);
  });

  it('prefers the ok row over a failed row of the same cell', () => {
    const a = shard(root, 'a', [row('full', { status: 'failed', error: 'boom', metrics: undefined })]);
    const b = shard(root, 'b', [row('full')]);

    const outcome = mergeResults(join(root, 'merged'), [a, b], createMemoryLogger());

    expect(outcome.rows.map((entry) => entry.status)).toEqual(['ok']);
    expect(outcome.failedReplaced).toBe(1);
  });

  it('rejects a cell with different metrics, naming both lines', () => {
    const a = shard(root, 'a', [row('recompute'), row('full')]);
    const b = shard(root, 'b', [row('full', { metrics: { 'ndcg@10': 0.5 }, bytesPerUser: 7 })]);
    const merged = join(root, 'merged');

    const expected = mergeConflict(row('full').cellKey, `${join(a, 'results.jsonl')}:2`, `${join(b, 'results.jsonl')}:1`, ['bytesPerUser', 'metrics']);
    expect(() => mergeResults(merged, [a, b], createMemoryLogger())).toThrow(new RangeError(expected));
    expect(readResults(join(merged, 'results.jsonl')).rows).toEqual([]);
  });

  it('rejects rows of another configuration, naming both lines', () => {
    const a = shard(root, 'a', [row('full')]);
    const b = shard(root, 'b', [row('window'), row('recompute', { provenance: { ...row('x').provenance, configHash: 'hash-2' } })]);

    const expected = mergeConfigMismatch(`${join(a, 'results.jsonl')}:1`, 'hash-1', `${join(b, 'results.jsonl')}:2`, 'hash-2');
    expect(() => mergeResults(join(root, 'merged'), [a, b], createMemoryLogger())).toThrow(new RangeError(expected));
  });

  it('counts lines past blank lines and ignores a truncated last line', () => {
    const a = shard(root, 'a', [row('full')]);
    appendFileSync(join(a, 'results.jsonl'), `\n${JSON.stringify(row('full', { metrics: { 'ndcg@10': 0.9 } }))}\n{"cut`);
    const b = shard(root, 'b', [row('window')]);

    const expected = mergeConflict(row('full').cellKey, `${join(a, 'results.jsonl')}:1`, `${join(a, 'results.jsonl')}:3`, ['metrics']);
    expect(() => mergeResults(join(root, 'merged'), [a, b], createMemoryLogger())).toThrow(new RangeError(expected));
  });

  it('rejects an existing target, a missing input and no input', () => {
    const a = shard(root, 'a', [row('full')]);
    const missing = join(root, 'missing');

    expect(() => mergeResults(a, [a], createMemoryLogger())).toThrow(new RangeError(mergeTargetExists(join(a, 'results.jsonl'))));
    expect(() => mergeResults(join(root, 'merged'), [missing], createMemoryLogger())).toThrow(new RangeError(mergeInputMissing(missing)));
    expect(() => mergeResults(join(root, 'merged'), [], createMemoryLogger())).toThrow(new RangeError(mergeNoInputs()));
  });
});

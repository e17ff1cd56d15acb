import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refusingOverwrite } from './messages';
import { appendResultRow, readResults, resultRowProblems, writeNewFileAtomic, type ResultRow } from './results-store';

function sampleRow(overrides: Partial<ResultRow> = {}): ResultRow {
  return {
    schemaVersion: 1,
    runId: 'run-1',
    cellKey: 'synthetic__sasrec__window__compressionRatio=0.5__seed1',
    status: 'ok',
    task: 'retrieval',
    protocol: 'one-shot',
    dataset: 'synthetic',
    model: 'sasrec',
    strategy: 'window',
    family: 'token-pruning',
    granularity: 'token',
    params: { compressionRatio: 0.5 },
    setting: 'compressionRatio=0.5',
    seed: 1,
    backend: 'cpu',
    usersEvaluated: 10,
    excludeHistory: true,
    metrics: { 'hit@10': 0.5, 'ndcg@10': 0.25, 'hit@50': 0.75, 'ndcg@50': 0.3, mrr: 0.2 },
    bytesPerUser: 1000,
    fullBytesPerUser: 2000,
    compressionRatio: 2,
    latencyMs: { prefill: { p50: 1, p95: 2, p99: 2, mean: 1, firstMs: 3, count: 10 }, compress: null, append: null, score: null },
    provenance: { gitCommit: null, packages: {}, backend: 'cpu', node: 'v20', machine: 'test', startedAt: 'a', finishedAt: 'b', configHash: 'h' },
    ...overrides,
  };
}

describe('results store', () => {
  it('appends rows and reads them back in order', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'malloc-results-')), 'results.jsonl');

    appendResultRow(path, sampleRow({ seed: 1 }));
    appendResultRow(path, sampleRow({ seed: 2 }));

    expect(readResults(path).rows.map((row) => row.seed)).toEqual([1, 2]);
  });

  it('rejects a row missing metrics before writing', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'malloc-results-')), 'results.jsonl');
    const row = sampleRow();
    delete row.metrics;

    expect(() => appendResultRow(path, row)).toThrow(/does not match results-schema\.json/);
    expect(readResults(path).rows).toHaveLength(0);
  });

  it('accepts a failed row with its error and no metrics', () => {
    const row = sampleRow({ status: 'failed', error: 'boom' });
    delete row.metrics;

    expect(resultRowProblems(row)).toEqual([]);
  });

  it('rejects a metric above 1', () => {
    expect(resultRowProblems(sampleRow({ metrics: { 'hit@10': 1.5, 'ndcg@10': 0, 'hit@50': 0, 'ndcg@50': 0, mrr: 0 } })).length).toBeGreaterThan(0);
  });

  it('skips a truncated last line', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'malloc-results-')), 'results.jsonl');
    appendResultRow(path, sampleRow({ seed: 1 }));
    appendFileSync(path, '{"schemaVersion": 1, "runId"');

    expect(readResults(path)).toMatchObject({ truncatedLastLine: true });
    appendResultRow(path, sampleRow({ seed: 3 }));
    const lines = readFileSync(path, 'utf8').split('\n');

    expect(lines[1]).toBe('{"schemaVersion": 1, "runId"');
    expect(JSON.parse(lines[2]).seed).toBe(3);
  });

  it('throws on a malformed line that is not the last, naming it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'malloc-results-')), 'results.jsonl');
    writeFileSync(path, `not json\n${JSON.stringify(sampleRow())}\n`);

    expect(() => readResults(path)).toThrow(/Malformed line 1 in/);
  });

  it('never overwrites an existing file', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'malloc-results-')), 'config.json');
    writeNewFileAtomic(path, 'first');

    expect(() => writeNewFileAtomic(path, 'second')).toThrow(refusingOverwrite(path));
    expect(readFileSync(path, 'utf8')).toBe('first');
  });
});

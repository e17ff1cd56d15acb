// Results rows for tests, shaped like the runner's rows. Values are made up; only their
// relations matter (which point is cheaper or better than which).

/** A strategy name that would run script if a page inserted it as HTML. */
export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

/** Builds an ok results row (a plain JSON object) with the given fields replaced. */
export function okRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    runId: '2026-12-04T21-30-00Z-ab12cd',
    cellKey: 'ml-1m__sasrec__window__compressionRatio=0.875__1',
    status: 'ok',
    task: 'retrieval',
    protocol: 'one-shot',
    dataset: 'ml-1m',
    model: 'sasrec',
    strategy: 'window',
    family: 'token-pruning',
    granularity: 'token',
    params: { compressionRatio: 0.875 },
    setting: 'compressionRatio=0.875',
    seed: 1,
    backend: 'wasm',
    usersEvaluated: 6040,
    excludeHistory: true,
    metrics: { 'hit@10': 0.1, 'ndcg@10': 0.05, 'hit@50': 0.3, 'ndcg@50': 0.09, mrr: 0.04, 'hit@1': 0.01, 'ndcg@1': 0.01, 'hit@200': 0.6, 'ndcg@200': 0.12 },
    confidence: { 'ndcg@10': { low: 0.048, high: 0.052, confidence: 0.95, resamples: 1000 } },
    slices: { tail: { users: 604, metrics: { 'hit@10': 0.08, 'ndcg@10': 0.04 } } },
    bytesPerUser: 20000,
    fullBytesPerUser: 160000,
    compressionRatio: 8,
    latencyMs: {
      prefill: { p50: 1.2, p95: 2, p99: 2.5, mean: 1.3, firstMs: 9, count: 100 },
      compress: { p50: 0.3, p95: 0.5, p99: 0.6, mean: 0.3, firstMs: 1, count: 100 },
      append: { p50: 0.4, p95: 0.6, p99: 0.7, mean: 0.4, firstMs: 2, count: 100 },
      score: { p50: 2.1, p95: 3, p99: 3.3, mean: 2.2, firstMs: 5, count: 100 },
    },
    training: { epochsRun: 2, settings: { model: { maxLength: 200, hiddenSize: 50, layers: 2, heads: 1, dropout: 0.2 }, training: { epochs: 12, batchSize: 32 } } },
    provenance: {
      gitCommit: 'abc1234',
      packages: { '@malloc/runner': '0.0.0' },
      backend: 'wasm',
      node: 'v20.20.2',
      machine: 'linux x64, 2 cores',
      startedAt: '2026-12-04T21:30:00Z',
      finishedAt: '2026-12-04T21:40:00Z',
      configHash: 'cfg0001',
    },
    ...overrides,
  };
}

/** Builds a failed results row: no metrics, bytes or latency, and an error message. */
export function failedRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const row = okRow({ status: 'failed', error: 'out of memory', ...overrides });
  for (const field of ['metrics', 'confidence', 'slices', 'bytesPerUser', 'fullBytesPerUser', 'compressionRatio', 'latencyMs']) {
    if (!(field in overrides)) {
      delete row[field];
    }
  }
  return row;
}

/** Metrics of an ok row with the given NDCG@10 and the fixture's other values. */
export function metricsWith(ndcg10: number): Record<string, number> {
  return { 'hit@10': 0.1, 'ndcg@10': ndcg10, 'hit@50': 0.3, 'ndcg@50': 0.09, mrr: 0.04 };
}

/**
 * Builds a small leaderboard: 7 ok plottable rows on two datasets (one strategy with the
 * hostile name), 1 ok row with bytesPerUser 0 that a log axis cannot show, and 2 failed rows.
 */
export function leaderboardFixture(): Record<string, unknown>[] {
  return [
    okRow({ strategy: 'full', setting: '', params: {}, bytesPerUser: 160000, compressionRatio: 1, metrics: metricsWith(0.16) }),
    okRow({ strategy: 'window', bytesPerUser: 20000, metrics: metricsWith(0.12) }),
    okRow({ strategy: 'snapkv', bytesPerUser: 20400, compressionRatio: 7.84, metrics: metricsWith(0.14) }),
    okRow({ strategy: HOSTILE_NAME, model: 'hstu', setting: `${HOSTILE_NAME}=1`, bytesPerUser: 50000, metrics: metricsWith(0.15) }),
    okRow({ strategy: 'kivi', model: 'hstu', setting: 'bits=2', bytesPerUser: 40000, metrics: metricsWith(0.17) }),
    okRow({ dataset: 'ml-100k', strategy: 'full', setting: '', params: {}, bytesPerUser: 80000, metrics: metricsWith(0.2), seed: 2 }),
    okRow({ dataset: 'ml-100k', strategy: 'window', bytesPerUser: 10000, metrics: metricsWith(0.1), seed: 2 }),
    okRow({ strategy: 'recompute', setting: '', params: {}, bytesPerUser: 0, compressionRatio: null, metrics: metricsWith(0.16) }),
    failedRow({ strategy: 'h2o', error: 'kernel <script>alert(2)</script> failed' }),
    failedRow({ strategy: HOSTILE_NAME, model: 'hstu' }),
  ];
}

/** Formats rows as the text of a results.jsonl file. */
export function toJsonl(rows: readonly Record<string, unknown>[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

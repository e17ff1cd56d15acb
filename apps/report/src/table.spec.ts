import { failedRow, metricsWith, okRow, toJsonl } from './__fixtures__/rows';
import { parseResultsText } from './results';
import { formatGrouped, sortRowsForTable, sourceLabel, TABLE_COLUMNS, tableCsvHeader, tableCsvRows } from './table';

const FILE = '/home/someone/results/run-1/results.jsonl';

function rowsOf(values: Record<string, unknown>[]) {
  return parseResultsText(toJsonl(values), FILE).rows;
}

describe('sortRowsForTable', () => {
  it('orders by dataset, status, then NDCG@10', () => {
    const rows = rowsOf([
      okRow({ dataset: 'ml-1m', strategy: 'a', metrics: metricsWith(0.1) }),
      failedRow({ dataset: 'ml-1m', strategy: 'b' }),
      okRow({ dataset: 'ml-1m', strategy: 'c', metrics: metricsWith(0.3) }),
      okRow({ dataset: 'ml-100k', strategy: 'd', metrics: metricsWith(0.05) }),
      okRow({ dataset: 'ml-1m', strategy: 'e', metrics: { mrr: 0.1 } }),
      okRow({ dataset: 'ml-1m', strategy: 'f', metrics: metricsWith(0.3) }),
    ]);

    // 'ml-100k' sorts before 'ml-1m' because after 'ml-1' the code unit '0' is below 'm'.
    // Within ml-1m: c and f tie at 0.3 and keep input order; e has no ndcg@10; b failed goes last.
    expect(sortRowsForTable(rows).map((row) => row.strategy)).toEqual(['d', 'c', 'f', 'a', 'e', 'b']);
  });
});

describe('TABLE_COLUMNS', () => {
  it('lists the leaderboard columns in order', () => {
    expect(TABLE_COLUMNS.map((column) => column.header)).toEqual([
      'status',
      'dataset',
      'model',
      'strategy',
      'setting',
      'protocol',
      'seed',
      'users',
      'hit@10',
      'ndcg@10',
      'hit@50',
      'ndcg@50',
      'mrr',
      'bytes/user',
      'measured ratio',
      'prefill p50 ms',
      'compress p50 ms',
      'append p50 ms',
      'score p50 ms',
      'backend',
      'run',
      'task',
      'family',
      'accuracy metric',
      'accuracy',
      'accuracy CI',
      'auc',
      'gauc',
      'logloss',
      'tail accuracy',
      'MACs/request',
    ]);
  });

  it('shows a compact set by default', () => {
    const shown = TABLE_COLUMNS.filter((column) => column.shownByDefault).map((column) => column.header);

    expect(shown).toEqual(['status', 'dataset', 'model', 'strategy', 'setting', 'protocol', 'bytes/user', 'measured ratio', 'accuracy', 'accuracy CI']);
  });

  it('takes GAUC as the accuracy of CTR rows', () => {
    const [retrieval, ctr] = rowsOf([
      okRow(),
      okRow({ task: 'ctr', metrics: { auc: 0.71, gauc: 0.66, logloss: 0.52 }, confidence: { gauc: { low: 0.65, high: 0.67, confidence: 0.95 } } }),
    ]);
    const column = (header: string) => TABLE_COLUMNS.find((candidate) => candidate.header === header)!;

    expect(column('accuracy').value(retrieval)).toBe(0.05);
    expect(column('accuracy').value(ctr)).toBe(0.66);
    expect(column('accuracy metric').value(ctr)).toBe('gauc');
    expect(column('accuracy CI').text(ctr)).toBe('0.6500–0.6700');
    expect(column('accuracy CI').value(ctr)).toBe('95% CI 0.65 to 0.67');
    expect(column('logloss').value(ctr)).toBe(0.52);
    expect(column('ndcg@10').value(ctr)).toBeNull();
  });

  it('rounds for reading and keeps exact values', () => {
    const [row] = rowsOf([okRow({ metrics: metricsWith(0.123456), bytesPerUser: 1234567.89, compressionRatio: 7.8431 })]);
    const column = (header: string) => TABLE_COLUMNS.find((candidate) => candidate.header === header)!;

    expect(column('ndcg@10').text(row)).toBe('0.1235');
    expect(column('ndcg@10').value(row)).toBe(0.123456);
    expect(column('bytes/user').text(row)).toBe('1,234,567.9');
    expect(column('measured ratio').text(row)).toBe('7.84×');
    expect(column('prefill p50 ms').text(row)).toBe('1.20');
  });

  it('shows missing values as empty', () => {
    const [row] = rowsOf([failedRow()]);

    expect(TABLE_COLUMNS.find((column) => column.header === 'ndcg@10')!.text(row)).toBe('');
    expect(TABLE_COLUMNS.find((column) => column.header === 'ndcg@10')!.value(row)).toBeNull();
  });
});

describe('tableCsvRows', () => {
  it('adds error and source to each row', () => {
    const rows = rowsOf([failedRow({ error: 'out of memory' })]);

    const [cells] = tableCsvRows(rows);
    const header = tableCsvHeader();

    expect(cells).toHaveLength(header.length);
    expect(cells[header.indexOf('error')]).toBe('out of memory');
    expect(cells[header.indexOf('source')]).toBe('run-1/results.jsonl:1');
  });
});

describe('sourceLabel', () => {
  it('hides the local part of the path', () => {
    const [row] = rowsOf([okRow()]);

    expect(sourceLabel(row)).toBe('run-1/results.jsonl:1');
  });
});

describe('formatGrouped', () => {
  it('groups thousands with commas', () => {
    expect(formatGrouped(160000)).toBe('160,000');
    expect(formatGrouped(999)).toBe('999');
    expect(formatGrouped(20000.25)).toBe('20,000.3');
  });
});

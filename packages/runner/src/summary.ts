import type { ResultRow } from './results-store';

/**
 * Formats rows as a fixed-width text table for the end of a run: strategy, setting, users,
 * ndcg@10 with its 95 % interval, hit@10, bytes per user, measured ratio and latency medians.
 */
export function formatSummaryTable(rows: readonly ResultRow[]): string {
  const header = ['model', 'seed', 'strategy', 'setting', 'users', 'ndcg@10 [95% CI]', 'hit@10', 'mrr', 'bytes/user', 'ratio', 'append p50 ms', 'score p50 ms', 'status'];
  const body = rows.map((row) => {
    const ci = row.confidence?.['ndcg@10'];
    const ndcg = row.metrics === undefined ? '-' : `${row.metrics['ndcg@10'].toFixed(4)}${ci === undefined ? '' : ` [${ci.low.toFixed(4)}, ${ci.high.toFixed(4)}]`}`;
    return [
      row.model,
      String(row.seed),
      row.strategy,
      row.setting === '' ? '-' : row.setting,
      String(row.usersEvaluated),
      ndcg,
      row.metrics === undefined ? '-' : row.metrics['hit@10'].toFixed(4),
      row.metrics === undefined ? '-' : row.metrics.mrr.toFixed(4),
      row.bytesPerUser === undefined ? '-' : Math.round(row.bytesPerUser).toLocaleString('en-US'),
      row.compressionRatio === undefined ? '-' : `${row.compressionRatio.toFixed(2)}x`,
      row.latencyMs?.append?.p50.toFixed(2) ?? '-',
      row.latencyMs?.score?.p50.toFixed(2) ?? '-',
      row.status === 'ok' ? 'ok' : `failed: ${row.error ?? ''}`,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n');
}

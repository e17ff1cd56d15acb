import type { ResultRow } from './results';

/** Accuracy metric of a task: `gauc` for click-through-rate rows, `ndcg@10` for every other task. */
export function accuracyMetric(task: string): string {
  return task === 'ctr' ? 'gauc' : 'ndcg@10';
}

/** Display name of an accuracy metric, such as `NDCG@10` or `GAUC`. */
export function accuracyLabel(metric: string): string {
  return metric.toUpperCase();
}

/** Accuracy of a row under the metric of its task; null when the row lacks that metric. */
export function accuracyOf(row: ResultRow): number | null {
  return row.metrics[accuracyMetric(row.task)] ?? null;
}

/** Confidence interval of a row's accuracy as text, such as `95% CI 0.048 to 0.052`; `''` when the row has none. */
export function accuracyIntervalText(row: ResultRow): string {
  const interval = row.confidence[accuracyMetric(row.task)];
  if (interval === undefined) {
    return '';
  }
  return `${Math.round(interval.confidence * 1000) / 10}% CI ${interval.low} to ${interval.high}`;
}

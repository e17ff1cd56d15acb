import { accuracyMetric, accuracyOf } from './accuracy';
import type { ResultRow } from './results';

/** Byte budgets of the overview, as fractions of the uncompressed cache: 100 %, 50 %, 25 %, 12.5 % and 6.25 %. */
export const BYTE_BUDGETS: readonly number[] = [1, 0.5, 0.25, 0.125, 0.0625];

/** One setting of a method, averaged over its seeds. */
export interface SettingSummary {
  dataset: string;
  model: string;
  task: string;
  family: string;
  strategy: string;
  setting: string;
  protocol: string;
  /** Accuracy metric of the task, `ndcg@10` or `gauc`. */
  metric: string;
  /** Mean accuracy over the seeds. */
  accuracy: number;
  /** Mean stored bytes per user over the seeds. */
  bytesPerUser: number;
  /** Mean uncompressed bytes per user over the seeds. */
  fullBytesPerUser: number;
  /**
   * Number of seeds averaged. Rows of one seed (a rerun of a cell) are averaged first, so that a
   * seed weighs as much as any other. Each row without a seed counts as a seed of its own.
   */
  seeds: number;
}

/** The best setting within one byte budget of one (dataset, model, task) group; null when no setting fits. */
export interface BudgetWinner {
  /** Fraction of the uncompressed cache, from {@link BYTE_BUDGETS}. */
  budget: number;
  best: SettingSummary | null;
}

/** The overview of one (dataset, model, task) group: the winner of each budget. */
export interface OverviewGroup {
  dataset: string;
  model: string;
  task: string;
  metric: string;
  winners: BudgetWinner[];
}

/**
 * Averages ok rows over seeds: one summary per (dataset, model, task, strategy, setting,
 * protocol) with a finite accuracy, positive stored bytes and positive full bytes. Rows of
 * protocol `none` keep no cache, so they are left out. Rows of the same seed are averaged
 * before the seeds.
 */
export function summarizeSettings(rows: readonly ResultRow[]): SettingSummary[] {
  const groups = new Map<string, ResultRow[]>();
  for (const row of rows) {
    const accuracy = accuracyOf(row);
    if (!row.ok || row.protocol === 'none' || accuracy === null || (row.bytesPerUser ?? 0) <= 0 || (row.fullBytesPerUser ?? 0) <= 0) {
      continue;
    }
    const key = JSON.stringify([row.dataset, row.model, row.task, row.strategy, row.setting, row.protocol]);
    const members = groups.get(key) ?? [];
    members.push(row);
    groups.set(key, members);
  }

  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  return [...groups.values()].map((members) => {
    // Average each seed's rows, then the seeds.
    const bySeed = new Map<string, ResultRow[]>();
    members.forEach((row, index) => {
      const seedKey = row.seed === null ? `row ${index}` : `seed ${row.seed}`;
      bySeed.set(seedKey, [...(bySeed.get(seedKey) ?? []), row]);
    });
    const seedMeans = (value: (row: ResultRow) => number): number[] => [...bySeed.values()].map((seedRows) => mean(seedRows.map(value)));

    const first = members[0];
    return {
      dataset: first.dataset,
      model: first.model,
      task: first.task,
      family: first.family,
      strategy: first.strategy,
      setting: first.setting,
      protocol: first.protocol,
      metric: accuracyMetric(first.task),
      accuracy: mean(seedMeans((row) => accuracyOf(row) as number)),
      bytesPerUser: mean(seedMeans((row) => row.bytesPerUser as number)),
      fullBytesPerUser: mean(seedMeans((row) => row.fullBytesPerUser as number)),
      seeds: bySeed.size,
    };
  });
}

/**
 * Picks the best setting per byte budget for each (dataset, model, task): among the settings
 * whose mean stored bytes are at most the budget's fraction of their mean uncompressed bytes,
 * the one with the highest mean accuracy. Ties go to fewer bytes, then to the strategy and
 * setting that sort first. Groups come in code-unit order of dataset, model and task.
 *
 * @param rows - Every row; see {@link summarizeSettings} for the rows used.
 * @param budgets - Fractions of the uncompressed cache. Default value: {@link BYTE_BUDGETS}.
 */
export function bestPerBudget(rows: readonly ResultRow[], budgets: readonly number[] = BYTE_BUDGETS): OverviewGroup[] {
  const summaries = summarizeSettings(rows);
  const groups = new Map<string, SettingSummary[]>();
  for (const summary of summaries) {
    const key = JSON.stringify([summary.dataset, summary.model, summary.task]);
    const members = groups.get(key) ?? [];
    members.push(summary);
    groups.set(key, members);
  }

  return [...groups.keys()].sort(compareStrings).map((key) => {
    const members = groups.get(key) as SettingSummary[];
    const winners = budgets.map((budget) => {
      // A tolerance of one part in 10^9 keeps the full cache inside the 100 % budget despite rounding of the means.
      const fitting = members.filter((summary) => summary.bytesPerUser <= budget * summary.fullBytesPerUser * (1 + 1e-9));
      fitting.sort(
        (a, b) =>
          b.accuracy - a.accuracy ||
          a.bytesPerUser - b.bytesPerUser ||
          compareStrings(a.strategy, b.strategy) ||
          compareStrings(a.setting, b.setting) ||
          compareStrings(a.protocol, b.protocol),
      );
      return { budget, best: fitting[0] ?? null };
    });
    const { dataset, model, task, metric } = members[0];
    return { dataset, model, task, metric, winners };
  });
}

function compareStrings(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}

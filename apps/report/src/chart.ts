import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import { lengthMismatch } from './messages';
import type { ResultRow } from './results';

/**
 * Settings shared by every chart. Legend labels have no width limit (0; the Vega default cuts
 * them at 160 px), so that model labels that name their settings, such as
 * `sasrec (model.heads=2)`, are shown in full.
 */
export const CHART_CONFIG = { font: 'system-ui, sans-serif', legend: { labelLimit: 0 } } as const;

/** A Vega-Lite specification, as compiled by vega-lite 6. */
export type VegaLiteSpec = TopLevelSpec;

/**
 * The Okabe-Ito palette, which readers with any common form of colour blindness can tell
 * apart. Yellow comes last because it has the least contrast on white.
 *
 * @see Okabe, M. and Ito, K. "Color Universal Design (CUD): How to make figures and
 * presentations that are friendly to Colorblind people", J*Fly, 2002 (revised 2008),
 * https://jfly.uni-koeln.de/color/ (section "Set of colors that is unambiguous both to
 * colorblinds and non-colorblinds", given there as RGB triples).
 *
 * NOTE: with more than 8 strategies the colours repeat. The tooltip and the table still name
 * each point's strategy, and the build logs a warning.
 */
export const OKABE_ITO: readonly string[] = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442'];

/** Key of the metric on the y axis of the leaderboard chart. */
export const LEADERBOARD_METRIC = 'ndcg@10';

/** Identifier of the leaderboard chart, used for its element id and its file names. */
export const LEADERBOARD_CHART_ID = 'leaderboard';

/** Title of the leaderboard chart. */
export const LEADERBOARD_CHART_TITLE = 'NDCG@10 against stored cache bytes per user';

/**
 * One point of the leaderboard chart: one ok results row. The `*Text` fields hold the exact
 * values as strings, so that the tooltip shows them unrounded.
 */
export interface LeaderboardPoint {
  dataset: string;
  model: string;
  /** Task of the row, such as `retrieval`; a filter field of the page. */
  task: string;
  /** Method family of the row, such as `token-pruning`; a filter field of the page. */
  family: string;
  strategy: string;
  setting: string;
  protocol: string;
  seed: number | null;
  /** Mean stored bytes per user; always > 0, because the x axis is logarithmic. */
  bytesPerUser: number;
  /** NDCG@10 of the row. */
  ndcg10: number;
  /** Whether no other point of the same dataset has fewer or equal bytes and a higher or equal NDCG@10, one of them strictly. */
  pareto: boolean;
  ndcg10Text: string;
  bytesPerUserText: string;
  compressionRatioText: string;
  usersText: string;
  seedText: string;
  paretoText: string;
  runId: string;
  gitCommit: string;
  backend: string;
  node: string;
  machine: string;
  finishedAt: string;
  configHash: string;
  /** One sentence that describes the point, read by screen readers. */
  description: string;
}

/** An ok row left out of the leaderboard chart, with the reason. */
export interface UnplottedRow {
  row: ResultRow;
  reason: string;
}

/** Points of the leaderboard chart, and the rows that could not be plotted. */
export interface LeaderboardData {
  points: LeaderboardPoint[];
  /** Rows whose status is not ok. */
  failed: ResultRow[];
  /** Ok rows without a finite ndcg@10 or a positive bytesPerUser. */
  unplotted: UnplottedRow[];
}

/**
 * Marks the Pareto front of a set of (cost, value) pairs, where lower cost and higher value
 * are better. A pair is on the front when no other pair has a cost <= and a value >= with one
 * of the two strictly better. Equal pairs are all on the front.
 *
 * @param costs - Cost of each pair (here bytes per user).
 * @param values - Value of each pair (here NDCG@10), as many as `costs`.
 * @returns For each pair, whether it is on the front.
 * @throws RangeError when the arrays differ in length.
 * @example
 * paretoFront([1, 2, 2, 3], [0.1, 0.3, 0.2, 0.3]); // [true, true, false, false]
 */
export function paretoFront(costs: readonly number[], values: readonly number[]): boolean[] {
  if (costs.length !== values.length) {
    throw new RangeError(lengthMismatch('paretoFront', 'values', `${costs.length} values, one per cost`, values.length));
  }

  // Visit pairs by cost ascending, value descending; ties keep the lower index first.
  const order = costs.map((_, index) => index);
  order.sort((a, b) => costs[a] - costs[b] || values[b] - values[a] || a - b);

  // A pair is on the front when it is the best of its cost and beats every cheaper pair.
  const onFront = new Array<boolean>(costs.length).fill(false);
  let bestCheaperValue = -Infinity;
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end < order.length && costs[order[end]] === costs[order[start]]) {
      end++;
    }
    const groupBest = values[order[start]];
    for (let position = start; position < end; position++) {
      const index = order[position];
      onFront[index] = values[index] === groupBest && groupBest > bestCheaperValue;
    }
    bestCheaperValue = Math.max(bestCheaperValue, groupBest);
    start = end;
  }
  return onFront;
}

/**
 * Splits rows into chart points and the rows left out: failed rows, and ok rows without a
 * finite ndcg@10 or a positive bytesPerUser (a log axis cannot show 0). Each plotted row gives
 * exactly one point, in input order, with its Pareto flag computed within its dataset.
 *
 * @param rows - Rows as read by `readResultsFiles`.
 */
export function leaderboardData(rows: readonly ResultRow[]): LeaderboardData {
  const failed: ResultRow[] = [];
  const unplotted: UnplottedRow[] = [];
  const plotted: ResultRow[] = [];

  // Sort rows into plotted, failed and unplottable.
  for (const row of rows) {
    if (!row.ok) {
      failed.push(row);
      continue;
    }
    const ndcg = row.metrics[LEADERBOARD_METRIC];
    if (ndcg === undefined) {
      unplotted.push({ row, reason: `it has no ${LEADERBOARD_METRIC}` });
    } else if (row.bytesPerUser === null || row.bytesPerUser <= 0) {
      unplotted.push({ row, reason: `bytesPerUser is ${row.bytesPerUser === null ? 'missing' : row.bytesPerUser}, which a log axis cannot show` });
    } else {
      plotted.push(row);
    }
  }

  // Mark the Pareto front of each dataset among rows that keep a cache. A row without one
  // (protocol `none`, such as recompute) stores only item ids but pays a full forward pass per
  // request, so on a bytes axis it would dominate every cache. It is plotted but never on the front.
  const pareto = new Array<boolean>(plotted.length).fill(false);
  for (const dataset of new Set(plotted.map((row) => row.dataset))) {
    const indices = plotted.flatMap((row, index) => (row.dataset === dataset && row.protocol !== 'none' ? [index] : []));
    const front = paretoFront(
      indices.map((index) => plotted[index].bytesPerUser as number),
      indices.map((index) => plotted[index].metrics[LEADERBOARD_METRIC]),
    );
    indices.forEach((index, position) => (pareto[index] = front[position]));
  }

  const points = plotted.map((row, index) => toPoint(row, pareto[index]));
  return { points, failed, unplotted };
}

/**
 * Builds the leaderboard chart: NDCG@10 against stored bytes per user on a log axis, one
 * point per plotted row, colour by strategy (Okabe-Ito), shape by model, one panel per
 * dataset, and a dashed step line through each dataset's Pareto front. The data is inline,
 * so the chart loads nothing.
 *
 * @param points - Points from {@link leaderboardData}; `data.values` of the spec contains them in this order.
 */
export function buildLeaderboardSpec(points: readonly LeaderboardPoint[]): VegaLiteSpec {
  const strategies = uniqueSorted(points.map((point) => point.strategy));
  const models = uniqueSorted(points.map((point) => point.model));
  const x = {
    field: 'bytesPerUser',
    type: 'quantitative',
    scale: { type: 'log', padding: 12 },
    axis: { format: '~s', title: 'Stored cache bytes per user (log scale)' },
  } as const;
  const y = { field: 'ndcg10', type: 'quantitative', scale: { zero: false, padding: 12 }, axis: { title: 'NDCG@10' } } as const;

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: LEADERBOARD_CHART_TITLE,
    description: leaderboardDescription(points.length),
    data: { values: points.map((point) => ({ ...point })) },
    facet: { field: 'dataset', type: 'nominal', title: 'dataset' },
    columns: 2,
    spec: {
      width: 420,
      height: 300,
      layer: [
        {
          // Pareto front: the best NDCG@10 reachable with at most that many bytes.
          transform: [{ filter: 'datum.pareto' }],
          mark: { type: 'line', interpolate: 'step-after', color: '#595959', strokeDash: [4, 3], strokeWidth: 1.5 },
          encoding: { x, y, order: { field: 'bytesPerUser', type: 'quantitative' } },
        },
        {
          mark: { type: 'point', filled: true, size: 90, opacity: 0.9, stroke: '#ffffff', strokeWidth: 0.5 },
          encoding: {
            x,
            y,
            color: { field: 'strategy', type: 'nominal', title: 'strategy', scale: { domain: strategies, range: [...OKABE_ITO] } },
            shape: { field: 'model', type: 'nominal', title: 'model', scale: { domain: models } },
            description: { field: 'description', type: 'nominal' },
            tooltip: TOOLTIP_FIELDS.map(([field, title]) => ({ field, title, type: 'nominal' as const })),
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: { ...CHART_CONFIG, point: { size: 90 } },
  };
}

/** Describes the leaderboard chart in one sentence, for alt text. */
export function leaderboardDescription(pointCount: number): string {
  return `Scatter plot of NDCG@10 against stored cache bytes per user on a log axis, one point per successful run (${pointCount} points), coloured by strategy, shaped by model, one panel per dataset, with the Pareto front as a dashed step line.`;
}

/** Column names of the CSV behind the leaderboard chart, in order. */
export const LEADERBOARD_CSV_HEADER: readonly string[] = [
  'dataset',
  'model',
  'strategy',
  'setting',
  'protocol',
  'seed',
  'bytesPerUser',
  'ndcg@10',
  'pareto',
  'runId',
  'gitCommit',
  'backend',
  'configHash',
];

/** Cells of the CSV behind the leaderboard chart, one row per point, with exact numbers. */
export function leaderboardCsvRows(points: readonly LeaderboardPoint[]): (string | number | boolean | null)[][] {
  return points.map((point) => [
    point.dataset,
    point.model,
    point.strategy,
    point.setting,
    point.protocol,
    point.seed,
    point.bytesPerUser,
    point.ndcg10,
    point.pareto,
    point.runId,
    point.gitCommit,
    point.backend,
    point.configHash,
  ]);
}

// Tooltip entries: data field and title. Every field is a string with the exact value.
const TOOLTIP_FIELDS: readonly (readonly [keyof LeaderboardPoint, string])[] = [
  ['dataset', 'dataset'],
  ['model', 'model'],
  ['strategy', 'strategy'],
  ['setting', 'setting'],
  ['protocol', 'protocol'],
  ['seedText', 'seed'],
  ['ndcg10Text', 'ndcg@10'],
  ['bytesPerUserText', 'bytes per user'],
  ['compressionRatioText', 'measured ratio'],
  ['usersText', 'users'],
  ['paretoText', 'Pareto front'],
  ['runId', 'run'],
  ['gitCommit', 'git commit'],
  ['backend', 'backend'],
  ['node', 'node'],
  ['machine', 'machine'],
  ['finishedAt', 'finished'],
  ['configHash', 'config hash'],
];

function toPoint(row: ResultRow, pareto: boolean): LeaderboardPoint {
  const ndcg10 = row.metrics[LEADERBOARD_METRIC];
  const bytesPerUser = row.bytesPerUser as number;
  const interval = row.confidence[LEADERBOARD_METRIC];
  const intervalText = interval === undefined ? '' : ` (${formatPercent(interval.confidence)} CI ${interval.low} to ${interval.high})`;
  const settingText = row.setting === '' ? '' : ` ${row.setting}`;
  const seedText = row.seed === null ? '' : String(row.seed);

  return {
    dataset: row.dataset,
    model: row.model,
    task: row.task,
    family: row.family,
    strategy: row.strategy,
    setting: row.setting,
    protocol: row.protocol,
    seed: row.seed,
    bytesPerUser,
    ndcg10,
    pareto,
    ndcg10Text: `${ndcg10}${intervalText}`,
    bytesPerUserText: String(bytesPerUser),
    compressionRatioText: row.compressionRatio === null ? '' : `${row.compressionRatio}×`,
    usersText: row.usersEvaluated === null ? '' : String(row.usersEvaluated),
    seedText,
    paretoText: pareto ? 'yes' : 'no',
    runId: row.runId,
    gitCommit: row.provenance.gitCommit ?? '',
    backend: row.backend || (row.provenance.backend ?? ''),
    node: row.provenance.node ?? '',
    machine: row.provenance.machine ?? '',
    finishedAt: row.provenance.finishedAt ?? '',
    configHash: row.provenance.configHash ?? '',
    description: `${row.strategy}${settingText} on ${row.model}, ${row.dataset}, seed ${seedText || 'unknown'}: NDCG@10 ${ndcg10} at ${bytesPerUser} bytes per user.`,
  };
}

function formatPercent(level: number): string {
  return `${Math.round(level * 1000) / 10}%`;
}

/** Returns the distinct values in code-unit order, which does not depend on the locale. */
function uniqueSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareCodeUnits);
}

function compareCodeUnits(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}

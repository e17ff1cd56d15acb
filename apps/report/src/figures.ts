import { accuracyIntervalText, accuracyMetric, accuracyOf } from './accuracy';
import { CHART_CONFIG, OKABE_ITO, paretoFront, VegaLiteSpec } from './chart';
import type { ComplexityCurve } from './complexity';
import type { CsvCell } from './csv';
import { uniqueSorted } from './order';
import { LATENCY_PHASES, ResultRow } from './results';

/** One record of a figure's data: a flat object of strings, numbers, flags and nulls. */
export type FigureRecord = Record<string, string | number | boolean | null>;

/** A chart of the site with its data, ready to embed, export as SVG and export as CSV. */
export interface Figure {
  /** Element id and base name of the SVG and CSV files. */
  id: string;
  /** Heading of the figure's section. */
  heading: string;
  /** Title drawn above the chart. */
  title: string;
  /** One sentence that describes the chart, used as its alt text. */
  altText: string;
  /** Caption below the chart, in plain text. */
  caption: string;
  /** Records behind the chart; the layer named `points` draws one mark per record, except in the latency figure, which draws one per record and phase. */
  records: FigureRecord[];
  spec: VegaLiteSpec;
  csvHeader: string[];
  csvRows: CsvCell[][];
}

/** Name of the layer that draws one mark per record in every figure; vega gives its marks the class `points_marks`. */
export const POINTS_LAYER = 'points';

/** Fields of every figure record that the page's filters match on. */
export const FILTER_FIELDS = ['dataset', 'model', 'task', 'family'] as const;

/** Slice of users that the tail figure shows: the longest 10 % of histories, as the runner records it. */
export const TAIL_SLICE = 'tail';

// Tooltip entries shared by every figure built from results rows: field and title.
const PROVENANCE_TOOLTIP: readonly (readonly [string, string])[] = [
  ['runId', 'run'],
  ['gitCommit', 'git commit'],
  ['backend', 'backend'],
  ['node', 'node'],
  ['machine', 'machine'],
  ['finishedAt', 'finished'],
  ['configHash', 'config hash'],
];
const IDENTITY_TOOLTIP: readonly (readonly [string, string])[] = [
  ['dataset', 'dataset'],
  ['model', 'model'],
  ['task', 'task'],
  ['family', 'family'],
  ['strategy', 'strategy'],
  ['setting', 'setting'],
  ['protocol', 'protocol'],
  ['seed', 'seed'],
];

/**
 * Returns the fields that every figure record of a row carries: identity, accuracy with its
 * confidence interval as exact text, and provenance. Numbers in `*Text` fields are unrounded.
 */
export function rowRecord(row: ResultRow): FigureRecord {
  const metric = accuracyMetric(row.task);
  const accuracy = accuracyOf(row);
  const interval = accuracyIntervalText(row);
  return {
    dataset: row.dataset,
    model: row.model,
    task: row.task,
    family: row.family,
    strategy: row.strategy,
    setting: row.setting,
    protocol: row.protocol,
    seed: row.seed === null ? '' : String(row.seed),
    metric,
    accuracy,
    accuracyText: accuracy === null ? '' : `${metric} ${accuracy}${interval === '' ? '' : ` (${interval})`}`,
    bytesPerUser: row.bytesPerUser,
    compressionRatio: row.compressionRatio,
    macsPerRequest: row.macsPerRequest,
    runId: row.runId,
    gitCommit: row.provenance.gitCommit ?? '',
    backend: row.backend || (row.provenance.backend ?? ''),
    node: row.provenance.node ?? '',
    machine: row.provenance.machine ?? '',
    finishedAt: row.provenance.finishedAt ?? '',
    configHash: row.provenance.configHash ?? '',
  };
}

/**
 * Marks the Pareto front of accuracy against a cost within each (dataset, task) group of
 * records, in place, as the boolean field `pareto` and the text field `paretoText`. Records
 * of protocol `none` (recompute, which keeps no cache) are never on the front.
 *
 * @param records - Records with a numeric `accuracy` and a positive numeric `costField`.
 * @param costField - Field of the cost, such as `bytesPerUser` or `macsPerRequest`.
 */
export function markParetoFront(records: FigureRecord[], costField: string): void {
  const groups = new Map<string, number[]>();
  records.forEach((record, index) => {
    record.pareto = false;
    if (record.protocol === 'none') {
      return;
    }
    const key = JSON.stringify([record.dataset, record.task]);
    const members = groups.get(key) ?? [];
    members.push(index);
    groups.set(key, members);
  });
  for (const indices of groups.values()) {
    const front = paretoFront(
      indices.map((index) => records[index][costField] as number),
      indices.map((index) => records[index].accuracy as number),
    );
    indices.forEach((index, position) => (records[index].pareto = front[position]));
  }
  for (const record of records) {
    record.paretoText = record.pareto ? 'yes' : 'no';
  }
}

/**
 * Builds the Pareto figure of accuracy against a cost per row. It draws one point per ok row
 * with a finite accuracy and a positive cost. A ring marks each non-dominated point, and a
 * dashed step line joins the front of each (dataset, task) panel.
 *
 * @param rows - Every row; rows without the needed values are left out.
 * @param cost - `bytes` for measured stored bytes per user, `macs` for `macsPerRequest`.
 */
export function paretoFigure(rows: readonly ResultRow[], cost: 'bytes' | 'macs'): Figure {
  const costField = cost === 'bytes' ? 'bytesPerUser' : 'macsPerRequest';
  const costTitle = cost === 'bytes' ? 'Stored cache bytes per user (log scale)' : 'MACs per request (log scale)';
  const records = rows.filter((row) => row.ok && accuracyOf(row) !== null && (row[costField] ?? 0) > 0).map(rowRecord);
  markParetoFront(records, costField);

  const x = { field: costField, type: 'quantitative', scale: { type: 'log', padding: 12 }, axis: { format: '~s', title: costTitle } } as const;
  const y = accuracyAxis();
  const id = cost === 'bytes' ? 'pareto-bytes' : 'pareto-macs';
  const title = cost === 'bytes' ? 'Accuracy against stored cache bytes per user' : 'Accuracy against MACs per request';
  const spec = facetedSpec(title, records, { field: 'dataset', type: 'nominal', title: 'dataset' }, [
    {
      transform: [{ filter: 'datum.pareto' }],
      mark: { type: 'line', interpolate: 'step-after', color: '#595959', strokeDash: [4, 3], strokeWidth: 1.5 },
      encoding: { x, y, detail: { field: 'task', type: 'nominal' }, order: { field: costField, type: 'quantitative' } },
    },
    {
      transform: [{ filter: 'datum.pareto' }],
      mark: { type: 'point', filled: false, size: 260, color: '#1a1a1a', strokeWidth: 1.5 },
      encoding: { x, y },
    },
    pointsLayer(records, x, y, [[costField, cost === 'bytes' ? 'bytes per user' : 'MACs per request'], ['compressionRatio', 'measured ratio'], ['paretoText', 'Pareto front']]),
  ]);

  return {
    id,
    heading: cost === 'bytes' ? 'Pareto front: accuracy against memory' : 'Pareto front: accuracy against compute',
    title,
    altText: `Scatter plot of accuracy (NDCG@10, or GAUC for CTR) against ${cost === 'bytes' ? 'stored cache bytes per user' : 'MACs per request'} on a log axis, ${records.length} points, one panel per dataset, non-dominated points ringed.`,
    caption: [
      `Each point is one successful run: its accuracy (NDCG@10 for retrieval, GAUC for CTR) against ${cost === 'bytes' ? 'the mean measured bytes of the stored cache per user' : 'the multiply-accumulate operations per request that the row records'}.`,
      'A ring marks a non-dominated run: no other run of the same dataset and task is at most as costly and at least as accurate, one of the two strictly.',
      'The dashed step line joins the front. Recompute rows keep no cache, so they are plotted but never on the front. The front is computed over all rows before any filter.',
    ].join(' '),
    records,
    spec,
    ...figureCsv(records, [costField, 'compressionRatio', 'pareto']),
  };
}

/**
 * Builds the curves of accuracy against measured compression ratio. Each (dataset, method
 * family) gets a panel, three panels to a line. Each strategy, model and protocol gets a line
 * through its settings, and each ok row with a finite accuracy and a positive ratio a point.
 */
export function ratioFigure(rows: readonly ResultRow[]): Figure {
  const records = rows
    .filter((row) => row.ok && accuracyOf(row) !== null && (row.compressionRatio ?? 0) > 0)
    .map((row) => ({ ...rowRecord(row), panel: `${row.dataset} · ${row.family || 'no family'}` }));
  const x = { field: 'compressionRatio', type: 'quantitative', scale: { type: 'log', padding: 12 }, axis: { title: 'Measured compression ratio (full bytes / stored bytes, log scale)' } } as const;
  const y = accuracyAxis();
  const spec = facetedSpec(
    'Accuracy against compression ratio per method family',
    records,
    { field: 'panel', type: 'nominal', title: 'dataset · family' },
    [
      {
        mark: { type: 'line', strokeWidth: 1.2, opacity: 0.7 },
        encoding: {
          x,
          y: { ...y, aggregate: 'mean' },
          color: strategyColour(records),
          detail: [{ field: 'model', type: 'nominal' }, { field: 'protocol', type: 'nominal' }],
        },
      },
      pointsLayer(records, x, y, [['compressionRatio', 'measured ratio'], ['bytesPerUser', 'bytes per user']]),
    ],
    3,
  );
  return {
    id: 'ratio-curves',
    heading: 'Accuracy against compression ratio',
    title: 'Accuracy against compression ratio per method family',
    altText: `Line charts of accuracy against measured compression ratio on a log axis, ${records.length} points, one panel per dataset and method family, one line per strategy and model.`,
    caption:
      'Each point is one successful run; each line joins the mean accuracy of one strategy, model and protocol over its settings. The measured ratio is the full cache bytes divided by the stored bytes, so 1 means no compression.',
    records,
    spec,
    ...figureCsv(records, ['compressionRatio', 'bytesPerUser']),
  };
}

/**
 * Builds the latency figure: the median milliseconds of each serving phase (prefill,
 * compress, append, score) per strategy, one panel per phase, one point per ok row and phase
 * with a positive median, coloured by model. Each record is one row with a `<phase>Ms` field
 * per phase. The chart folds them into one point per phase, so the page carries each row once.
 */
export function latencyFigure(rows: readonly ResultRow[]): Figure {
  const phaseField = (phase: string): string => `${phase}Ms`;
  const records: FigureRecord[] = [];
  for (const row of rows.filter((candidate) => candidate.ok)) {
    const phases = LATENCY_PHASES.filter((phase) => (row.latencyP50Ms[phase] ?? 0) > 0);
    if (phases.length > 0) {
      const record = rowRecord(row);
      for (const phase of LATENCY_PHASES) {
        record[phaseField(phase)] = phases.includes(phase) ? row.latencyP50Ms[phase] : null;
      }
      records.push(record);
    }
  }
  const models = uniqueSorted(records.map((record) => String(record.model)));
  const spec: VegaLiteSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Median latency per serving phase',
    data: { values: records },
    transform: [
      { fold: LATENCY_PHASES.map(phaseField), as: ['phaseField', 'p50Ms'] },
      { filter: 'isValid(datum.p50Ms) && datum.p50Ms > 0' },
      { calculate: "replace(datum.phaseField, 'Ms', '')", as: 'phase' },
    ],
    facet: { column: { field: 'phase', type: 'nominal', title: 'phase', sort: [...LATENCY_PHASES] } },
    spec: {
      width: 220,
      height: { step: 14 },
      layer: [
        {
          name: POINTS_LAYER,
          mark: { type: 'point', filled: true, size: 50, opacity: 0.8 },
          encoding: {
            x: { field: 'p50Ms', type: 'quantitative', scale: { type: 'log' }, axis: { title: 'p50 ms (log scale)' } },
            y: { field: 'strategy', type: 'nominal', title: 'strategy', sort: 'ascending' },
            color: { field: 'model', type: 'nominal', title: 'model', scale: { domain: models, range: [...OKABE_ITO] } },
            shape: { field: 'model', type: 'nominal', title: 'model', scale: { domain: models } },
            tooltip: tooltip([['phase', 'phase'], ['p50Ms', 'p50 ms']]),
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent' } },
    config: CHART_CONFIG,
  } as VegaLiteSpec;
  return {
    id: 'latency',
    heading: 'Latency per phase',
    title: 'Median latency per serving phase',
    altText: `Dot plot of the median latency in milliseconds of each serving phase per strategy on a log axis, ${records.length} runs, one panel per phase, coloured by model.`,
    caption:
      'Each point is the median (p50) milliseconds of one phase of one successful run, measured after warm-up. A phase that does not apply to a method (recompute has no prefill or compress) or took 0 ms has no point.',
    records,
    spec,
    ...figureCsv(records, LATENCY_PHASES.map(phaseField)),
  };
}

/**
 * Builds the tail-user figure: accuracy over the tail slice (the users with the longest 10 %
 * of histories) against accuracy over all users, one point per ok row that records both.
 */
export function tailFigure(rows: readonly ResultRow[]): Figure {
  const records: FigureRecord[] = [];
  for (const row of rows) {
    const accuracy = accuracyOf(row);
    const tail = row.slices[TAIL_SLICE]?.metrics[accuracyMetric(row.task)];
    if (row.ok && accuracy !== null && tail !== undefined) {
      records.push({ ...rowRecord(row), tailAccuracy: tail, tailUsers: row.slices[TAIL_SLICE].users });
    }
  }
  const x = { field: 'accuracy', type: 'quantitative', scale: { zero: false, padding: 12 }, axis: { title: 'Accuracy over all users (NDCG@10, or GAUC for CTR)' } } as const;
  const y = { field: 'tailAccuracy', type: 'quantitative', scale: { zero: false, padding: 12 }, axis: { title: 'Accuracy over tail users' } } as const;
  const spec = facetedSpec('Accuracy of tail users against all users', records, { field: 'dataset', type: 'nominal', title: 'dataset' }, [
    pointsLayer(records, x, y, [['tailAccuracy', 'tail accuracy'], ['tailUsers', 'tail users'], ['bytesPerUser', 'bytes per user']]),
  ]);
  return {
    id: 'tail-users',
    heading: 'Tail users',
    title: 'Accuracy of tail users against all users',
    altText: `Scatter plot of accuracy over the tail users against accuracy over all users, ${records.length} points, one panel per dataset.`,
    caption:
      'The tail slice holds the test users with the longest 10 % of histories, whose caches are compressed hardest. Each point is one successful run that records the slice; a point below the diagonal loses more on tail users than on average.',
    records,
    spec,
    ...figureCsv(records, ['tailAccuracy', 'tailUsers', 'bytesPerUser']),
  };
}

/**
 * Builds the complexity figure from the curves of `complexity.json`: one line per curve and
 * one point per measured history length, one panel per measure, each with its own y axis.
 */
export function complexityFigure(curves: readonly ComplexityCurve[]): Figure {
  const records: FigureRecord[] = curves.flatMap((curve) =>
    curve.points.map((point) => ({
      dataset: curve.dataset,
      model: curve.model,
      task: curve.task,
      family: curve.family,
      strategy: curve.strategy,
      setting: curve.setting,
      measure: curve.measure,
      unit: curve.unit,
      historyLength: point.historyLength,
      value: point.value,
      source: curve.source,
    })),
  );
  const x = { field: 'historyLength', type: 'quantitative', scale: { type: 'log' }, axis: { title: 'History length (items, log scale)' } } as const;
  const y = { field: 'value', type: 'quantitative', scale: { type: 'log' }, axis: { title: 'Value (see panel, log scale)' } } as const;
  const colour = strategyColour(records);
  const spec: VegaLiteSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Cost against history length',
    data: { values: records },
    facet: { column: { field: 'measure', type: 'nominal', title: 'measure' } },
    spec: {
      width: 300,
      height: 240,
      layer: [
        { mark: { type: 'line', strokeWidth: 1.2 }, encoding: { x, y, color: colour, detail: [{ field: 'model', type: 'nominal' }, { field: 'setting', type: 'nominal' }, { field: 'dataset', type: 'nominal' }] } },
        {
          name: POINTS_LAYER,
          mark: { type: 'point', filled: true, size: 40 },
          encoding: {
            x,
            y,
            color: colour,
            tooltip: ['dataset', 'model', 'task', 'family', 'strategy', 'setting', 'measure', 'unit', 'historyLength', 'value', 'source'].map((field) => ({ field, type: 'nominal' as const })),
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
    config: CHART_CONFIG,
  } as VegaLiteSpec;
  return {
    id: 'complexity',
    heading: 'Complexity against history length',
    title: 'Cost against history length',
    altText: `Line charts of each measured cost against history length on log axes, ${records.length} points, one panel per measure, one line per strategy.`,
    caption: 'Each point is one value from complexity.json. Each panel is one measure with its own unit and y axis, and its title says whether the values are analytical or measured.',
    records,
    spec,
    csvHeader: ['dataset', 'model', 'task', 'family', 'strategy', 'setting', 'measure', 'unit', 'historyLength', 'value', 'source'],
    csvRows: records.map((record) => [record.dataset, record.model, record.task, record.family, record.strategy, record.setting, record.measure, record.unit, record.historyLength, record.value, record.source]),
  };
}

/**
 * Builds the figure of one method's page: accuracy against stored bytes per user for every
 * ok row of the method, coloured by model, one panel per dataset.
 *
 * @param id - Element id and base name of the figure's files.
 * @param strategy - The method's strategy name, used in the title.
 * @param rows - The method's rows.
 */
export function methodFigure(id: string, strategy: string, rows: readonly ResultRow[]): Figure {
  const records = rows.filter((row) => row.ok && accuracyOf(row) !== null && (row.bytesPerUser ?? 0) > 0).map(rowRecord);
  const x = { field: 'bytesPerUser', type: 'quantitative', scale: { type: 'log', padding: 12 }, axis: { format: '~s', title: 'Stored cache bytes per user (log scale)' } } as const;
  const y = accuracyAxis();
  const models = uniqueSorted(records.map((record) => String(record.model)));
  const layer = pointsLayer(records, x, y, [['bytesPerUser', 'bytes per user'], ['compressionRatio', 'measured ratio']]);
  layer.encoding.color = { field: 'model', type: 'nominal', title: 'model', scale: { domain: models, range: [...OKABE_ITO] } };
  const title = `${strategy}: accuracy against stored bytes per user`;
  return {
    id,
    heading: 'Accuracy against memory',
    title,
    altText: `Scatter plot of accuracy against stored cache bytes per user for ${strategy}, ${records.length} points, coloured by model, one panel per dataset.`,
    caption: 'Each point is one successful run of this method: accuracy (NDCG@10, or GAUC for CTR) against the mean measured bytes of the stored cache per user.',
    records,
    spec: facetedSpec(title, records, { field: 'dataset', type: 'nominal', title: 'dataset' }, [layer]),
    ...figureCsv(records, ['bytesPerUser', 'compressionRatio']),
  };
}

interface PointsLayer {
  name: string;
  mark: Record<string, unknown>;
  encoding: Record<string, unknown>;
}

function pointsLayer(records: readonly FigureRecord[], x: object, y: object, extraTooltip: readonly (readonly [string, string])[]): PointsLayer {
  const models = uniqueSorted(records.map((record) => String(record.model)));
  return {
    name: POINTS_LAYER,
    mark: { type: 'point', filled: true, size: 80, opacity: 0.9, stroke: '#ffffff', strokeWidth: 0.5 },
    encoding: {
      x,
      y,
      color: strategyColour(records),
      shape: { field: 'model', type: 'nominal', title: 'model', scale: { domain: models } },
      tooltip: tooltip(extraTooltip),
    },
  };
}

function tooltip(extra: readonly (readonly [string, string])[]): { field: string; title: string; type: 'nominal' }[] {
  return [...IDENTITY_TOOLTIP, ['accuracyText', 'accuracy'] as const, ...extra, ...PROVENANCE_TOOLTIP].map(([field, title]) => ({ field, title, type: 'nominal' }));
}

function strategyColour(records: readonly FigureRecord[]): Record<string, unknown> {
  const strategies = uniqueSorted(records.map((record) => String(record.strategy)));
  return { field: 'strategy', type: 'nominal', title: 'strategy', scale: { domain: strategies, range: [...OKABE_ITO] } };
}

function accuracyAxis(): Record<string, unknown> {
  return { field: 'accuracy', type: 'quantitative', scale: { zero: false, padding: 12 }, axis: { title: 'Accuracy (NDCG@10, or GAUC for CTR)' } };
}

function facetedSpec(title: string, records: readonly FigureRecord[], facet: object, layer: object[], columns = 2): VegaLiteSpec {
  const width = columns > 2 ? 260 : 360;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: records },
    facet,
    columns,
    spec: { width, height: 220, layer },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: CHART_CONFIG,
  } as VegaLiteSpec;
}

function figureCsv(records: readonly FigureRecord[], extra: readonly string[]): { csvHeader: string[]; csvRows: CsvCell[][] } {
  const header = ['dataset', 'model', 'task', 'family', 'strategy', 'setting', 'protocol', 'seed', 'metric', 'accuracy', ...extra, 'runId', 'gitCommit', 'backend', 'configHash'];
  return { csvHeader: header, csvRows: records.map((record) => header.map((field) => record[field] ?? null)) };
}


import {
  buildLeaderboardSpec,
  LEADERBOARD_CHART_ID,
  LEADERBOARD_CHART_TITLE,
  LEADERBOARD_CSV_HEADER,
  LeaderboardData,
  leaderboardCsvRows,
  leaderboardData,
  leaderboardDescription,
  OKABE_ITO,
} from './chart';
import { toCsv } from './csv';
import { Logger, silentLogger } from './logger';
import { countOf, invalidArgument, moreStrategiesThanColours, rowsLeftOutOfChart, siteBuilt, unplottableRow } from './messages';
import { readComplexityFiles } from './complexity';
import { complexityFigure, Figure, FILTER_FIELDS, latencyFigure, methodFigure, paretoFigure, ratioFigure, tailFigure } from './figures';
import { methodPageFile, readMethodCatalogue, rowsByStrategy } from './methods';
import { uniqueSorted } from './order';
import { bestPerBudget } from './overview';
import { FilterOptions, NavEntry, PageChart, renderChart, renderFigure, renderPage, renderTable } from './page';
import { renderSvg, staticExportSpec } from './render-svg';
import { ReadResults, readResultsFiles, ResultRow } from './results';
import { OVERVIEW_CSV_HEADER, overviewCsvRows, renderMethodList, renderOverviewTable, renderSettingsTable, renderTaxonomy } from './site-pages';
import { SITE_SCRIPT, SITE_STYLE } from './site-script';
import { SiteWriter } from './site-writer';
import { sortRowsForTable, tableCsvHeader, tableCsvRows } from './table';
import { collectVendorAssets } from './vendor';

/** Title of the site when `BuildSiteOptions.title` is not given. */
export const DEFAULT_SITE_TITLE = 'MALLOC leaderboard';

/** Options of {@link buildSite}. */
export interface BuildSiteOptions {
  /** Results directories (each holding a results.jsonl) or results.jsonl paths; at least one. */
  results: string[];
  /** Output folder; created when missing. Files of an earlier build are replaced, other files are left alone. */
  site: string;
  /** Receives warnings (rows left out of the chart, ignored lines) and a summary. Default value: a silent logger. */
  logger?: Logger;
  /** Title of the page. Default value: {@link DEFAULT_SITE_TITLE}. */
  title?: string;
}

/** Summary of the files that {@link buildSite} wrote. Every path is absolute. */
export interface BuildSiteResult {
  /** HTML pages: the overview `index.html` first, then the other pages and one page per method. */
  pages: string[];
  /** Rows read from the results files, whatever their status. */
  rows: number;
  /** Rows left out of the overview's leaderboard chart: CTR rows, rows whose status is not ok, and ok rows without a finite ndcg@10 or a positive bytesPerUser. */
  skippedRows: number;
  /** SVG exports of the charts, rendered in Node; the leaderboard chart first. */
  svgFiles: string[];
  /** CSV files: the data behind each chart and the overview table, then the full results table last. */
  csvFiles: string[];
}

// File names inside the site folder.
const INDEX_FILE = 'index.html';
const STYLE_FILE = 'site.css';
const SCRIPT_FILE = 'site.js';
const TABLE_CSV_FILE = 'results.csv';
const OVERVIEW_CSV_FILE = 'overview.csv';

/** A page of the site before it is rendered. */
interface PlannedPage {
  file: string;
  heading: string;
  summary: string;
  sections: string[];
}

/**
 * Builds the leaderboard site from results files.
 *
 * The overview page (`index.html`) shows the most accurate method per byte budget and the
 * leaderboard chart. Other pages show the Pareto fronts against bytes and against MACs, and
 * accuracy against compression ratio per method family. Further pages show latency per phase,
 * the curves of an optional `complexity.json`, the tail-user slice and a sortable table of
 * every row. Each method gets a page with its taxonomy from an optional `methods.json`. Each
 * chart is also written as SVG (rendered in Node by vega) and its data as CSV. The browser builds of vega,
 * vega-lite and vega-embed go under `vendor/` with their licences. Every link is relative and
 * the chart data is inline, so the folder works from `file://` with no network. Each file is
 * written atomically, and nothing is written outside `options.site`.
 *
 * @param options - See {@link BuildSiteOptions}.
 * @throws TypeError when an option has the wrong type; RangeError when `results` is empty.
 * @throws Error, SyntaxError or TypeError naming the file and line when a results file is missing or malformed, or naming the file and field when complexity.json or methods.json is malformed.
 * @example
 * const built = await buildSite({ results: ['out/run-1'], site: 'site' });
 * // built.pages[0]: '/abs/site/index.html'
 */
export async function buildSite(options: BuildSiteOptions): Promise<BuildSiteResult> {
  validateOptions(options);
  const logger = options.logger ?? silentLogger;
  const title = options.title ?? DEFAULT_SITE_TITLE;

  // Read every results file, and the optional complexity curves and method catalogue beside them.
  const read = await readResultsFiles(options.results, logger);
  const curves = await readComplexityFiles(read.files);
  const catalogue = await readMethodCatalogue(read.files);

  // Build the leaderboard chart of the overview and report the rows it leaves out. It plots
  // NDCG@10, so CTR rows, whose accuracy is GAUC, go only to the other pages.
  const ctrRows = read.rows.filter((row) => row.task === 'ctr').length;
  const data = leaderboardData(read.rows.filter((row) => row.task !== 'ctr'));
  reportLeftOutRows(data, logger);
  const spec = buildLeaderboardSpec(data.points);
  const altText = leaderboardDescription(data.points.length);
  const chart: PageChart = {
    id: LEADERBOARD_CHART_ID,
    heading: 'Leaderboard',
    altText,
    caption: leaderboardCaption(data, ctrRows),
    spec,
    svgFile: `${LEADERBOARD_CHART_ID}.svg`,
    csvFile: `${LEADERBOARD_CHART_ID}.csv`,
    unplotted: data.unplotted,
  };

  // Build the figures of the other pages and of each method.
  const byStrategy = rowsByStrategy(read.rows);
  const paretoBytes = paretoFigure(read.rows, 'bytes');
  const paretoMacs = paretoFigure(read.rows, 'macs');
  const ratio = ratioFigure(read.rows);
  const latency = latencyFigure(read.rows);
  const tail = tailFigure(read.rows);
  const complexity = curves.length === 0 ? null : complexityFigure(curves);
  const methodFigures = [...byStrategy].map(([strategy, rows]) => {
    const file = methodPageFile(strategy);
    return { strategy, rows, file, figure: methodFigure(file.replace(/\.html$/, ''), strategy, rows) };
  });

  // Plan the pages.
  const overview = bestPerBudget(read.rows);
  const section = (figure: Figure, emptyNote: string): string => renderFigure(figure, `${figure.id}.svg`, `${figure.id}.csv`, emptyNote);
  const tableRows = sortRowsForTable(read.rows);
  const pages: PlannedPage[] = [
    { file: INDEX_FILE, heading: title, summary: summarize(read, data), sections: [renderOverviewTable(overview, OVERVIEW_CSV_FILE), renderChart(chart)] },
    {
      file: 'pareto.html',
      heading: 'Pareto fronts',
      summary: 'Accuracy against the memory and the compute that each run pays, with the non-dominated runs ringed.',
      sections: [section(paretoBytes, 'No successful row records an accuracy and a positive bytesPerUser.'), section(paretoMacs, MACS_MISSING_NOTE)],
    },
    { file: 'ratio.html', heading: 'Compression ratio', summary: 'How accuracy falls as each method family compresses the cache harder.', sections: [section(ratio, 'No successful row records an accuracy and a positive measured compression ratio.')] },
    { file: 'latency.html', heading: 'Latency', summary: 'Median milliseconds of each serving phase.', sections: [section(latency, 'No successful row records a positive median latency.')] },
    ...(complexity === null ? [] : [{ file: 'complexity.html', heading: 'Complexity', summary: 'Cost against history length from complexity.json: analytical curves from malloc bench, or measured ones, as each panel title says.', sections: [section(complexity, '')] }]),
    { file: 'tail.html', heading: 'Tail users', summary: 'Accuracy on the users with the longest histories.', sections: [section(tail, 'No successful row records the tail slice of its accuracy metric.')] },
    { file: 'results.html', heading: 'All results', summary: summarize(read, data), sections: [renderTable(tableRows, TABLE_CSV_FILE)] },
    { file: 'methods.html', heading: 'Methods', summary: 'Every method in the results, with its taxonomy and paper.', sections: [renderMethodList(byStrategy, catalogue)] },
    ...methodFigures.map(({ strategy, rows, file, figure }) => ({
      file,
      heading: `Method: ${strategy}`,
      summary: `${countOf(rows.length, 'row')} of ${strategy}, ${rows.filter((row) => row.ok).length} ok.`,
      sections: [renderTaxonomy(strategy, rows, catalogue.get(strategy)), section(figure, 'No successful row of this method records an accuracy and a positive bytesPerUser.'), renderSettingsTable(rows)],
    })),
  ];
  const nav: NavEntry[] = [
    ...pages.filter((page) => page.file !== 'complexity.html' && !page.file.startsWith('method-')).map((page) => ({ label: page.file === INDEX_FILE ? 'Overview' : page.heading, file: page.file })),
  ];
  nav.splice(4, 0, complexity === null ? { label: 'Complexity', file: null, note: COMPLEXITY_MISSING_NOTE } : { label: 'Complexity', file: 'complexity.html' });
  if (complexity === null) {
    logger.info(COMPLEXITY_MISSING_NOTE);
  }

  // Render the SVG of every chart that has records, without the tooltips that a static file cannot show.
  const figures = [paretoBytes, paretoMacs, ratio, latency, ...(complexity === null ? [] : [complexity]), tail, ...methodFigures.map((method) => method.figure)].filter((figure) => figure.records.length > 0);
  const svgs: { file: string; svg: string }[] = [{ file: chart.svgFile, svg: await renderSvg(staticExportSpec(spec), { title: LEADERBOARD_CHART_TITLE, description: altText, logger }) }];
  for (const figure of figures) {
    svgs.push({ file: `${figure.id}.svg`, svg: await renderSvg(staticExportSpec(figure.spec), { title: figure.title, description: figure.altText, logger }) });
  }

  // Write the files; the pages go last, so they never link to a file not yet written.
  const vendor = await collectVendorAssets();
  const writer = await SiteWriter.open(options.site);
  for (const asset of vendor.assets) {
    await writer.write(asset.path, asset.content);
  }
  await writer.write(STYLE_FILE, SITE_STYLE);
  await writer.write(SCRIPT_FILE, SITE_SCRIPT);
  const svgFiles: string[] = [];
  for (const { file, svg } of svgs) {
    svgFiles.push(await writer.write(file, svg));
  }
  const csvFiles = [await writer.write(chart.csvFile, toCsv(LEADERBOARD_CSV_HEADER, leaderboardCsvRows(data.points)))];
  for (const figure of figures) {
    csvFiles.push(await writer.write(`${figure.id}.csv`, toCsv(figure.csvHeader, figure.csvRows)));
  }
  csvFiles.push(await writer.write(OVERVIEW_CSV_FILE, toCsv(OVERVIEW_CSV_HEADER, overviewCsvRows(overview))));
  csvFiles.push(await writer.write(TABLE_CSV_FILE, toCsv(tableCsvHeader(), tableCsvRows(tableRows))));
  const pageFiles: string[] = [];
  for (const page of pages) {
    const html = renderPage({ title, heading: page.heading, file: page.file, summary: page.summary, nav, filters: filterOptions(read.rows), sections: page.sections, libraries: vendor.libraries, stylesheet: STYLE_FILE, script: SCRIPT_FILE });
    pageFiles.push(await writer.write(page.file, html));
  }

  logger.info(siteBuilt(writer.root, read.rows.length, data.points.length, writer.files.length));
  return {
    pages: pageFiles,
    rows: read.rows.length,
    skippedRows: read.rows.length - data.points.length,
    svgFiles,
    csvFiles,
  };
}

/** Shown in place of the MACs chart when no row records `macsPerRequest`. */
const MACS_MISSING_NOTE =
  'No successful row records an accuracy and a positive macsPerRequest, the multiply-accumulate operations per request, so this chart is empty. The report computes no MACs itself; the runner has to record the field.';

/** Shown in place of the complexity page when no results directory has a complexity.json. */
const COMPLEXITY_MISSING_NOTE = 'No complexity.json beside the results, so the complexity page was skipped. The package README describes the file.';

function filterOptions(rows: readonly ResultRow[]): FilterOptions {
  // An empty value cannot be offered, because the empty option means every value.
  const values = (field: (typeof FILTER_FIELDS)[number]): string[] => uniqueSorted(rows.map((row) => row[field]).filter((value) => value !== ''));
  return { dataset: values('dataset'), model: values('model'), task: values('task'), family: values('family') };
}

function validateOptions(options: BuildSiteOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(invalidArgument('buildSite', 'options', 'an object with results and site', options));
  }
  if (typeof options.site !== 'string' || options.site === '') {
    throw new TypeError(invalidArgument('buildSite', 'options.site', 'a non-empty folder path', options.site));
  }
  if (options.title !== undefined && typeof options.title !== 'string') {
    throw new TypeError(invalidArgument('buildSite', 'options.title', 'a string', options.title));
  }
  if (!Array.isArray(options.results) || options.results.length === 0) {
    throw new RangeError(invalidArgument('buildSite', 'options.results', 'a non-empty array of results directories or results.jsonl paths', options.results));
  }
}

function reportLeftOutRows(data: LeaderboardData, logger: Logger): void {
  if (data.failed.length + data.unplotted.length > 0) {
    logger.warn(rowsLeftOutOfChart(LEADERBOARD_CHART_TITLE, data.failed.length, data.unplotted.length));
  }
  for (const { row, reason } of data.unplotted) {
    logger.debug(unplottableRow(row.file, row.line, reason));
  }
  const strategies = new Set(data.points.map((point) => point.strategy)).size;
  if (strategies > OKABE_ITO.length) {
    logger.warn(moreStrategiesThanColours(strategies, OKABE_ITO.length));
  }
}

function leaderboardCaption(data: LeaderboardData, ctrRows: number): string {
  const leftOut = data.failed.length + data.unplotted.length;
  return [
    'Each point is one successful run: its NDCG@10 (y) against the mean bytes of the stored KV cache per user (x, log scale).',
    'Colour shows the strategy, shape shows the model, and each panel is one dataset.',
    'The dashed step line is the Pareto front of each panel: the highest NDCG@10 measured with at most that many bytes, taken over single runs, so seeds are not averaged.',
    'Rows without a cache (recompute) store only item ids (and their timestamps for HSTU) and pay a full forward pass per request, so they are shown but left out of the front.',
    `${countOf(data.points.length, 'point is', 'points are')} plotted${leftOut > 0 ? `; ${countOf(data.failed.length, 'failed row')} and ${countOf(data.unplotted.length, 'row')} without the needed values are left out` : ''}.`,
    ctrRows === 0 ? '' : `${countOf(ctrRows, 'CTR row is', 'CTR rows are')} shown on the other pages, with GAUC as accuracy.`,
  ]
    .filter((sentence) => sentence !== '')
    .join(' ');
}

function summarize(read: ReadResults, data: LeaderboardData): string {
  const ok = read.rows.filter((row) => row.ok).length;
  const distinct = (values: string[]): string => [...new Set(values)].sort().join(', ') || 'none';
  const runs = new Set(read.rows.map((row) => row.runId)).size;
  return [
    `${countOf(read.rows.length, 'row')} from ${countOf(read.files.length, 'results file')}: ${ok} ok and ${read.rows.length - ok} failed or otherwise not ok; ${data.points.length} plotted.`,
    `Datasets: ${distinct(read.rows.map((row) => row.dataset))}. Models: ${distinct(read.rows.map((row) => row.model))}. Runs: ${runs}.`,
  ].join(' ');
}

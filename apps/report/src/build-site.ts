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
import { PageChart, renderIndexHtml } from './page';
import { renderSvg } from './render-svg';
import { ReadResults, readResultsFiles } from './results';
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
  /** HTML pages: the index page. */
  pages: string[];
  /** Rows read from the results files, whatever their status. */
  rows: number;
  /** Rows left out of the chart: rows whose status is not ok, and ok rows without a finite ndcg@10 or a positive bytesPerUser. */
  skippedRows: number;
  /** SVG exports of the charts, rendered in Node. */
  svgFiles: string[];
  /** CSV files: the data behind each chart, then the full results table. */
  csvFiles: string[];
}

// File names inside the site folder.
const INDEX_FILE = 'index.html';
const STYLE_FILE = 'site.css';
const SCRIPT_FILE = 'site.js';
const TABLE_CSV_FILE = 'results.csv';

/**
 * Builds the leaderboard site from results files.
 *
 * The site contains `index.html` with a chart of NDCG@10 against stored bytes per user and a
 * table of every row. Beside it are the chart as SVG (rendered in Node by vega), the chart's
 * data and the table as CSV, and the browser builds of vega, vega-lite and vega-embed with
 * their licences under `vendor/`. Every link is relative and the chart data is inline, so the
 * folder works from `file://` with no network. Each file is written atomically, and nothing
 * is written outside `options.site`.
 *
 * @param options - See {@link BuildSiteOptions}.
 * @throws TypeError when an option has the wrong type; RangeError when `results` is empty.
 * @throws Error, SyntaxError or TypeError naming the file and line when a results file is missing or malformed.
 * @example
 * const built = await buildSite({ results: ['out/run-1'], site: 'site' });
 * // built.pages: ['/abs/site/index.html']
 */
export async function buildSite(options: BuildSiteOptions): Promise<BuildSiteResult> {
  validateOptions(options);
  const logger = options.logger ?? silentLogger;
  const title = options.title ?? DEFAULT_SITE_TITLE;

  // Read every results file.
  const read = await readResultsFiles(options.results, logger);

  // Build the chart, report the rows it leaves out, and export it as SVG and CSV.
  const data = leaderboardData(read.rows);
  reportLeftOutRows(data, logger);
  const spec = buildLeaderboardSpec(data.points);
  const altText = leaderboardDescription(data.points.length);
  const svg = await renderSvg(spec, { title: LEADERBOARD_CHART_TITLE, description: altText, logger });
  const chart: PageChart = {
    id: LEADERBOARD_CHART_ID,
    heading: 'Leaderboard',
    altText,
    caption: leaderboardCaption(data),
    spec,
    svgFile: `${LEADERBOARD_CHART_ID}.svg`,
    csvFile: `${LEADERBOARD_CHART_ID}.csv`,
    unplotted: data.unplotted,
  };

  // Build the table and the page.
  const tableRows = sortRowsForTable(read.rows);
  const vendor = await collectVendorAssets();
  const html = renderIndexHtml({
    title,
    summary: summarize(read, data),
    charts: [chart],
    rows: tableRows,
    tableCsvFile: TABLE_CSV_FILE,
    libraries: vendor.libraries,
    stylesheet: STYLE_FILE,
    script: SCRIPT_FILE,
  });

  // Write the files; the page goes last, so it never links to a file not yet written.
  const writer = await SiteWriter.open(options.site);
  for (const asset of vendor.assets) {
    await writer.write(asset.path, asset.content);
  }
  await writer.write(STYLE_FILE, SITE_STYLE);
  await writer.write(SCRIPT_FILE, SITE_SCRIPT);
  const svgFile = await writer.write(chart.svgFile, svg);
  const chartCsvFile = await writer.write(chart.csvFile, toCsv(LEADERBOARD_CSV_HEADER, leaderboardCsvRows(data.points)));
  const tableCsvFile = await writer.write(TABLE_CSV_FILE, toCsv(tableCsvHeader(), tableCsvRows(tableRows)));
  const indexFile = await writer.write(INDEX_FILE, html);

  logger.info(siteBuilt(writer.root, read.rows.length, data.points.length, writer.files.length));
  return {
    pages: [indexFile],
    rows: read.rows.length,
    skippedRows: data.failed.length + data.unplotted.length,
    svgFiles: [svgFile],
    csvFiles: [chartCsvFile, tableCsvFile],
  };
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

function leaderboardCaption(data: LeaderboardData): string {
  const leftOut = data.failed.length + data.unplotted.length;
  return [
    'Each point is one successful run: its NDCG@10 (y) against the mean bytes of the stored KV cache per user (x, log scale).',
    'Colour shows the strategy, shape shows the model, and each panel is one dataset.',
    'The dashed step line is the Pareto front of each panel: the highest NDCG@10 measured with at most that many bytes, taken over single runs, so seeds are not averaged.',
    'Rows without a cache (recompute) store only item ids and pay a full forward pass per request, so they are shown but left out of the front.',
    `${countOf(data.points.length, 'point is', 'points are')} plotted${leftOut > 0 ? `; ${countOf(data.failed.length, 'failed row')} and ${countOf(data.unplotted.length, 'row')} without the needed values are left out` : ''}.`,
  ].join(' ');
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

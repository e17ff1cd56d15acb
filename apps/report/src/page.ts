import type { UnplottedRow, VegaLiteSpec } from './chart';
import { escapeHtml, serializeJsonForHtml } from './escape';
import { countOf } from './messages';
import type { ResultRow } from './results';
import { sourceLabel, TABLE_COLUMNS } from './table';
import type { VendoredLibrary } from './vendor';

/**
 * Content Security Policy of the page. Scripts and styles come only from the site folder
 * (vega-embed adds inline styles, hence `'unsafe-inline'` for styles only), images from the
 * folder or `data:` URLs, and nothing may be fetched or submitted. No `'unsafe-eval'`,
 * because vega runs with its expression interpreter.
 *
 * NOTE: `file:` is listed beside `'self'` because a page opened from the file system has an
 * opaque origin, and browsers differ on whether `'self'` then matches other files. The page
 * was tested in Chromium only. A page served over HTTP cannot load `file:` URLs in current
 * browsers, so the entry adds nothing online.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self' file:",
  "style-src 'self' file: 'unsafe-inline'",
  "img-src 'self' file: data:",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** One chart of the page. */
export interface PageChart {
  /** Element id; also the base name of the chart's SVG and CSV files. */
  id: string;
  /** Heading of the chart's section; the chart draws its own title. */
  heading: string;
  /** Alt text: one sentence that describes what the chart shows. */
  altText: string;
  /** Caption below the chart, in plain text. */
  caption: string;
  spec: VegaLiteSpec;
  /** Site-relative path of the SVG export. */
  svgFile: string;
  /** Site-relative path of the CSV of the chart's data. */
  csvFile: string;
  /** Ok rows that the chart leaves out, with the reason. */
  unplotted: readonly UnplottedRow[];
}

/** Everything the index page shows. */
export interface PageModel {
  title: string;
  /** Sentence at the top of the page that counts the rows. */
  summary: string;
  charts: readonly PageChart[];
  /** Every row, in table order. */
  rows: readonly ResultRow[];
  /** Site-relative path of the CSV of the table. */
  tableCsvFile: string;
  libraries: readonly VendoredLibrary[];
  /** Site-relative paths of the page's own style sheet and script. */
  stylesheet: string;
  script: string;
}

/**
 * Renders the index page. Every string that comes from results is escaped, chart specs are
 * embedded as JSON that cannot close their `<script>` element, and every link is relative,
 * so the page works from a web server and from `file://`.
 */
export function renderIndexHtml(model: PageModel): string {
  const scripts = [...model.libraries.map((library) => library.script), model.script];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(model.title)}</title>`,
    `<link rel="stylesheet" href="${escapeHtml(model.stylesheet)}">`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${escapeHtml(model.title)}</h1>`,
    `<p class="summary">${escapeHtml(model.summary)}</p>`,
    '</header>',
    '<main>',
    ...model.charts.map(renderChart),
    renderTable(model.rows, model.tableCsvFile),
    '</main>',
    renderFooter(model.libraries),
    ...scripts.map((script) => `<script src="${escapeHtml(script)}"></script>`),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function renderChart(chart: PageChart): string {
  const id = escapeHtml(chart.id);
  const leftOut =
    chart.unplotted.length === 0
      ? ''
      : [
          `<p class="left-out">${countOf(chart.unplotted.length, 'successful row is', 'successful rows are')} not plotted:</p>`,
          '<ul class="left-out">',
          ...chart.unplotted.map(
            ({ row, reason }) =>
              `<li>${escapeHtml(`${row.strategy} ${row.setting}`.trim())} on ${escapeHtml(row.model)}, ${escapeHtml(row.dataset)} (${escapeHtml(sourceLabel(row))}): ${escapeHtml(reason)}</li>`,
          ),
          '</ul>',
        ].join('\n');

  return [
    `<section aria-labelledby="${id}-heading">`,
    `<h2 id="${id}-heading">${escapeHtml(chart.heading)}</h2>`,
    `<figure class="chart" aria-labelledby="${id}-caption">`,
    `<div id="${id}" class="chart-view" role="group" aria-label="${escapeHtml(chart.altText)}" data-state="pending"></div>`,
    `<noscript><img src="${escapeHtml(chart.svgFile)}" alt="${escapeHtml(chart.altText)}"></noscript>`,
    `<figcaption id="${id}-caption">${escapeHtml(chart.caption)} Download the chart as <a href="${escapeHtml(chart.svgFile)}">SVG</a> and its data as <a href="${escapeHtml(chart.csvFile)}">CSV</a>.</figcaption>`,
    '</figure>',
    leftOut,
    `<script type="application/json" data-chart-for="${id}">${serializeJsonForHtml(chart.spec)}</script>`,
    '</section>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

function renderTable(rows: readonly ResultRow[], csvFile: string): string {
  const header = TABLE_COLUMNS.map((column) => `<th scope="col">${escapeHtml(column.header)}</th>`).join('');
  const body = rows.map((row) => {
    const cells = TABLE_COLUMNS.map((column) => {
      const text = escapeHtml(column.text(row));
      if (column.csvHeader === 'status' && !row.ok && row.error !== '') {
        return `<td>${text}<span class="error">${escapeHtml(row.error)}</span></td>`;
      }
      if (!column.numeric) {
        return `<td>${text}</td>`;
      }
      const exact = column.value(row);
      const title = exact === null || exact === undefined ? '' : ` title="${escapeHtml(String(exact))}"`;
      return `<td class="number"${title}>${text}</td>`;
    });
    return `<tr class="${row.ok ? 'ok' : 'failed'}">${cells.join('')}</tr>`;
  });

  return [
    '<section aria-labelledby="results-heading">',
    '<h2 id="results-heading">All results</h2>',
    `<p id="results-note">Every row of the results files, sorted by dataset, then NDCG@10. Failed rows are kept and show their error. Metrics are rounded to 4 decimals. Hover a number for its exact value, or download the table as <a href="${escapeHtml(csvFile)}">CSV</a>.</p>`,
    '<div class="table-scroll" role="region" aria-labelledby="results-heading" tabindex="0">',
    '<table id="results" aria-describedby="results-note">',
    '<caption>Results of every run</caption>',
    `<thead><tr>${header}</tr></thead>`,
    '<tbody>',
    ...body,
    '</tbody>',
    '</table>',
    '</div>',
    '</section>',
  ].join('\n');
}

function renderFooter(libraries: readonly VendoredLibrary[]): string {
  const credits = libraries.map(
    (library) => `${escapeHtml(library.name)} ${escapeHtml(library.version)} (${escapeHtml(library.license)}, <a href="${escapeHtml(library.licenseFile)}">licence</a>)`,
  );
  return `<footer><p>Charts drawn with ${credits.join(', ')}, copied into this folder so the page needs no network.</p></footer>`;
}
